package dev.ufork.perf;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.ProcessContext;
import dev.ufork.kernel.Signal;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the copy-on-write sharing check adds to a checked access on a private page: an 8-byte load and store through
 * a capability with the foundation's checked access ({@code plain*}: {@code new CapabilityMemory(space)}, no barrier)
 * against the same access through the µprocess's own memory ({@code process*}: {@link ProcessContext#memory()}, whose
 * barrier fences the area and checks page sharing). Both run on the µprocess's thread over the same 4 KiB page of its
 * area, so both skip the page lock of a confined area and differ only by the barrier. Each invocation walks to the
 * next 64-byte line of the page, as {@link CheckedAccessBenchmark} does.
 * <p>
 * {@code page}: {@code private}, a µprocess that never forked (the barrier's page-state and epoch tables are absent);
 * {@code forked-copa} and {@code forked-coa}, a µprocess that forked once (the child stays alive, paused) and then
 * wrote the page again, so the page is exclusive for the current fork epoch: the fast path with the epoch tables
 * present, which is every access of a µprocess that has ever forked.
 * <p>
 * The target: {@code process*} at most 10 % over {@code plain*}. Run with {@code -prof gc} to see that
 * neither allocates.
 * <p>
 * HOW IT RUNS: JMH's worker threads are µprocesses of a {@link ProcessExecutor} (set by the {@link Fork} arguments),
 * because the µprocess's area is confined to its thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djmh.executor=CUSTOM",
    "-Djmh.executor.class=dev.ufork.perf.ProcessExecutor"})
public class SharingCheckBenchmark
{
    private static final long PAGE = 4096;
    private static final long STEP = 64;

    /** The state of the accessed page's µprocess: never forked, or forked once and the page written since. */
    @Param({"private", "forked-copa", "forked-coa"})
    public String page;

    private CapabilityMemory plain;
    private CapabilityMemory process;
    private ProcessContext context;
    private Capability window;
    private int child;
    private long offset;

    /**
     * On the µprocess's thread: a capability over page 1 of its area holding one capability per line, and for the
     * forked cases a paused child and a write to every line of the page after the fork.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        context = ProcessExecutor.context();
        plain = new CapabilityMemory(ProcessExecutor.kernel().space());
        process = context.memory();
        final Capability area = context.area();
        window = area.add(PAGE).setBoundsExact(PAGE);
        final Capability value = window.add(128).setBoundsExact(64);
        for (long off = 0; off < PAGE; off += STEP)
        {
            process.storeCapability(window, off, value);
        }
        if (!"private".equals(page))
        {
            final CopyMode mode = "forked-coa".equals(page) ? CopyMode.COA : CopyMode.COPA;
            child = context.fork(SharingCheckBenchmark::waitForKill, mode);
            for (long off = 0; off < PAGE; off += STEP)
            {
                process.storeLong(window, off + 32, off);
            }
        }
    }

    /** The child of the forked cases: waits, touching nothing, until it is killed. */
    private static void waitForKill(final ProcessContext ctx)
    {
        while (true)
        {
            ctx.sleep(TimeUnit.SECONDS.toNanos(1));
        }
    }

    /** Kills and reaps the child, if any. */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        if (child > 0)
        {
            context.kill(child, Signal.SIGKILL);
            context.waitpid(child, 0);
            child = 0;
        }
    }

    private long next()
    {
        final long o = offset;
        offset = (o + STEP) & (PAGE - 1);
        return o;
    }

    /** @return 8-byte load, checked access without a barrier. */
    @Benchmark
    public long plainLoadLong()
    {
        return plain.loadLong(window, next() + 8);
    }

    /** @return 8-byte load through the µprocess's memory: checks, then the sharing check. */
    @Benchmark
    public long processLoadLong()
    {
        return process.loadLong(window, next() + 8);
    }

    /** 8-byte store, checked access without a barrier. */
    @Benchmark
    public void plainStoreLong()
    {
        plain.storeLong(window, next() + 32, 42L);
    }

    /** 8-byte store through the µprocess's memory: checks, then the sharing check. */
    @Benchmark
    public void processStoreLong()
    {
        process.storeLong(window, next() + 32, 42L);
    }
}
