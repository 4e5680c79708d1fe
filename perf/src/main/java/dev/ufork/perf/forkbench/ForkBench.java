package dev.ufork.perf.forkbench;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;
import dev.ufork.kernel.Kernel;
import dev.ufork.kernel.KernelConfig;
import dev.ufork.kernel.KernelMetrics;
import dev.ufork.kernel.ProcessContext;
import dev.ufork.kernel.Program;
import dev.ufork.kernel.RegisterFileDescriptor;
import dev.ufork.kernel.Signal;
import dev.ufork.kernel.SignalAction;
import dev.ufork.kernel.WaitResult;
import dev.ufork.kernel.WaitStatus;
import dev.ufork.memory.Geometry;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code ./ufork bench fork}: fork latency of a µprocess holding SIZE bytes of pointer-rich data in each ufork copy
 * mode, against Linux {@code fork(2)} of a C process holding as many bytes, measured in the same run.
 * <p>
 * <b>What runs.</b> Per size, a fresh kernel whose address space holds at least four areas; a parent µprocess whose
 * area is the smallest power of two that holds the register file and SIZE bytes; it fills SIZE bytes after its
 * register file (random data, and a capability to a 64-byte object of its own data in about one granule in twenty),
 * then, per ufork mode, forks warm-up and measured children. Unless {@code --warmup} is given, the warm-up of each
 * size and mode lasts at least half a second, and an unreported pass at 64 KiB in every ufork mode runs before the
 * first size: a small fork takes microseconds, and the JIT needs that long on the exact workload (and the JVM's
 * first seconds of compiling) before its code stops changing.
 * <p>
 * <b>What is timed.</b> The parent's view: from the call of {@link ProcessContext#fork(Program, CopyMode)} to its
 * return. The child tells the parent it runs (SIGUSR2), then waits in {@link ProcessContext#sigsuspend(long)} until
 * the parent has read its private bytes ({@link KernelMetrics#privateBytes(int)}), then the parent signals it
 * (SIGUSR1, caught, so the child returns) and reaps it; all of that is outside the timed region, so the next fork can
 * reuse the freed area. With
 * {@code --touch} the child writes one long into every page holding data and exits, and the latency runs until the
 * parent's {@code waitpid} has reaped it; the private bytes then come from one extra, untimed fork whose child tells
 * the parent (SIGUSR2) once it has written everything.
 * <p>
 * <b>The minimal forked µprocess</b> is measured first, in a kernel of its own: a 64 KiB µprocess that has touched
 * nothing but its register file forks (COPA) a child that does nothing, and the child's proportional and private
 * bytes are read while it waits; then again after the parent has written its whole area; then the Java heap per
 * µprocess (kernel objects and virtual-thread stack, which no area holds). The line goes to stderr, and under the
 * table.
 * <p>
 * Thread safety: one run at a time, from one thread. Lifetime: {@link #run} closes every kernel and the baseline's
 * temporary directory before it returns.
 */
public final class ForkBench
{
    /** Percent of granules that hold a capability, on average. */
    static final int CAPABILITY_PERCENT = 5;
    /** The area of the minimal µprocess: the kernel's smallest. */
    static final long MINIMAL_AREA = 64 * ForkBenchOptions.KIB;
    /** The target for the minimal forked µprocess's proportional memory. */
    static final long MINIMAL_TARGET = 32 * ForkBenchOptions.KIB;
    /** Paused children forked to estimate the Java heap each µprocess costs outside its area. */
    static final int HEAP_SAMPLE_CHILDREN = 64;

    /** The size of the unreported pass that warms the JIT up before the sizes (unless --warmup is given). */
    static final long WARMUP_PASS_SIZE = 64 * ForkBenchOptions.KIB;

    private static final long SEED = 0x5EED_F0CCL;
    private static final long FILL_CHUNK = 64 * ForkBenchOptions.KIB;
    private static final long OBJECT_BYTES = 64;

    private final ForkBenchOptions options;
    private final PrintStream log;

    private ForkBench(final ForkBenchOptions options, final PrintStream log)
    {
        this.options = options;
        this.log = log;
    }

    /**
     * Runs {@code ./ufork bench fork} and exits with its status.
     *
     * @param args the arguments after {@code bench fork}; see {@link ForkBenchOptions#USAGE}.
     */
    public static void main(final String[] args)
    {
        final int status = run(args, System.out, System.err);
        System.out.flush();
        System.exit(status);
    }

    /**
     * Runs the benchmark in this JVM.
     *
     * @param args the command line after {@code bench fork}.
     * @param out  where the results go (CSV or table).
     * @param err  where progress, the minimal-µprocess measurement and errors go.
     * @return the exit status: 0 on success, 2 for bad arguments, 1 if a measurement failed.
     */
    static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final ForkBenchOptions options;
        try
        {
            options = ForkBenchOptions.parse(args);
        }
        catch (final IllegalArgumentException e)
        {
            err.println("ufork bench fork: " + e.getMessage());
            err.print(ForkBenchOptions.USAGE);
            return 2;
        }
        if (options == null)
        {
            out.print(ForkBenchOptions.USAGE);
            return 0;
        }
        try
        {
            final ForkBench bench = new ForkBench(options, err);
            final MinimalFork minimal = bench.measureMinimal();
            final ForkBenchReport report = bench.measureAll();
            if (options.format() == ForkBenchOptions.Format.CSV)
            {
                report.printCsv(out);
            }
            else
            {
                report.printTable(out);
                out.println(minimal.describe());
                out.flush();
            }
            return 0;
        }
        catch (final IllegalStateException | ErrnoException e)
        {
            err.println("ufork bench fork: failed: " + e.getMessage());
            if (e.getCause() != null)
            {
                e.getCause().printStackTrace(err);
            }
            return 1;
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            err.println("ufork bench fork: interrupted");
            return 1;
        }
    }

    /**
     * @param size bytes of data.
     * @return the area a µprocess holding them gets: the smallest power of two, at least 64 KiB, that holds the
     *         register file and the data.
     */
    static long areaFor(final long size)
    {
        final long needed = size + RegisterFileDescriptor.SIZE;
        return Math.max(MINIMAL_AREA, Long.highestOneBit(needed - 1) << 1);
    }

    /**
     * @param area the parent's area.
     * @return the address space to reserve: room for the parent, a child and slack, at least 1 GiB (reserved with
     *         MAP_NORESERVE, so it costs nothing until touched).
     */
    static long spaceFor(final long area)
    {
        return Math.max(4 * area, ForkBenchOptions.GIB);
    }

    // ------------------------------------------------------------------------------------------------------------
    // The sizes

    private ForkBenchReport measureAll() throws InterruptedException
    {
        final ForkBenchReport report = new ForkBenchReport(options.touch());
        LinuxForkBaseline baseline = null;
        try
        {
            if (options.modes().contains(ForkMode.LINUX))
            {
                baseline = LinuxForkBaseline.build(log);
            }
            final List<ForkMode> ufork = new ArrayList<>();
            for (final ForkMode mode : options.modes())
            {
                if (mode != ForkMode.LINUX)
                {
                    ufork.add(mode);
                }
            }
            if (!ufork.isEmpty() && options.warmupNanos() > 0)
            {
                // The first seconds of the JVM compile everything at once on a core the forks need; without this
                // pass the first size measured pays for it.
                log.println("forkbench: JIT warm-up pass at " + ForkBenchOptions.formatSize(WARMUP_PASS_SIZE)
                    + ", not reported");
                measureUfork(WARMUP_PASS_SIZE, ufork);
            }
            for (final long size : options.sizes())
            {
                final Map<ForkMode, ForkBenchReport.Row> rows = new EnumMap<>(ForkMode.class);
                if (!ufork.isEmpty())
                {
                    rows.putAll(measureUfork(size, ufork));
                }
                if (baseline != null)
                {
                    rows.put(ForkMode.LINUX, measureLinux(baseline, size));
                }
                for (final ForkMode mode : options.modes())
                {
                    final ForkBenchReport.Row row = rows.get(mode);
                    if (row != null)
                    {
                        report.add(row);
                    }
                }
            }
        }
        finally
        {
            if (baseline != null)
            {
                baseline.close();
            }
        }
        return report;
    }

    private ForkBenchReport.Row measureLinux(final LinuxForkBaseline baseline, final long size)
        throws InterruptedException
    {
        final int forks = options.forksFor(size);
        final int warmup = options.warmupFor(size);
        log.printf(Locale.ROOT, "forkbench: %s linux: %d warm-up + %d measured forks of the C baseline%n",
            ForkBenchOptions.formatSize(size), warmup, forks);
        final LinuxForkBaseline.Result result = baseline.run(size, forks, warmup, options.touch());
        final Latencies latencies = Latencies.of(result.latenciesUs());
        progress(size, ForkMode.LINUX, latencies);
        return new ForkBenchReport.Row(size, ForkMode.LINUX, latencies, result.privateDirtyBytes());
    }

    /**
     * One kernel for one size: a parent µprocess fills its data once, then measures every ufork mode in turn. The
     * parent's program reports through Java objects of this harness, which is fine for the parent (it is never
     * copied); the children's programs capture nothing of it.
     */
    private Map<ForkMode, ForkBenchReport.Row> measureUfork(final long size, final List<ForkMode> modes)
        throws InterruptedException
    {
        final long area = areaFor(size);
        final KernelConfig config = KernelConfig.ofSpace(spaceFor(area)).withAreaSize(area);
        final Map<ForkMode, ForkBenchReport.Row> rows = new EnumMap<>(ForkMode.class);
        final AtomicReference<RuntimeException> failure = new AtomicReference<>();
        try (Kernel kernel = Kernel.boot(config))
        {
            final KernelMetrics metrics = kernel.metrics();
            final int parent = kernel.spawn(area, ctx ->
            {
                try
                {
                    catchReleaseSignals(ctx);
                    fill(ctx, size);
                    for (final ForkMode mode : modes)
                    {
                        rows.put(mode, measureMode(ctx, metrics, size, mode));
                    }
                }
                catch (final RuntimeException e)
                {
                    failure.set(e);
                    ctx.exit(1);
                }
            });
            final int status = kernel.awaitExit(parent);
            if (failure.get() != null)
            {
                throw new IllegalStateException("the parent µprocess at " + ForkBenchOptions.formatSize(size)
                    + " failed: " + failure.get(), failure.get());
            }
            if (status != WaitStatus.exited(0))
            {
                throw new IllegalStateException("the parent µprocess at " + ForkBenchOptions.formatSize(size)
                    + " ended with " + statusText(status));
            }
        }
        // awaitExit happened after the parent's last write to rows (the kernel completes a future on exit).
        return rows;
    }

    /**
     * Writes {@code size} bytes of the heap: random data, then a capability to a 64-byte object in the heap at
     * random granules, one every 20 on average. Data goes in 64 KiB blocks and capabilities one by one, all through
     * the µprocess's own checked memory, so the pages become the parent's private, resident pages.
     */
    private void fill(final ProcessContext ctx, final long size)
    {
        final long start = System.nanoTime();
        final CapabilityMemory memory = ctx.memory();
        final Capability heap = heapOf(ctx);
        final SplittableRandom random = new SplittableRandom(SEED);
        final long objects = size / OBJECT_BYTES;
        long capabilities = 0;
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment block = arena.allocate(FILL_CHUNK, Geometry.PAGE_SIZE);
            for (long at = 0; at < FILL_CHUNK; at += Long.BYTES)
            {
                block.set(ValueLayout.JAVA_LONG_UNALIGNED, at, random.nextLong());
            }
            long granule = random.nextLong(2 * 100 / CAPABILITY_PERCENT);
            for (long offset = 0; offset < size; offset += FILL_CHUNK)
            {
                final long length = Math.min(FILL_CHUNK, size - offset);
                memory.storeBytes(heap, offset, block, 0, length);
                final long end = (offset + length) / Geometry.GRANULE_SIZE;
                while (granule < end)
                {
                    final long target = random.nextLong(objects) * OBJECT_BYTES;
                    memory.storeCapability(heap, granule * Geometry.GRANULE_SIZE,
                        heap.add(target).setBoundsExact(OBJECT_BYTES));
                    capabilities++;
                    // Gaps uniform in [1, 39]: one capability per 20 granules on average.
                    granule += 1 + random.nextLong(2 * 100 / CAPABILITY_PERCENT - 1);
                }
            }
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        log.printf(Locale.ROOT, "forkbench: %s: filled in %.2f s (%d capabilities, %.1f %% of %d granules; area %s)%n",
            ForkBenchOptions.formatSize(size), seconds, capabilities,
            100.0 * capabilities / (size / Geometry.GRANULE_SIZE), size / Geometry.GRANULE_SIZE,
            ForkBenchOptions.formatSize(areaFor(size)));
    }

    private ForkBenchReport.Row measureMode(final ProcessContext ctx, final KernelMetrics metrics, final long size,
        final ForkMode mode)
    {
        final CopyMode copyMode = mode.copyMode();
        final int forks = options.forksFor(size);
        final int warmup = options.warmupFor(size);
        final double[] latencies = new double[forks];
        final long[] privateBytes = new long[options.touch() ? 0 : forks];
        final long[] mine = new long[1];
        // Warm-up until both the count and the time are reached: at small sizes a fork takes microseconds, and the
        // JIT needs a fraction of a second of this exact workload before the code stops changing.
        final long warmupStart = System.nanoTime();
        int warmed = 0;
        while (warmed < warmup || System.nanoTime() - warmupStart < options.warmupNanos())
        {
            forkOnce(ctx, metrics, size, copyMode, options.touch(), mine);
            warmed++;
        }
        log.printf(Locale.ROOT, "forkbench: %s %s: %d warm-up forks in %.2f s, now %d measured forks%n",
            ForkBenchOptions.formatSize(size), mode.label(), warmed, (System.nanoTime() - warmupStart) / 1e9, forks);
        for (int i = 0; i < forks; i++)
        {
            latencies[i] = forkOnce(ctx, metrics, size, copyMode, options.touch(), mine) / 1e3;
            if (!options.touch())
            {
                privateBytes[i] = mine[0];
            }
        }
        final long childPrivate = options.touch() ? touchedPrivateBytes(ctx, metrics, size, copyMode)
            : Latencies.medianOf(privateBytes);
        final Latencies summary = Latencies.of(latencies);
        progress(size, mode, summary);
        return new ForkBenchReport.Row(size, mode, summary, childPrivate);
    }

    /**
     * Catches SIGUSR1 and SIGUSR2 with handlers that do nothing, so that a wait they end returns EINTR and the
     * µprocess goes on, and blocks them, so that one sent before its receiver waits stays pending until the
     * receiver's {@link ProcessContext#sigsuspend(long)} rather than being handled by whatever kernel call the
     * receiver is in. Forked children inherit both.
     */
    private static void catchReleaseSignals(final ProcessContext ctx)
    {
        for (final Signal signal : new Signal[] {Signal.SIGUSR1, Signal.SIGUSR2})
        {
            ctx.sigaction(signal, SignalAction.handle((context, delivered) ->
            {
            }));
        }
        ctx.sigprocmask(ProcessContext.SIG_BLOCK, ProcessContext.maskOf(Signal.SIGUSR1, Signal.SIGUSR2));
    }

    /**
     * One measured fork and its clean-up.
     *
     * @param privateBytes where the child's private bytes go (without {@code touch}).
     * @return nanoseconds from the call of fork to its return, or with {@code touch} to the return of waitpid.
     */
    private static long forkOnce(final ProcessContext ctx, final KernelMetrics metrics, final long size,
        final CopyMode mode, final boolean touch, final long[] privateBytes)
    {
        if (touch)
        {
            final Program writer = child -> touchEveryPage(child, size);
            final long start = System.nanoTime();
            final int pid = ctx.fork(writer, mode);
            reap(ctx, pid);
            return System.nanoTime() - start;
        }
        final long start = System.nanoTime();
        final int pid = ctx.fork(ForkBench::announceAndAwaitRelease, mode);
        final long elapsed = System.nanoTime() - start;
        // Once it runs it has copied its register page, and it waits for SIGUSR1, touching nothing more.
        awaitChild(ctx);
        privateBytes[0] = metrics.privateBytes(pid);
        ctx.kill(pid, Signal.SIGUSR1);
        reap(ctx, pid);
        return elapsed;
    }

    /**
     * With --touch: one untimed fork whose child writes every page, then tells the parent (SIGUSR2) and waits until
     * the parent has read its private bytes.
     */
    private static long touchedPrivateBytes(final ProcessContext ctx, final KernelMetrics metrics, final long size,
        final CopyMode mode)
    {
        final int pid = ctx.fork(child ->
        {
            touchEveryPage(child, size);
            announceAndAwaitRelease(child);
        }, mode);
        awaitChild(ctx);
        final long bytes = metrics.privateBytes(pid);
        ctx.kill(pid, Signal.SIGUSR1);
        reap(ctx, pid);
        return bytes;
    }

    /**
     * The child's side of --touch: one long into every page that holds data (heap offset 0, then the start of each
     * later page of the area), each through the child's checked memory, so each makes the page its own.
     */
    static void touchEveryPage(final ProcessContext ctx, final long size)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability heap = heapOf(ctx);
        final int pid = ctx.getpid();
        memory.storeLong(heap, 0, pid);
        final long firstPage = Geometry.PAGE_SIZE - RegisterFileDescriptor.SIZE;
        for (long offset = firstPage; offset < size; offset += Geometry.PAGE_SIZE)
        {
            memory.storeLong(heap, offset, pid);
        }
    }

    /**
     * The µprocess's data: its area capability moved past the register file. Not {@link ProcessContext#heap()},
     * whose exact bounds start 1/512 of the area in from 4 MiB areas on: the data starts right after the register
     * file at every size, so that every size touches the same pages the same way.
     */
    static Capability heapOf(final ProcessContext ctx)
    {
        return ctx.area().add(RegisterFileDescriptor.SIZE);
    }

    /**
     * A child that tells its parent it runs (SIGUSR2), then waits, touching nothing, for its parent's SIGUSR1. A
     * forked child copies its register page as it starts, before its program runs, so its parent measures its
     * memory once told ({@link #awaitChild}), and forks one such child at a time (a second SIGUSR2 pending would
     * merge with the first). Needs {@link #catchReleaseSignals}: the release may come before the child waits.
     */
    static void announceAndAwaitRelease(final ProcessContext ctx)
    {
        ctx.kill(ctx.getppid(), Signal.SIGUSR2);
        awaitSignal(ctx, Signal.SIGUSR1);
    }

    /** The parent's side of {@link #announceAndAwaitRelease}: waits until its child says it runs. */
    static void awaitChild(final ProcessContext ctx)
    {
        awaitSignal(ctx, Signal.SIGUSR2);
    }

    /** Waits until {@code signal}, blocked by {@link #catchReleaseSignals} until now, has been handled. */
    private static void awaitSignal(final ProcessContext ctx, final Signal signal)
    {
        final long mask = ctx.sigprocmask(ProcessContext.SIG_BLOCK, 0) & ~ProcessContext.maskOf(signal);
        try
        {
            ctx.sigsuspend(mask);
        }
        catch (final ErrnoException e)
        {
            if (e.errno() != Errno.EINTR)
            {
                throw e;
            }
        }
    }

    private static void reap(final ProcessContext ctx, final int pid)
    {
        WaitResult result;
        while (true)
        {
            try
            {
                result = ctx.waitpid(pid, 0);
                break;
            }
            catch (final ErrnoException e)
            {
                // A caught signal may interrupt the wait; it is not ours to act on.
                if (e.errno() != Errno.EINTR)
                {
                    throw e;
                }
            }
        }
        if (result.status() != WaitStatus.exited(0))
        {
            throw new IllegalStateException("child " + pid + " ended with " + statusText(result.status()));
        }
    }

    private void progress(final long size, final ForkMode mode, final Latencies latencies)
    {
        log.printf(Locale.ROOT, "forkbench: %s %s: median %.2f µs, p99 %.2f µs over %d forks%n",
            ForkBenchOptions.formatSize(size), mode.label(), latencies.medianUs(), latencies.p99Us(),
            latencies.count());
    }

    static String statusText(final int status)
    {
        if (WaitStatus.ifExited(status))
        {
            return "exit status " + WaitStatus.exitStatus(status);
        }
        final int signal = WaitStatus.termSignal(status);
        String name;
        try
        {
            name = Signal.of(signal).name();
        }
        catch (final ErrnoException e)
        {
            name = "signal " + signal;
        }
        return name + " (wait status 0x" + Integer.toHexString(status) + ")";
    }

    // ------------------------------------------------------------------------------------------------------------
    // The minimal forked µprocess

    /**
     * What the minimal forked µprocess costs, in a 64 KiB area, forked with COPA.
     *
     * @param proportionalBytes     the child's proportional bytes right after the fork (its private pages plus its
     *                              share of the pages it still shares with its parent), the parent having touched
     *                              nothing but its register file: the target metric.
     * @param privateBytes          the same child's private resident bytes.
     * @param fullProportionalBytes the child's proportional bytes when the parent has written its whole area first.
     * @param heapBytesPerProcess   Java heap per paused forked µprocess, estimated over
     *                              {@value #HEAP_SAMPLE_CHILDREN} children (kernel objects and the virtual thread's
     *                              stack, not in any area).
     */
    record MinimalFork(long proportionalBytes, long privateBytes, long fullProportionalBytes,
        long heapBytesPerProcess)
    {
        /** @return one line for people, with the target. */
        String describe()
        {
            return String.format(Locale.ROOT,
                "minimal forked µprocess (64 KiB area, copa): proportional %.1f KiB (target ≤ %d KiB: %s), private "
                    + "%.1f KiB; %.1f KiB if the parent first wrote its whole area; plus about %.1f KiB of Java heap "
                    + "per µprocess outside its area",
                proportionalBytes / 1024.0, MINIMAL_TARGET / 1024, proportionalBytes <= MINIMAL_TARGET ? "met"
                    : "missed", privateBytes / 1024.0, fullProportionalBytes / 1024.0, heapBytesPerProcess / 1024.0);
        }
    }

    /**
     * In a fresh kernel, a 64 KiB µprocess that has touched nothing but its register file forks a child that does
     * nothing; the child's proportional and private bytes are read while it waits. Then the parent writes its whole
     * area and does it again; then {@value #HEAP_SAMPLE_CHILDREN} such children at once give the Java heap per
     * µprocess.
     */
    private MinimalFork measureMinimal() throws InterruptedException
    {
        final long[] result = {-1, -1, -1, -1};
        final AtomicReference<RuntimeException> failure = new AtomicReference<>();
        final KernelConfig config = KernelConfig.ofSpace(ForkBenchOptions.GIB).withAreaSize(MINIMAL_AREA);
        try (Kernel kernel = Kernel.boot(config))
        {
            final KernelMetrics metrics = kernel.metrics();
            final int parent = kernel.spawn(MINIMAL_AREA, ctx ->
            {
                try
                {
                    catchReleaseSignals(ctx);
                    int child = ctx.fork(ForkBench::announceAndAwaitRelease, CopyMode.COPA);
                    awaitChild(ctx);
                    result[0] = metrics.proportionalBytes(child);
                    result[1] = metrics.privateBytes(child);
                    ctx.kill(child, Signal.SIGUSR1);
                    reap(ctx, child);
                    ctx.memory().fill(heapOf(ctx), 0, MINIMAL_AREA - RegisterFileDescriptor.SIZE, (byte)1);
                    child = ctx.fork(ForkBench::announceAndAwaitRelease, CopyMode.COPA);
                    awaitChild(ctx);
                    result[2] = metrics.proportionalBytes(child);
                    ctx.kill(child, Signal.SIGUSR1);
                    reap(ctx, child);
                    result[3] = heapPerChild(ctx);
                }
                catch (final RuntimeException e)
                {
                    failure.set(e);
                    ctx.exit(1);
                }
            });
            final int status = kernel.awaitExit(parent);
            if (failure.get() != null)
            {
                throw new IllegalStateException("the minimal µprocess failed: " + failure.get(), failure.get());
            }
            if (status != WaitStatus.exited(0))
            {
                throw new IllegalStateException("the minimal µprocess ended with " + statusText(status));
            }
        }
        final MinimalFork minimal = new MinimalFork(result[0], result[1], result[2], result[3]);
        log.println("forkbench: " + minimal.describe());
        return minimal;
    }

    /** Java heap used with {@value #HEAP_SAMPLE_CHILDREN} paused children alive, less without, per child. */
    private static long heapPerChild(final ProcessContext ctx)
    {
        final long before = usedHeapAfterGc();
        final int[] pids = new int[HEAP_SAMPLE_CHILDREN];
        for (int i = 0; i < pids.length; i++)
        {
            pids[i] = ctx.fork(ForkBench::announceAndAwaitRelease, CopyMode.COPA);
            awaitChild(ctx);
        }
        final long with = usedHeapAfterGc();
        for (final int pid : pids)
        {
            ctx.kill(pid, Signal.SIGUSR1);
            reap(ctx, pid);
        }
        return Math.max(0, (with - before) / pids.length);
    }

    private static long usedHeapAfterGc()
    {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
