package dev.ufork.perf.forkbench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's CSV is exactly the format; the table carries the ratios. */
class ForkBenchReportTest
{
    private static ForkBenchReport sample()
    {
        final ForkBenchReport report = new ForkBenchReport(false);
        final long[] sizes = {64 << 10, 1 << 20};
        for (final long size : sizes)
        {
            for (final ForkMode mode : ForkMode.values())
            {
                final double base = mode == ForkMode.LINUX ? 100 : 2 + mode.ordinal();
                report.add(new ForkBenchReport.Row(size, mode, Latencies.of(new double[] {base, base * 1.5, base}),
                    mode == ForkMode.LINUX ? -1 : 4096L * (1 + mode.ordinal())));
            }
        }
        return report;
    }

    private static List<String> lines(final String text)
    {
        return List.of(text.split("\n"));
    }

    @Test
    void csvHasTheExactHeaderAndOneRowPerSizeAndMode()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        sample().printCsv(ForkBenchOptionsTest.print(bytes));
        final List<String> lines = lines(bytes.toString(StandardCharsets.UTF_8));
        assertEquals("size_bytes,mode,forks,median_us,p99_us,child_private_bytes", lines.get(0));
        assertEquals(1 + 2 * ForkMode.values().length, lines.size());
        assertEquals("65536,copy,3,2.00,3.00,4096", lines.get(1));
        assertEquals("65536,coa,3,3.00,4.50,8192", lines.get(2));
        assertEquals("65536,linux,3,100.00,150.00,", lines.get(4), "unknown private bytes are empty");
        assertEquals("1048576,copa,3,4.00,6.00,12288", lines.get(7));
        for (final String line : lines.subList(1, lines.size()))
        {
            assertEquals(6, line.split(",", -1).length, line);
        }
    }

    @Test
    void emptyReportIsJustTheHeader()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new ForkBenchReport(true).printCsv(ForkBenchOptionsTest.print(bytes));
        assertEquals(ForkBenchReport.CSV_HEADER + "\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void tableShowsRatiosToLinuxAndToCopaAt1M()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        sample().printTable(ForkBenchOptionsTest.print(bytes));
        final String text = bytes.toString(StandardCharsets.UTF_8);
        final String copa64k = lines(text).stream().filter(l -> l.startsWith("64K   copa")).findFirst().orElseThrow();
        assertTrue(copa64k.contains("0.040x"), copa64k);
        assertTrue(copa64k.endsWith("1.00x"), copa64k);
        assertTrue(text.contains("vs linux:"), text);
    }

    @Test
    void latenciesTakeTheMiddleAndTheNearestRank()
    {
        assertEquals(new Latencies(3, 2, 3), Latencies.of(new double[] {3, 1, 2}));
        assertEquals(2.5, Latencies.of(new double[] {4, 1, 2, 3}).medianUs());
        final double[] hundred = new double[100];
        for (int i = 0; i < hundred.length; i++)
        {
            hundred[i] = 100 - i;
        }
        assertEquals(99, Latencies.of(hundred).p99Us());
        assertEquals(2, Latencies.medianOf(new long[] {3, 1, 2, 4}));
        assertEquals(-1, Latencies.medianOf(new long[0]));
    }
}
