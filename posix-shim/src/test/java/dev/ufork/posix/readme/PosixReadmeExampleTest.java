package dev.ufork.posix.readme;

import org.junit.jupiter.api.Test;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the README's fork example true: extracts the block marked {@code readme-example-fork} from README.md,
 * compiles it with {@code -Xlint:all -Werror}, runs it and checks what it prints.
 */
class PosixReadmeExampleTest
{
    private static final String MARKER = "<!-- readme-example-fork:";

    @Test
    void theForkExampleCompilesRunsAndPrintsWhatTheReadmeSays() throws Exception
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
        final Path work = Files.createTempDirectory("ufork-readme-fork");
        Files.writeString(work.resolve("ForkExample.java"), readme.substring(start + 8, end));
        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        final ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        final int rc = javac.run(null, diagnostics, diagnostics, "-Xlint:all", "-Werror", "-d", work.toString(),
            "-cp", System.getProperty("java.class.path"), work.resolve("ForkExample.java").toString());
        assertEquals(0, rc, "README fork example does not compile:\n" + diagnostics.toString(StandardCharsets.UTF_8));
        final PrintStream original = System.out;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {work.toUri().toURL()},
            PosixReadmeExampleTest.class.getClassLoader()))
        {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            loader.loadClass("ForkExample").getMethod("main", String[].class).invoke(null, (Object)new String[0]);
        }
        finally
        {
            System.setOut(original);
        }
        assertEquals(List.of("child: 42, in its own area: true", "parent: child exited 7, my node holds 42",
            "done: 0"), out.toString(StandardCharsets.UTF_8).lines().toList());
    }
}
