package dev.ufork.capability.readme;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
 * Keeps the README's embedding example true: extracts the marked Java block from README.md, compiles it against
 * the current classes with {@code -Xlint:all -Werror}, runs it and checks what it prints.
 */
class ReadmeExampleTest
{
    private static final String MARKER = "<!-- readme-example:";

    private static Path readme()
    {
        Path dir = Path.of(System.getProperty("ufork.project.root", "")).toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("README.md")))
        {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "README.md not found");
        return dir.resolve("README.md");
    }

    static String exampleSource(final String readme)
    {
        final int marker = readme.indexOf(MARKER);
        assertTrue(marker >= 0, "README has no " + MARKER + " marker");
        final int start = readme.indexOf("```java\n", marker);
        final int end = readme.indexOf("```", start + 8);
        assertTrue(start > 0 && end > start, "no ```java block after the marker");
        return readme.substring(start + 8, end);
    }

    @Test
    void shouldCompileAndRunTheEmbeddingExample(@TempDir final Path tmp) throws Exception
    {
        final String source = exampleSource(Files.readString(readme()));
        final Path dir = Files.createTempDirectory(tmp, "ufork-readme");
        Files.writeString(dir.resolve("Example.java"), source);

        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        final ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        final int rc = javac.run(null, diagnostics, diagnostics, "-Xlint:all", "-Werror", "-d", dir.toString(),
            "-cp", System.getProperty("java.class.path"), dir.resolve("Example.java").toString());
        assertEquals(0, rc, "README example does not compile:\n" + diagnostics.toString(StandardCharsets.UTF_8));

        final PrintStream original = System.out;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
            ReadmeExampleTest.class.getClassLoader()))
        {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            loader.loadClass("Example").getMethod("main", String[].class).invoke(null, (Object)new String[0]);
        }
        finally
        {
            System.setOut(original);
        }
        assertEquals(List.of("42", "false", "LENGTH"), out.toString(StandardCharsets.UTF_8).lines().toList());
    }
}
