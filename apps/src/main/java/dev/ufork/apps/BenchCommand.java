package dev.ufork.apps;

import dev.ufork.kernel.CopyMode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ufork bench spawn} and {@code ufork bench pipe}: a ufork benchmark and its Linux counterpart measured in the
 * same run, printed as CSV ({@value Measurement#CSV_HEADER}), one row per system. Progress and the reason the Linux
 * row is missing (no C compiler) go to standard error.
 * <p>
 * Thread safety: stateless. Lifetime: the process.
 */
public final class BenchCommand implements Command
{
    /** Default seconds per measurement. */
    static final double DEFAULT_SECONDS = 2;
    /** Default seconds of warm-up before the ufork measurement. */
    static final double DEFAULT_WARMUP = 0.5;
    /** Default rounds of alternating ufork and Linux slices. */
    static final int DEFAULT_ROUNDS = 3;

    /** Which benchmark. */
    private enum Kind
    {
        SPAWN, PIPE
    }

    private final Kind kind;
    private final OptionSpec spec;

    private BenchCommand(final Kind kind, final OptionSpec spec)
    {
        this.kind = kind;
        this.spec = spec;
    }

    /** @return {@code bench spawn}. */
    public static BenchCommand spawn()
    {
        return new BenchCommand(Kind.SPAWN, lengthOptions(new OptionSpec("ufork bench spawn [options]",
            """
            Unixbench Spawn: a µprocess forks a child that exits at once and waits for it, in a loop; beside it, a
            small C program does fork + _exit + waitpid on Linux, built with the system C compiler and run in the same
            run. Prints CSV: benchmark,system,ops,ops_per_sec (one row per system).""".stripIndent()), DEFAULT_SECONDS, DEFAULT_ROUNDS)
            .value("--mode", "MODE", "the copy mode of the forks: copa (default), coa or copy"));
    }

    /** @return {@code bench pipe}. */
    public static BenchCommand pipe()
    {
        return new BenchCommand(Kind.PIPE, lengthOptions(new OptionSpec("ufork bench pipe [options]",
            """
            Unixbench Context1: a parent µprocess and its child bounce a 4-byte counter over two pipes with blocking
            read and write; beside it, a small C program does the same with two Linux processes, in the same run.
            Prints CSV: benchmark,system,ops,ops_per_sec (ops are round trips; one row per system).""".stripIndent()),
            DEFAULT_SECONDS, DEFAULT_ROUNDS));
    }

    /**
     * Adds the options every throughput measurement has.
     *
     * @param spec           the command's options.
     * @param defaultSeconds its default for {@code --seconds}.
     * @param defaultRounds  its default for {@code --rounds}.
     * @return {@code spec}.
     */
    static OptionSpec lengthOptions(final OptionSpec spec, final double defaultSeconds, final int defaultRounds)
    {
        return spec
            .value("--seconds", "S", "measure for S seconds per system (default " + plain(defaultSeconds) + ")")
            .value("--ops", "N", "measure exactly N operations per system instead")
            .value("--rounds", "N", "alternate ufork and Linux in N slices of that (default " + defaultRounds
                + "), so load changes hit both")
            .value("--warmup", "S", "run the ufork loop unmeasured first, S seconds (default " + plain(DEFAULT_WARMUP)
                + ") and then until the JIT has compiled nothing for " + WarmUp.QUIET_MILLIS + " ms")
            .flag("--no-linux", "measure ufork only");
    }

    /**
     * Reads {@code --seconds}, {@code --ops} and {@code --warmup}.
     *
     * @param command        the command as typed, for messages.
     * @param options        the parsed options.
     * @param defaultSeconds the length when neither {@code --ops} nor {@code --seconds} is given.
     * @return the run length.
     * @throws UsageException for bad values, or both {@code --ops} and {@code --seconds}.
     */
    static RunLength runLength(final String command, final OptionSpec.Parsed options, final double defaultSeconds)
        throws UsageException
    {
        if (options.has("--ops") && options.has("--seconds"))
        {
            throw new UsageException(command, "give --ops or --seconds, not both");
        }
        final long ops = options.longValue("--ops", 0, 1, 1_000_000_000L);
        final double seconds = options.doubleValue("--seconds", defaultSeconds, 0.01, 3600);
        final double warmup = options.doubleValue("--warmup", DEFAULT_WARMUP, 0, 600);
        return new RunLength(ops, ops > 0 ? 0 : seconds, warmup);
    }

    @Override
    public String name()
    {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String summary()
    {
        return switch (kind)
        {
            case SPAWN -> "fork + exit + wait per second (Unixbench Spawn) against Linux, as CSV";
            case PIPE -> "pipe ping-pong round trips per second (Unixbench Context1) against Linux, as CSV";
        };
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
        final RunLength length = runLength(invocation.command(), options, DEFAULT_SECONDS);
        final CopyMode mode = kind == Kind.SPAWN ? copyMode(options) : CopyMode.COPA;
        final boolean linux = !options.has("--no-linux");
        final int rounds = rounds(options, DEFAULT_ROUNDS);
        final PrintStream err = invocation.err();
        final List<Measurement> rows = new ArrayList<>();
        try (UforkSession session = UforkSession.boot(UforkSession.DEFAULT_SPACE, err))
        {
            try
            {
                NativeBaseline program = null;
                if (linux)
                {
                    try
                    {
                        program = session.register(NativeBaseline.build(BenchCommand.class,
                            kind == Kind.SPAWN ? SpawnBenchmark.SOURCE : PipeBenchmark.SOURCE, invocation.environment()));
                    }
                    catch (final NativeBaseline.UnavailableException e)
                    {
                        err.println(invocation.command() + ": no linux row: " + e.getMessage());
                    }
                }
                final NativeBaseline c = program;
                err.println(invocation.command() + ": measuring ufork" + (c == null ? "" : " and linux (built with "
                    + c.compiler() + " -O2)") + " in " + rounds + " alternating rounds ...");
                rows.addAll(Interleaved.measure(length, rounds,
                    slice -> kind == Kind.SPAWN ? SpawnBenchmark.ufork(session, slice, mode)
                        : PipeBenchmark.ufork(session, slice),
                    c == null ? null : slice -> kind == Kind.SPAWN ? SpawnBenchmark.linux(c, slice)
                        : PipeBenchmark.linux(c, slice)));
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
        final PrintStream out = invocation.out();
        out.println(Measurement.CSV_HEADER);
        for (final Measurement row : rows)
        {
            out.println(row.csvRow());
        }
        out.flush();
        return 0;
    }

    /**
     * @param options       the parsed options.
     * @param defaultRounds the default for {@code --rounds}.
     * @return the number of alternating rounds.
     * @throws UsageException for a bad value.
     */
    static int rounds(final OptionSpec.Parsed options, final int defaultRounds) throws UsageException
    {
        return (int)options.longValue("--rounds", defaultRounds, 1, 1000);
    }

    static CopyMode copyMode(final OptionSpec.Parsed options) throws UsageException
    {
        return CopyMode.valueOf(options.choice("--mode", "copa", List.of("copa", "coa", "copy"))
            .toUpperCase(Locale.ROOT));
    }

    static String plain(final double value)
    {
        return value == Math.rint(value) ? Long.toString((long)value) : Double.toString(value);
    }
}
