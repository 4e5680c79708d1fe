package dev.ufork.perf.forkbench;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runner end to end, in this JVM, at the smallest settings: the shape of what it prints, never its timings.
 */
class ForkBenchRunTest
{
    private static final class Run
    {
        final int status;
        final List<String> out;
        final String err;

        Run(final String... args)
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            this.status = ForkBench.run(args, ForkBenchOptionsTest.print(out), ForkBenchOptionsTest.print(err));
            this.out = List.of(out.toString(StandardCharsets.UTF_8).split("\n"));
            this.err = err.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void csvHasOneWellFormedRowPerMode()
    {
        final Run run = new Run("--sizes", "64K", "--modes", "copa,coa,copy", "--forks", "3", "--warmup", "1",
            "--format", "csv");
        assertEquals(0, run.status, run.err);
        assertEquals(ForkBenchReport.CSV_HEADER, run.out.get(0));
        assertEquals(List.of("65536,copa", "65536,coa", "65536,copy"),
            run.out.subList(1, run.out.size()).stream().map(l -> l.substring(0, l.indexOf(',', l.indexOf(',') + 1)))
                .toList(), String.join("\n", run.out));
        for (final String row : run.out.subList(1, run.out.size()))
        {
            final String[] cells = row.split(",", -1);
            assertEquals(6, cells.length, row);
            assertEquals("3", cells[2], row);
            assertTrue(Double.parseDouble(cells[3]) >= 0, row);
            assertTrue(Double.parseDouble(cells[4]) >= Double.parseDouble(cells[3]), "p99 ≥ median: " + row);
            final long privateBytes = Long.parseLong(cells[5]);
            assertTrue(privateBytes > 0 && privateBytes % 4096 == 0, "whole pages: " + row);
        }
        final long copa = Long.parseLong(run.out.get(1).split(",")[5]);
        final long copy = Long.parseLong(run.out.get(3).split(",")[5]);
        assertTrue(copa < copy, "copa copies less than copy at the fork: " + copa + " vs " + copy);
        assertTrue(run.err.contains("minimal forked µprocess"), run.err);
        assertTrue(run.err.contains("64K: filled in"), run.err);
    }

    @Test
    void touchAndTableWork()
    {
        final Run run = new Run("--sizes", "64K", "--modes", "copa", "--forks", "2", "--warmup", "0", "--touch");
        assertEquals(0, run.status, run.err);
        assertTrue(run.out.get(0).contains("(--touch)"), run.out.get(0));
        assertTrue(run.out.stream().anyMatch(l -> l.startsWith("64K   copa")), String.join("\n", run.out));
        assertTrue(run.out.stream().anyMatch(l -> l.startsWith("minimal forked µprocess")), String.join("\n", run.out));
    }

    @Test
    void linuxBaselineGivesItsRowWhenACompilerIsThere()
    {
        final LinuxForkBaseline probe = LinuxForkBaseline.build(ForkBenchOptionsTest.print(new ByteArrayOutputStream()));
        Assumptions.assumeTrue(probe != null, "no C compiler or source: the linux rows are skipped, as documented");
        probe.close();
        final Run run = new Run("--sizes", "64K", "--modes", "linux", "--forks", "3", "--warmup", "1", "--format",
            "csv");
        assertEquals(0, run.status, run.err);
        assertEquals(2, run.out.size(), String.join("\n", run.out));
        assertTrue(run.out.get(1).startsWith("65536,linux,3,"), run.out.get(1));
    }
}
