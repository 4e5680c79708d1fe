package dev.ufork.perf.forkbench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command line of {@code ./ufork bench fork}, parsed and checked.
 *
 * @param sizes  bytes of pointer-rich data each µprocess (and the Linux baseline process) holds, in run order.
 * @param modes  the modes to measure at each size, in output order.
 * @param format how to print the results.
 * @param forks  measured forks per size and mode, or 0 for the default of {@link #forksFor(long)}.
 * @param warmup warm-up forks before them, or −1 for the default of {@link #warmupFor(long)} and
 *               {@link #warmupNanos()}.
 * @param touch  whether the child writes every page before it exits, and the latency runs until it is reaped.
 */
record ForkBenchOptions(List<Long> sizes, List<ForkMode> modes, Format format, int forks, int warmup, boolean touch)
{
    /** Output formats. */
    enum Format
    {
        /** Machine-readable: a header and one row per size and mode. */
        CSV,
        /** For people: aligned columns with ratios to Linux and to copa at 1 MiB. */
        TABLE
    }

    static final long KIB = 1L << 10;
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;
    /** The largest size accepted: the µprocess's area is twice as large, and a fork needs a second one. */
    static final long MAX_SIZE = 64 * GIB;
    static final String DEFAULT_SIZES = "64K,1M,16M,256M,1G";
    static final String DEFAULT_MODES = "copy,coa,copa,linux";
    /** The least time a ufork mode's default warm-up takes: the JIT needs this much of the exact workload. */
    static final long DEFAULT_WARMUP_NANOS = 500_000_000L;

    static final String USAGE = """
        usage: ./ufork bench fork [--sizes LIST] [--modes LIST] [--format csv|table] [--forks N] [--warmup N] [--touch]

        Fork latency of a µprocess holding SIZE bytes of pointer-rich data (about 5 %% of its 16-byte granules hold
        capabilities into its own area), as seen by the parent: from calling fork until it returns in the parent.
        The linux rows are a small C process (built now with cc -O2) that writes SIZE bytes and calls fork(2).

          --sizes LIST    comma-separated sizes with an optional K, M or G suffix (1K = 1024 bytes), each a
                          multiple of 4K, at most 64G (default %s)
          --modes LIST    comma-separated, any of copy, coa, copa, linux (default %s)
          --format F      csv (header size_bytes,mode,forks,median_us,p99_us,child_private_bytes) or table
                          (default table), on stdout; progress goes to stderr
          --forks N       measured forks per size and mode (default 200 up to 1M, 50 below 256M, 10 from 256M)
          --warmup N      unmeasured forks before them, per size and mode (default a tenth of the forks, at
                          least 2, and ufork modes go on until 0.5 s have passed, after an unreported pass
                          at 64K, so the JIT has settled; an explicit N means exactly N forks, no pass)
          --touch         the child writes every page after the fork; the latency then runs from the fork until
                          the child has written every page, exited and been reaped (every mode, linux included)
          --help          this text

        child_private_bytes: the child's private (copied) bytes right after the fork (after its writes with --touch):
        ufork: its private resident pages, while it is paused (median over the measured forks; with --touch, one
        extra untimed fork); linux: the Private_Dirty of one extra child from /proc/<pid>/smaps_rollup, or empty
        where that is unavailable.

        Before the sizes, the minimal forked µprocess is measured (target: proportional memory at most 32 KiB): a
        64 KiB µprocess forks (copa) a child that does nothing; its proportional and private bytes, and the Java heap
        a µprocess costs outside its area, go to stderr, and under the table with --format table.
        """.formatted(DEFAULT_SIZES, DEFAULT_MODES);

    /**
     * @param args the arguments after {@code bench fork}.
     * @return the options, or null if {@code --help} was asked for.
     * @throws IllegalArgumentException with a message for the user if the arguments are bad.
     */
    static ForkBenchOptions parse(final String[] args)
    {
        String sizes = DEFAULT_SIZES;
        String modes = DEFAULT_MODES;
        String format = "table";
        int forks = 0;
        int warmup = -1;
        boolean touch = false;
        for (int i = 0; i < args.length; i++)
        {
            String arg = args[i];
            String value = null;
            final int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0)
            {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            switch (arg)
            {
                case "-h", "--help" ->
                {
                    return null;
                }
                case "--touch" ->
                {
                    if (value != null)
                    {
                        throw new IllegalArgumentException("--touch takes no value");
                    }
                    touch = true;
                }
                case "--sizes", "--modes", "--format", "--forks", "--warmup" ->
                {
                    if (value == null)
                    {
                        if (i + 1 >= args.length || args[i + 1].startsWith("--"))
                        {
                            throw new IllegalArgumentException(arg + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (arg)
                    {
                        case "--sizes" -> sizes = value;
                        case "--modes" -> modes = value;
                        case "--format" -> format = value;
                        case "--forks" -> forks = parseCount(arg, value, 1);
                        default -> warmup = parseCount(arg, value, 0);
                    }
                }
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
        }
        return new ForkBenchOptions(parseSizes(sizes), parseModes(modes), parseFormat(format), forks, warmup, touch);
    }

    private static int parseCount(final String option, final String value, final int min)
    {
        final int n;
        try
        {
            n = Integer.parseInt(value.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(option + " needs a whole number, not '" + value + "'");
        }
        if (n < min || n > 1_000_000)
        {
            throw new IllegalArgumentException(option + " must be between " + min + " and 1000000, not " + n);
        }
        return n;
    }

    private static Format parseFormat(final String value)
    {
        return switch (value.trim().toLowerCase(Locale.ROOT))
        {
            case "csv" -> Format.CSV;
            case "table" -> Format.TABLE;
            default -> throw new IllegalArgumentException("unknown format '" + value + "' (known: csv, table)");
        };
    }

    private static List<ForkMode> parseModes(final String list)
    {
        final List<ForkMode> modes = new ArrayList<>();
        for (final String item : split("--modes", list))
        {
            final ForkMode mode = ForkMode.parse(item);
            if (modes.contains(mode))
            {
                throw new IllegalArgumentException("mode '" + mode.label() + "' given twice in --modes");
            }
            modes.add(mode);
        }
        return List.copyOf(modes);
    }

    private static List<Long> parseSizes(final String list)
    {
        final List<Long> sizes = new ArrayList<>();
        for (final String item : split("--sizes", list))
        {
            final long size = parseSize(item);
            if (sizes.contains(size))
            {
                throw new IllegalArgumentException("size '" + item + "' given twice in --sizes");
            }
            sizes.add(size);
        }
        return List.copyOf(sizes);
    }

    private static List<String> split(final String option, final String list)
    {
        final List<String> items = new ArrayList<>();
        for (final String item : list.split(",", -1))
        {
            if (item.isBlank())
            {
                throw new IllegalArgumentException("empty item in " + option + " '" + list + "'");
            }
            items.add(item.trim());
        }
        return items;
    }

    /**
     * @param text a size: digits, then optionally K, M or G (binary), optionally followed by B or iB.
     * @return bytes.
     * @throws IllegalArgumentException for anything else, or a size that is not a positive multiple of 4 KiB up
     *                                  to {@link #MAX_SIZE}.
     */
    static long parseSize(final String text)
    {
        final String t = text.trim();
        int digits = 0;
        while (digits < t.length() && Character.isDigit(t.charAt(digits)))
        {
            digits++;
        }
        final String suffix = t.substring(digits).toUpperCase(Locale.ROOT);
        final long unit = switch (suffix)
        {
            case "", "B" -> 1;
            case "K", "KB", "KIB" -> KIB;
            case "M", "MB", "MIB" -> MIB;
            case "G", "GB", "GIB" -> GIB;
            default -> -1;
        };
        if (digits == 0 || unit < 0 || digits > 12)
        {
            throw new IllegalArgumentException("bad size '" + text
                + "' in --sizes: use a number with an optional K, M or G suffix, e.g. 64K, 16M, 1G");
        }
        final long number = Long.parseLong(t.substring(0, digits));
        if (number == 0 || number > MAX_SIZE / unit)
        {
            throw new IllegalArgumentException("size '" + text + "' out of range: from 4K to 64G");
        }
        final long bytes = number * unit;
        if (bytes % (4 * KIB) != 0)
        {
            throw new IllegalArgumentException("size '" + text + "' is not a multiple of 4K (one page)");
        }
        return bytes;
    }

    /**
     * @param size a size.
     * @return measured forks at that size: the --forks value, else 200 up to 1 MiB, 50 below 256 MiB, 10 above.
     */
    int forksFor(final long size)
    {
        if (forks > 0)
        {
            return forks;
        }
        return size <= MIB ? 200 : size < 256 * MIB ? 50 : 10;
    }

    /**
     * @param size a size.
     * @return warm-up forks at that size: the --warmup value, else a tenth of the measured forks, at least 2.
     */
    int warmupFor(final long size)
    {
        return warmup >= 0 ? warmup : Math.max(2, forksFor(size) / 10);
    }

    /**
     * @return how long the warm-up of a ufork mode lasts at least: {@link #DEFAULT_WARMUP_NANOS} unless --warmup
     *         was given, then 0 (exactly that many forks).
     */
    long warmupNanos()
    {
        return warmup >= 0 ? 0 : DEFAULT_WARMUP_NANOS;
    }

    /**
     * @param bytes a size.
     * @return it in the shortest exact K/M/G form, e.g. 64K, 1M, 1536K, 1G.
     */
    static String formatSize(final long bytes)
    {
        if (bytes > 0 && bytes % GIB == 0)
        {
            return bytes / GIB + "G";
        }
        if (bytes > 0 && bytes % MIB == 0)
        {
            return bytes / MIB + "M";
        }
        if (bytes > 0 && bytes % KIB == 0)
        {
            return bytes / KIB + "K";
        }
        return Long.toString(bytes);
    }
}
