package dev.ufork.apps;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Finding a C compiler, building, running and reading a C program, and what happens when there is no compiler. */
class NativeBaselineTest
{
    /** An environment in which no compiler can be found. */
    static final Map<String, String> NO_COMPILER = Map.of("CC", "/nonexistent/cc", "PATH", "/nonexistent");
    private static final String SPAWN_SOURCE = "dev/ufork/apps/native/spawn.c";

    /** Skips a test that needs a C compiler on a machine without one (CI installs gcc). */
    static void assumeCompiler()
    {
        try
        {
            NativeBaseline.findCompiler(System.getenv());
        }
        catch (final NativeBaseline.UnavailableException e)
        {
            assumeTrue(false, "no C compiler on this machine: " + e.getMessage());
        }
    }

    @Test
    void withoutACompilerTheBuildSaysWhyAndDoesNotFail()
    {
        final NativeBaseline.UnavailableException e = assertThrows(NativeBaseline.UnavailableException.class,
            () -> NativeBaseline.build(NativeBaselineTest.class, SPAWN_SOURCE, NO_COMPILER));
        assertEquals("no C compiler found: $CC (/nonexistent/cc) is not an executable; no cc or gcc on PATH",
            e.getMessage());
        final NativeBaseline.UnavailableException unset = assertThrows(NativeBaseline.UnavailableException.class,
            () -> NativeBaseline.findCompiler(Map.of()));
        assertEquals("no C compiler found: no cc or gcc on PATH", unset.getMessage());
    }

    @Test
    void findsCcOnThePathAndKeepsTheFlagsOfCc(@TempDir final Path dir) throws Exception
    {
        final Path cc = fakeExecutable(dir, "cc");
        final Path gcc = fakeExecutable(dir, "gcc");
        assertEquals(List.of(cc.toString()), NativeBaseline.findCompiler(Map.of("PATH", "/nonexistent:" + dir)));
        assertEquals(List.of(cc.toString()), NativeBaseline.findCompiler(Map.of("PATH", dir.toString(),
            "CC", "/nonexistent/cc")));
        assertEquals(List.of(gcc.toString(), "-m64", "-Wall"), NativeBaseline.findCompiler(Map.of("PATH",
            dir.toString(), "CC", " gcc -m64  -Wall ")));
        assertEquals(List.of(gcc.toString()), NativeBaseline.findCompiler(Map.of("CC", gcc.toString())));
        Files.delete(cc);
        assertEquals(List.of(gcc.toString()), NativeBaseline.findCompiler(Map.of("PATH", dir.toString())));
    }

    private static Path fakeExecutable(final Path dir, final String name) throws IOException
    {
        final Path file = Files.writeString(dir.resolve(name), "#!/bin/sh\nexit 1\n");
        assertTrue(file.toFile().setExecutable(true));
        return file.toAbsolutePath();
    }

    @Test
    void buildsRunsAndReadsKeyValueOutput(@TempDir final Path dir) throws Exception
    {
        assumeCompiler();
        final Path source = Files.writeString(dir.resolve("hello.c"), """
            #include <stdio.h>
            #include <stdlib.h>
            int main(int argc, char **argv)
            {
                if (argc > 1 && argv[1][0] == 'x') { fprintf(stderr, "told to fail\\n"); return 3; }
                printf("ops %d\\n\\nrate %.1f\\n", argc, 2.5);
                return 0;
            }
            """);
        try (NativeBaseline hello = NativeBaseline.build(source, System.getenv()))
        {
            assertEquals("hello", hello.name());
            final NativeBaseline.Output output = hello.run("a", "b");
            assertEquals(List.of("ops 3", "rate 2.5"), output.lines());
            assertEquals(Map.of("ops", "3", "rate", "2.5"), output.keyValues());
            assertEquals(2.5, output.number("rate"));
            final IllegalStateException failed = assertThrows(IllegalStateException.class, () -> hello.run("x"));
            assertTrue(failed.getMessage().contains("hello x exited with status 3: told to fail"),
                failed.getMessage());
            assertThrows(IllegalStateException.class, () -> output.number("missing"));
        }
    }

    @Test
    void aProgramThatDoesNotCompileIsUnavailableWithTheCompilersFirstLine(@TempDir final Path dir) throws IOException
    {
        assumeCompiler();
        final Path source = Files.writeString(dir.resolve("broken.c"), "int main(void) { return undeclared; }\n");
        final NativeBaseline.UnavailableException e = assertThrows(NativeBaseline.UnavailableException.class,
            () -> NativeBaseline.build(source, System.getenv()));
        assertTrue(e.getMessage().contains("-O2 broken.c failed (exit status"), e.getMessage());
    }

    @Test
    void closingRemovesTheTemporaryDirectoryAndRefusesFurtherRuns() throws Exception
    {
        assumeCompiler();
        final NativeBaseline spawn = NativeBaseline.build(NativeBaselineTest.class, SPAWN_SOURCE,
            System.getenv());
        final NativeBaseline.Output output = spawn.run("0", "3", "0", "0");
        assertEquals(3, output.number("ops"));
        assertTrue(output.number("ops_per_sec") > 0);
        assertTrue(output.number("fork_us_median") > 0);
        final Path binary = spawn.binary();
        assertTrue(Files.isExecutable(binary));
        spawn.close();
        spawn.close();
        assertFalse(Files.exists(binary.getParent()), "the temporary directory is left: " + binary.getParent());
        assertThrows(IllegalStateException.class, () -> spawn.run("0", "1", "0", "0"));
    }

    @Test
    void malformedOutputIsReportedWithTheLine()
    {
        final IllegalStateException notPair = assertThrows(IllegalStateException.class,
            () -> new NativeBaseline.Output(List.of("ops 1", "oops")).keyValues());
        assertEquals("expected 'key value', got 'oops'", notPair.getMessage());
        final IllegalStateException twice = assertThrows(IllegalStateException.class,
            () -> new NativeBaseline.Output(List.of("ops 1", "ops 2")).keyValues());
        assertEquals("'ops' printed twice", twice.getMessage());
        final IllegalStateException notNumber = assertThrows(IllegalStateException.class,
            () -> new NativeBaseline.Output(List.of("ops many")).number("ops"));
        assertEquals("'ops' is not a number: 'many'", notNumber.getMessage());
    }
}
