package dev.ufork.apps;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quick end-to-end runs of {@code bench spawn}, {@code bench pipe} and {@code demo} with tiny sizes: the output's
 * shape, not its numbers (speed belongs to the benchmarks).
 */
class CommandRunTest
{
    private static final Pattern ROW = Pattern.compile("(spawn|pipe),(ufork|linux),(\\d+),(\\d+\\.\\d)");

    private static boolean compilerAvailable()
    {
        try
        {
            NativeBaseline.findCompiler(System.getenv());
            return true;
        }
        catch (final NativeBaseline.UnavailableException e)
        {
            return false;
        }
    }

    /** Checks the CSV and returns its rows' systems. */
    private static List<String> csvSystems(final MainTest.Run run, final String benchmark, final long ops)
    {
        assertEquals(0, run.status(), run.err());
        final List<String> lines = run.out().lines().toList();
        assertEquals(Measurement.CSV_HEADER, lines.getFirst(), run.out());
        return lines.subList(1, lines.size()).stream().map(line ->
        {
            final var m = ROW.matcher(line);
            assertTrue(m.matches(), "not a CSV row: " + line);
            assertEquals(benchmark, m.group(1), line);
            assertEquals(ops, Long.parseLong(m.group(3)), line);
            assertTrue(Double.parseDouble(m.group(4)) > 0, line);
            return m.group(2);
        }).toList();
    }

    @Test
    void benchSpawnPrintsOneCsvRowPerSystem()
    {
        final MainTest.Run run = MainTest.run("bench", "spawn", "--ops", "200", "--warmup", "0");
        assertEquals(compilerAvailable() ? List.of("ufork", "linux") : List.of("ufork"),
            csvSystems(run, "spawn", 200));
    }

    @Test
    void benchPipePrintsOneCsvRowPerSystem()
    {
        final MainTest.Run run = MainTest.run("bench", "pipe", "--ops", "300", "--warmup", "0");
        assertEquals(compilerAvailable() ? List.of("ufork", "linux") : List.of("ufork"),
            csvSystems(run, "pipe", 300));
    }

    @Test
    void benchWithoutACompilerPrintsTheUforkRowAndSaysWhy()
    {
        final MainTest.Run run = MainTest.run(NativeBaselineTest.NO_COMPILER, "bench", "spawn", "--ops", "50",
            "--warmup", "0", "--mode", "copy");
        assertEquals(List.of("ufork"), csvSystems(run, "spawn", 50));
        assertTrue(run.err().contains("ufork bench spawn: no linux row: no C compiler found"), run.err());
        final MainTest.Run noLinux = MainTest.run("bench", "pipe", "--ops", "20", "--warmup", "0", "--no-linux");
        assertEquals(List.of("ufork"), csvSystems(noLinux, "pipe", 20));
    }

    @Test
    void demoPrintsEveryRowAndVerifiesTheMapInEveryCopyMode()
    {
        final MainTest.Run run = MainTest.run("demo", "--entries", "2000", "--ops", "200", "--warmup", "0",
            "--latency-forks", "1", "--linux-forks", "5");
        assertEquals(0, run.status(), run.out() + run.err());
        final String out = run.out();
        for (final String expected : List.of("1. Fork a pointer-rich µprocess", "hash map of 2,000 entries",
            "Every child found all 2,000 entries intact.", "2. Pipe ping-pong", "3. fork + exit + wait", "Done in "))
        {
            assertTrue(out.contains(expected), "missing '" + expected + "' in:\n" + out);
        }
        for (final String mode : List.of("COPY", "COA", "COPA", "Linux fork()"))
        {
            assertTrue(out.lines().anyMatch(l -> l.stripLeading().startsWith(mode + " ")), mode + " row in:\n" + out);
        }
        final long uforkRows = out.lines().filter(l -> l.matches("\\s+ufork\\s+200\\s+.*")).count();
        final long linuxRows = out.lines().filter(l -> l.matches("\\s+linux\\s+(200\\s+.*|n/a)")).count();
        assertEquals(2, uforkRows, out);
        assertEquals(2, linuxRows, out);
        if (compilerAvailable())
        {
            assertTrue(out.contains("Linux fork(): a C process with"), out);
            assertEquals(2, out.lines().filter(l -> l.contains("x Linux's rate.") || l.contains("x ufork's rate."))
                .count(), out);
        }
    }

    @Test
    void demoWithoutACompilerSaysSoAndShowsUforkOnly()
    {
        final MainTest.Run run = MainTest.run(NativeBaselineTest.NO_COMPILER, "demo", "--entries", "500", "--ops",
            "50", "--warmup", "0", "--latency-forks", "0");
        assertEquals(0, run.status(), run.out() + run.err());
        final String out = run.out();
        assertTrue(out.contains("Linux baselines: not measured (no C compiler found: $CC (/nonexistent/cc) is not an "
            + "executable; no cc or gcc on PATH); ufork only."), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+Linux fork\\(\\)\\s+n/a")), out);
        assertEquals(2, out.lines().filter(l -> l.matches("\\s+linux\\s+n/a")).count(), out);
        assertEquals(2, out.lines().filter(l -> l.contains("Linux not measured (no C compiler found")).count(), out);
        assertTrue(out.contains("Every child found all 500 entries intact."), out);
    }
}
