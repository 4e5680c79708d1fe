package dev.ufork.perf.forkbench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The results of one fork benchmark run, one row per size and mode, printed as CSV or as a table with ratios.
 * <p>
 * Thread safety: not thread-safe; filled and printed by the main thread.
 */
final class ForkBenchReport
{
    /** The CSV header, exactly as the issue fixes it. */
    static final String CSV_HEADER = "size_bytes,mode,forks,median_us,p99_us,child_private_bytes";

    /**
     * One measured size and mode.
     *
     * @param sizeBytes         bytes the process held.
     * @param mode              what was measured.
     * @param latencies         the measured forks' latencies.
     * @param childPrivateBytes the child's private bytes after the fork (and its writes with --touch), or −1 if
     *                          unknown.
     */
    record Row(long sizeBytes, ForkMode mode, Latencies latencies, long childPrivateBytes)
    {
    }

    private final boolean touch;
    private final List<Row> rows = new ArrayList<>();

    /** @param touch whether the children wrote every page (changes what the latency means). */
    ForkBenchReport(final boolean touch)
    {
        this.touch = touch;
    }

    /** @param row a result; rows print in the order added. */
    void add(final Row row)
    {
        rows.add(row);
    }

    /** @return the rows so far. */
    List<Row> rows()
    {
        return List.copyOf(rows);
    }

    /** @param out where to print the header and one line per row. */
    void printCsv(final PrintStream out)
    {
        out.println(CSV_HEADER);
        for (final Row row : rows)
        {
            out.println(String.format(Locale.ROOT, "%d,%s,%d,%.2f,%.2f,%s", row.sizeBytes(), row.mode().label(),
                row.latencies().count(), row.latencies().medianUs(), row.latencies().p99Us(),
                row.childPrivateBytes() < 0 ? "" : Long.toString(row.childPrivateBytes())));
        }
        out.flush();
    }

    /** @param out where to print an aligned table with the ratios and a legend. */
    void printTable(final PrintStream out)
    {
        final String[] header = {"size", "mode", "forks", "median µs", "p99 µs", "child private", "vs linux",
            "vs copa@1M"};
        final List<String[]> cells = new ArrayList<>();
        boolean missingLinux = false;
        boolean missingCopa1m = false;
        for (final Row row : rows)
        {
            final Row linux = find(row.sizeBytes(), ForkMode.LINUX);
            final String vsLinux;
            if (linux == null)
            {
                vsLinux = "-";
                missingLinux = true;
            }
            else
            {
                vsLinux = ratio(row.latencies().medianUs(), linux.latencies().medianUs());
            }
            String vsCopa = "";
            if (row.mode() == ForkMode.COPA)
            {
                final Row copa1m = find(ForkBenchOptions.MIB, ForkMode.COPA);
                if (copa1m == null)
                {
                    vsCopa = "-";
                    missingCopa1m = true;
                }
                else
                {
                    vsCopa = ratio(row.latencies().medianUs(), copa1m.latencies().medianUs());
                }
            }
            cells.add(new String[] {ForkBenchOptions.formatSize(row.sizeBytes()), row.mode().label(),
                Integer.toString(row.latencies().count()), micros(row.latencies().medianUs()),
                micros(row.latencies().p99Us()), bytes(row.childPrivateBytes()), vsLinux, vsCopa});
        }
        final int[] width = new int[header.length];
        for (int c = 0; c < header.length; c++)
        {
            width[c] = header[c].length();
            for (final String[] line : cells)
            {
                width[c] = Math.max(width[c], line[c].length());
            }
        }
        out.println(touch
            ? "ufork fork benchmark (--touch): latency from fork until the child has written every page, exited "
                + "and been reaped"
            : "ufork fork benchmark: latency from calling fork until it returns in the parent");
        out.println();
        printLine(out, header, width);
        final StringBuilder rule = new StringBuilder();
        for (int c = 0; c < width.length; c++)
        {
            rule.append(c == 0 ? "" : "  ").append("-".repeat(width[c]));
        }
        out.println(rule);
        long previousSize = -1;
        for (int r = 0; r < cells.size(); r++)
        {
            if (previousSize >= 0 && rows.get(r).sizeBytes() != previousSize)
            {
                out.println();
            }
            previousSize = rows.get(r).sizeBytes();
            printLine(out, cells.get(r), width);
        }
        out.println();
        out.println("vs linux: the mode's median over the linux median at the same size (below 1 is faster than Linux).");
        out.println("vs copa@1M: copa's median at that size over copa's median at 1M.");
        out.println("child private: bytes private to the child after the fork" + (touch ? " and its writes" : "")
            + " (ufork: pages copied for it; linux: Private_Dirty from smaps_rollup).");
        if (missingLinux)
        {
            out.println("-: no linux row at that size (not asked for, or no C compiler).");
        }
        if (missingCopa1m)
        {
            out.println("-: no copa row at 1M to compare with; add 1M to --sizes and copa to --modes.");
        }
        out.flush();
    }

    private Row find(final long size, final ForkMode mode)
    {
        for (final Row row : rows)
        {
            if (row.sizeBytes() == size && row.mode() == mode)
            {
                return row;
            }
        }
        return null;
    }

    private static void printLine(final PrintStream out, final String[] cells, final int[] width)
    {
        final StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.length; c++)
        {
            if (c > 0)
            {
                line.append("  ");
            }
            // Size and mode read best left-aligned; numbers right-aligned.
            final String pad = " ".repeat(width[c] - cells[c].length());
            line.append(c < 2 ? cells[c] + pad : pad + cells[c]);
        }
        out.println(line.toString().stripTrailing());
    }

    private static String ratio(final double value, final double reference)
    {
        if (reference <= 0)
        {
            return "-";
        }
        final double r = value / reference;
        return String.format(Locale.ROOT, r < 0.1 ? "%.3fx" : r < 10 ? "%.2fx" : "%.1fx", r);
    }

    private static String micros(final double us)
    {
        return String.format(Locale.ROOT, us < 100 ? "%,.2f" : us < 10_000 ? "%,.1f" : "%,.0f", us);
    }

    private static String bytes(final long bytes)
    {
        if (bytes < 0)
        {
            return "-";
        }
        if (bytes < ForkBenchOptions.KIB)
        {
            return bytes + " B";
        }
        if (bytes < ForkBenchOptions.MIB)
        {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / (double)ForkBenchOptions.KIB);
        }
        if (bytes < ForkBenchOptions.GIB)
        {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double)ForkBenchOptions.MIB);
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double)ForkBenchOptions.GIB);
    }
}
