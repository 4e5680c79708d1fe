package dev.ufork.apps;

import dev.ufork.kernel.CopyMode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * {@code ufork demo}: what ufork is for, in a readable table and well under 30 seconds. It boots a kernel over a
 * 64 GiB {@code MAP_NORESERVE} space and shows, each beside Linux measured in the same run by small C programs
 * built from source (or ufork alone, saying why, when there is no C compiler):
 * <ol>
 *   <li>a pointer-rich µprocess (a hash map of 300,000 entries linked by capabilities) forked in each copy mode:
 *   fork latency, pages copied at the fork and by a child walking the whole map, the child's memory; beside Linux
 *   {@code fork()} of a process as large;</li>
 *   <li>pipe ping-pong round trips per second (Unixbench Context1);</li>
 *   <li>fork + exit + wait per second (Unixbench Spawn).</li>
 * </ol>
 * Thread safety: stateless. Lifetime: the process.
 */
public final class DemoCommand implements Command
{
    /** Default entries in the map. */
    static final long DEFAULT_ENTRIES = 300_000;
    /** Default seconds per throughput measurement and system. */
    static final double DEFAULT_SECONDS = 1;
    /** Default rounds of alternating ufork and Linux slices. */
    static final int DEFAULT_ROUNDS = 2;
    /** Default forks per copy mode timed besides the walking child's. */
    static final int DEFAULT_LATENCY_FORKS = 5;
    /** Default forks of the C process whose median latency is Linux's figure. */
    static final int DEFAULT_LINUX_FORKS = 40;

    private static final String INDENT = "   ";
    /** Columns of running text. */
    private static final int WIDTH = 110;

    private final OptionSpec spec = BenchCommand.lengthOptions(new OptionSpec("ufork demo [options]",
        """
        Boots ufork (POSIX fork for the JVM, one 64 GiB MAP_NORESERVE address space) and shows, beside Linux
        measured in the same run by small C programs built with the system C compiler: a pointer-rich µprocess
        forked in each copy mode (fork latency, pages copied, memory), pipe ping-pong round trips per second
        (Unixbench Context1) and fork + exit + wait per second (Unixbench Spawn).""".stripIndent()), DEFAULT_SECONDS, DEFAULT_ROUNDS)
        .value("--entries", "N", "entries in the forked µprocess's hash map (default " + Units.count(DEFAULT_ENTRIES)
            + ")")
        .hiddenValue("--latency-forks", "N")
        .hiddenValue("--linux-forks", "N");

    @Override
    public String name()
    {
        return "demo";
    }

    @Override
    public String summary()
    {
        return "what ufork is for, against Linux, in a table (under 30 s)";
    }

    /** @return the usage text. */
    public String usage()
    {
        return spec.usage();
    }

    @Override
    public int run(final Invocation invocation) throws UsageException
    {
        final OptionSpec.Parsed options = spec.parse(invocation.command(), invocation.args());
        if (options.helpRequested())
        {
            invocation.out().print(spec.usage());
            return 0;
        }
        final long entries = options.longValue("--entries", DEFAULT_ENTRIES, 1, 50_000_000);
        final RunLength length = BenchCommand.runLength(invocation.command(), options, DEFAULT_SECONDS);
        final int latencyForks = (int)options.longValue("--latency-forks", DEFAULT_LATENCY_FORKS, 0, 10_000);
        final int linuxForks = (int)options.longValue("--linux-forks", DEFAULT_LINUX_FORKS, 1, 100_000);
        final boolean linux = !options.has("--no-linux");
        final int rounds = BenchCommand.rounds(options, DEFAULT_ROUNDS);
        final PrintStream out = invocation.out();
        final PrintStream err = invocation.err();
        final long start = System.nanoTime();
        out.println("ufork demo: POSIX fork for the JVM. Every µprocess lives in one " + Units.bytes(
            UforkSession.DEFAULT_SPACE) + " address space (MAP_NORESERVE, free");
        out.println("until touched); every pointer is a CHERI capability that fork relocates. Linux figures come from "
            + "this same run.");
        out.println();
        boolean verified = true;
        try (UforkSession session = UforkSession.boot(UforkSession.DEFAULT_SPACE, err))
        {
            try
            {
                NativeBaseline spawnC = null;
                NativeBaseline pipeC = null;
                String missing = linux ? null : "--no-linux";
                if (linux)
                {
                    try
                    {
                        spawnC = session.register(NativeBaseline.build(DemoCommand.class, SpawnBenchmark.SOURCE,
                            invocation.environment()));
                        pipeC = session.register(NativeBaseline.build(DemoCommand.class, PipeBenchmark.SOURCE,
                            invocation.environment()));
                        out.println("Linux baselines: spawn.c and pipe.c from the ufork jar, built with "
                            + spawnC.compiler() + " -O2.");
                    }
                    catch (final NativeBaseline.UnavailableException e)
                    {
                        missing = e.getMessage();
                        out.println("Linux baselines: not measured (" + missing + "); ufork only.");
                    }
                }
                else
                {
                    out.println("Linux baselines: not measured (--no-linux); ufork only.");
                }
                out.println();

                // The throughput loops run first, on a fresh JIT profile as in `bench`: after the map experiment,
                // whose forks of 64 MiB areas in three modes go through the same kernel code, the spawn loop ran about
                // a quarter slower. The tables still come in the order of the story.
                err.println(invocation.command() + ": fork + exit + wait ...");
                final NativeBaseline spawnProgram = spawnC;
                final List<Measurement> spawn = Interleaved.measure(length, rounds,
                    slice -> SpawnBenchmark.ufork(session, slice, CopyMode.COPA),
                    spawnProgram == null ? null : slice -> SpawnBenchmark.linux(spawnProgram, slice));
                err.println(invocation.command() + ": pipe ping-pong ...");
                final NativeBaseline pipeProgram = pipeC;
                final List<Measurement> pipe = Interleaved.measure(length, rounds,
                    slice -> PipeBenchmark.ufork(session, slice),
                    pipeProgram == null ? null : slice -> PipeBenchmark.linux(pipeProgram, slice));
                err.println(invocation.command() + ": building a " + Units.count(entries)
                    + "-entry map in a µprocess and forking it in each copy mode ...");
                // COPY runs last: see MapForkExperiment.run.
                final List<CopyMode> modes = List.of(CopyMode.COA, CopyMode.COPA, CopyMode.COPY);
                MapForkExperiment.warmUp(session, length.warmupSeconds(), modes);
                final MapForkExperiment.Report map = MapForkExperiment.run(session, entries, latencyForks, modes);
                final Double linuxFork = spawnC == null ? null
                    : SpawnBenchmark.linuxForkLatencyMicros(spawnC, map.parentPrivateBytes(), linuxForks);

                verified = printFork(out, map, latencyForks, linuxFork, linuxForks, missing);
                printThroughput(out, "2. Pipe ping-pong (Unixbench Context1): parent and child bounce a 4-byte counter "
                    + "over two pipes", "round trips", pipe, missing);
                printThroughput(out, "3. fork + exit + wait (Unixbench Spawn): a 64 KiB µprocess forks a child that "
                    + "exits at once, and reaps it", "forks", spawn, missing);
            }
            catch (final IllegalStateException e)
            {
                if (session.isClosed())
                {
                    return 130;
                }
                err.println(invocation.command() + ": failed: " + e.getMessage());
                if (e.getCause() != null)
                {
                    e.getCause().printStackTrace(err);
                }
                return 1;
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                return 130;
            }
        }
        out.printf(Locale.ROOT, "Done in %.1f s. The same comparisons as CSV: ./ufork bench spawn, ./ufork bench pipe."
            + "%n", (System.nanoTime() - start) / 1e9);
        out.flush();
        if (!verified)
        {
            err.println(invocation.command() + ": a forked child found its copy of the map damaged (see the table)");
            return 1;
        }
        return 0;
    }

    /** @return whether every child found the map intact. */
    private static boolean printFork(final PrintStream out, final MapForkExperiment.Report map, final int latencyForks,
        final Double linuxFork, final int linuxForks, final String missing)
    {
        out.println("1. Fork a pointer-rich µprocess");
        paragraph(out, "The parent µprocess built a hash map of " + Units.count(map.entries()) + " entries in its own "
            + "memory in " + Units.seconds(map.buildSeconds()) + ": " + Units.count(map.bucketCount())
            + " buckets of capabilities, chains of " + CapabilityHashMap.NODE_BYTES + "-byte nodes linked by "
            + "capabilities, " + MapWorkload.VALUE_BYTES + "-byte values; " + Units.bytes(map.parentPrivateBytes())
            + " resident in a " + Units.bytes(map.areaBytes()) + " area. It forks in each copy mode; each child walks "
            + "its whole copy through its relocated capabilities, checks every entry, and is measured before it "
            + "exits. Fork latency: the median of " + (latencyForks + 1) + " forks per mode, as the parent sees it.");
        out.println();
        final TextTable table = new TextTable(INDENT)
            .column("copy mode", TextTable.Align.LEFT)
            .column("fork latency", TextTable.Align.RIGHT)
            .column("vs Linux", TextTable.Align.RIGHT)
            .column("pages copied at fork", TextTable.Align.RIGHT)
            .column("+ by the walk", TextTable.Align.RIGHT)
            .column("child private", TextTable.Align.RIGHT)
            .column("child PSS", TextTable.Align.RIGHT)
            .column("walk", TextTable.Align.RIGHT);
        boolean verified = true;
        final List<MapForkExperiment.ModeResult> byMode = new ArrayList<>(map.modes());
        byMode.sort(Comparator.comparing(MapForkExperiment.ModeResult::mode));
        for (final MapForkExperiment.ModeResult mode : byMode)
        {
            verified &= mode.verified();
            table.row(mode.mode().name() + (mode.verified() ? "" : " (map damaged!)"), Units.duration(mode.forkMicros()),
                linuxFork == null ? "n/a" : Units.faster(mode.forkMicros(), linuxFork),
                Units.count(mode.pagesCopiedAtFork()), Units.count(mode.pagesCopiedByWalk()),
                Units.bytes(mode.childPrivateBytes()), Units.bytes(mode.childProportionalBytes()),
                Units.seconds(mode.walkSeconds()));
        }
        table.row("Linux fork()", linuxFork == null ? "n/a" : Units.duration(linuxFork), "", "", "", "", "", "");
        out.print(table.render());
        final StringBuilder notes = new StringBuilder();
        if (verified)
        {
            notes.append("Every child found all ").append(Units.count(map.entries())).append(" entries intact. ");
        }
        else
        {
            for (final MapForkExperiment.ModeResult mode : map.modes())
            {
                if (!mode.verified())
                {
                    notes.append("The ").append(mode.mode()).append(" child found only ")
                        .append(Units.count(mode.verifiedEntries())).append(" of ").append(Units.count(map.entries()))
                        .append(" entries intact. ");
                }
            }
        }
        notes.append(linuxFork != null ? "Linux fork(): a C process with " + Units.bytes(map.parentPrivateBytes())
            + " of written memory, median of " + linuxForks + " forks as its parent sees them. "
            : "Linux fork(): not measured (" + missing + "). ");
        notes.append("COPY copies every page the parent has touched at the fork; COA copies a page when either side "
            + "first touches it; COPA copies a page when the child loads a capability from it or either side writes it, so the value "
            + "pages (plain data) stay shared. PSS counts a shared page half to each µprocess sharing it.");
        paragraph(out, notes.toString());
        out.println();
        return verified;
    }

    /** Prints {@code text} indented, wrapped at {@value #WIDTH} columns. */
    private static void paragraph(final PrintStream out, final String text)
    {
        final StringBuilder line = new StringBuilder(INDENT);
        for (final String word : text.split(" "))
        {
            if (line.length() > INDENT.length() && line.length() + 1 + word.length() > WIDTH)
            {
                out.println(line);
                line.setLength(0);
                line.append(INDENT);
            }
            if (line.length() > INDENT.length())
            {
                line.append(' ');
            }
            line.append(word);
        }
        out.println(line);
    }

    /** Prints a throughput comparison: {@code rows} holds ufork's measurement, then Linux's if it was measured. */
    private static void printThroughput(final PrintStream out, final String title, final String unit,
        final List<Measurement> rows, final String missing)
    {
        final Measurement ufork = rows.getFirst();
        final Measurement linux = rows.size() > 1 ? rows.get(1) : null;
        out.println(title);
        final TextTable table = new TextTable(INDENT)
            .column("system", TextTable.Align.LEFT)
            .column(unit, TextTable.Align.RIGHT)
            .column("time", TextTable.Align.RIGHT)
            .column(unit + " per second", TextTable.Align.RIGHT);
        for (final Measurement m : linux == null ? List.of(ufork) : List.of(ufork, linux))
        {
            table.row(m.system(), Units.count(m.ops()), Units.seconds(m.seconds()), Units.rate(m.opsPerSecond()));
        }
        if (linux == null)
        {
            table.row("linux", "n/a", "", "");
        }
        out.print(table.render());
        out.println(INDENT + (linux == null ? "Linux not measured (" + missing + ")."
            : Units.comparison(ufork.opsPerSecond(), linux.opsPerSecond()) + "'s rate."));
        out.println();
    }
}
