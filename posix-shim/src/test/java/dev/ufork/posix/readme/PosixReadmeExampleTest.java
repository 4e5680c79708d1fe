package dev.ufork.posix.readme;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the README's fork example true: extracts the block marked {@code readme-example-fork} from README.md,
 * compiles it with {@code -Xlint:all -Werror}, runs it in a JVM of its own and checks what it prints.
 */
class PosixReadmeExampleTest
{
    private static final String MARKER = "<!-- readme-example-fork:";

    @Test
    void theForkExampleCompilesRunsAndPrintsWhatTheReadmeSays(@TempDir final Path tmp) throws Exception
    {
        Path dir = Path.of(System.getProperty("ufork.project.root", "")).toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("README.md")))
        {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "README.md not found");
        final String readme = Files.readString(dir.resolve("README.md"));
        final int marker = readme.indexOf(MARKER);
        assertTrue(marker >= 0, "README has no " + MARKER + " marker");
        final int start = readme.indexOf("```java\n", marker);
        final int end = readme.indexOf("```", start + 8);
        assertTrue(start > 0 && end > start, "no ```java block after the marker");
        final Path work = Files.createTempDirectory(tmp, "ufork-readme-fork");
        Files.writeString(work.resolve("ForkExample.java"), readme.substring(start + 8, end));
        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        final ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        final int rc = javac.run(null, diagnostics, diagnostics, "-Xlint:all", "-Werror", "-d", work.toString(),
            "-cp", System.getProperty("java.class.path"), work.resolve("ForkExample.java").toString());
        assertEquals(0, rc, "README fork example does not compile:\n" + diagnostics.toString(StandardCharsets.UTF_8));
        // The example makes its root with Files.createTempDirectory and leaves it; run it in a JVM of its own (with
        // this one's module and access flags) whose temporary directory is the test's, so that JUnit deletes it.
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream().filter(a -> a.startsWith("--"))
            .forEach(command::add);
        command.addAll(List.of("-Djava.io.tmpdir=" + tmp, "-cp",
            work + File.pathSeparator + System.getProperty("java.class.path"), "ForkExample"));
        final Path errors = tmp.resolve("stderr");
        final Process example = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        final String out = new String(example.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, example.waitFor(), "README fork example failed:\n" + out + Files.readString(errors));
        assertEquals(List.of("child: 42, in its own area: true", "parent: child exited 7, my node holds 42",
            "done: 0"), out.lines().toList());
    }
}
