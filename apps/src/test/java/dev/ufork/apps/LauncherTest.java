package dev.ufork.apps;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ufork} launcher's own checks, each of which stops it before it builds or runs anything: a missing JDK
 * 25 says what to install, a bad scheduling policy is refused, and {@code help} lists the commands with the
 * environment they read.
 */
class LauncherTest
{
    private static final Path LAUNCHER = Path.of("..", "ufork").toAbsolutePath().normalize();

    /** Output and exit status of one launcher run. */
    private record Run(int status, String output)
    {
    }

    private static Run launch(final Map<String, String> env, final String... args)
        throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of("bash", LAUNCHER.toString()));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        final Process process = builder.start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish");
        return new Run(process.exitValue(), output);
    }

    @Test
    void saysWhatToInstallWhenNoJdk25IsFound(@TempDir final Path empty) throws Exception
    {
        final Run run = launch(Map.of("JAVA_HOME", empty.toString(), "UFORK_JVM_DIRS", empty + "/*"), "help");
        assertEquals(1, run.status(), run.output());
        assertTrue(run.output().contains("no JDK 25 or newer found"), run.output());
        assertTrue(run.output().contains("JAVA_HOME=/path/to/jdk-25 ./ufork"), run.output());
    }

    @Test
    void refusesAnUnknownSchedulingPolicyBeforeRunningAnything() throws Exception
    {
        final Run run = launch(Map.of("UFORK_SCHED", "fifo"), "kv", "--port", "0");
        assertEquals(1, run.status(), run.output());
        assertTrue(run.output().contains("UFORK_SCHED must be batch or normal, not 'fifo'"), run.output());
        assertTrue(!run.output().contains("building"), "nothing is built first: " + run.output());
    }

    @Test
    void helpListsTheCommandsAndTheEnvironment() throws Exception
    {
        final Run run = launch(Map.of(), "help");
        assertEquals(0, run.status(), run.output());
        for (final String expected : List.of("kv [ARGS]", "bench kv [ARGS]", "--random-keys", "UFORK_SCHED",
            "UFORK_JAVA_OPTS", "JAVA_HOME"))
        {
            assertTrue(run.output().contains(expected), expected + " missing from:\n" + run.output());
        }
        assertTrue(Files.isExecutable(LAUNCHER), LAUNCHER + " is executable");
    }
}
