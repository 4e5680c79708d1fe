package dev.ufork.perf;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.CapabilityRoots;
import dev.ufork.capability.Permissions;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.Area;
import dev.ufork.memory.AreaInit;
import dev.ufork.memory.TaggedMemory;
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

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * One 8-byte load or store, and one capability load or store, through a capability against the same access on the
 * raw {@link MemorySegment} of the same address space (the baseline). Each invocation walks to the next 64-byte
 * line of a 4 KiB window, so the JIT cannot hoist the access and everything stays in L1.
 * <p>
 * Ratios to report: {@code checkedLoadLong / rawLoadLong}, {@code checkedStoreLong / rawStoreLong},
 * {@code checkedStoreCapability / rawStore16}, {@code checkedLoadCapability / rawLoad16}. {@code taggedStoreLong} is
 * the store without capability checks (tag rule, and the page lock when shared), to split the cost.
 * <p>
 * {@code confinement=shared}: any thread may touch the area, so stores take a page lock. {@code confined}: the area
 * is confined to the benchmark thread ({@link Area#confineTo(Thread)}), as a single-threaded µprocess's area is, and
 * stores skip the lock.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class CheckedAccessBenchmark
{
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final long WINDOW = 4096;
    private static final long STEP = 64;

    /** Whether the accessed area is shared by all threads or confined to the benchmark thread. */
    @Param({"shared", "confined"})
    public String confinement;

    /**
     * Bytes of the accessed area, aligned to its size. From 16 MiB on a confined area's owner is recorded per 16 MiB
     * block rather than per 64 KiB chunk, and the confined store reads one more owner word: {@code -p
     * areaBytes=1048576,67108864} compares the two.
     */
    @Param({"1048576"})
    public long areaBytes;

    private AddressSpace space;
    private CapabilityMemory memory;
    private TaggedMemory tagged;
    private MemorySegment raw;
    private Capability window;
    private Capability value;
    private long base;
    private long offset;

    /**
     * Reserves a space (64 MiB, or twice the area) and a capability over a 4 KiB window of it holding one capability
     * per line. JMH runs
     * the trial setup of a thread-scoped state on the benchmark thread, so confining to the current thread works.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        space = AddressSpace.reserve(Math.max(64L << 20, 2 * areaBytes));
        memory = new CapabilityMemory(space);
        tagged = space.memory();
        raw = tagged.segment();
        final Area area = space.allocate(areaBytes, areaBytes, AreaInit.ZEROED);
        if ("confined".equals(confinement))
        {
            area.confineTo(Thread.currentThread());
        }
        base = area.base();
        window = CapabilityRoots.memoryRoot(space).withAddress(base).setBoundsExact(WINDOW)
            .andPermissions(Permissions.CAP_READ_WRITE);
        value = window.add(128).setBoundsExact(64);
        for (long off = 0; off < WINDOW; off += STEP)
        {
            memory.storeCapability(window, off, value);
        }
    }

    /** Unmaps the space. */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        space.close();
    }

    private long next()
    {
        final long o = offset;
        offset = (o + STEP) & (WINDOW - 1);
        return o;
    }

    /** @return baseline: 8-byte load from the raw segment. */
    @Benchmark
    public long rawLoadLong()
    {
        return raw.get(LONG, base + next() + 8);
    }

    /** @return 8-byte load through a capability. */
    @Benchmark
    public long checkedLoadLong()
    {
        return memory.loadLong(window, next() + 8);
    }

    /** Baseline: 8-byte store to the raw segment. */
    @Benchmark
    public void rawStoreLong()
    {
        raw.set(LONG, base + next() + 32, 42L);
    }

    /** 8-byte store through a capability (page lock, tag rule, checks). */
    @Benchmark
    public void checkedStoreLong()
    {
        memory.storeLong(window, next() + 32, 42L);
    }

    /** 8-byte store with the tag rule and page lock but no capability checks. */
    @Benchmark
    public void taggedStoreLong()
    {
        tagged.storeLong(base + next() + 32, 42L);
    }

    /** @return baseline: the two words of a granule from the raw segment. */
    @Benchmark
    public long rawLoad16()
    {
        final long at = base + next();
        return raw.get(LONG, at) ^ raw.get(LONG, at + 8);
    }

    /** @return a capability load through a capability (allocates the result unless escape analysis removes it). */
    @Benchmark
    public Capability checkedLoadCapability()
    {
        return memory.loadCapability(window, next());
    }

    /** @return a capability load whose result is consumed at once, as a pointer chase does. */
    @Benchmark
    public long checkedLoadCapabilityAddress()
    {
        return memory.loadCapability(window, next()).address();
    }

    /**
     * {@link #checkedLoadCapabilityAddress} in a JVM that inlines compiled methods of up to 6000 bytes of machine
     * code. With the default limit ({@code InlineSmallCode}, 2500 bytes on x86-64), C2 compiles the hot
     * {@code loadCapability} on its own first (it becomes hot before the benchmark loop does), finds its code
     * (about 3.2 KB confined, 4.9 KB shared) too big to inline later, and the call allocates the result. Inlined,
     * the loaded capability does not escape and escape analysis removes it: this shows that the load path itself
     * allocates nothing.
     *
     * @return a capability load whose result is consumed at once, inlined.
     */
    @Benchmark
    @Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:InlineSmallCode=6000"})
    public long checkedLoadCapabilityAddressInlined()
    {
        return memory.loadCapability(window, next()).address();
    }

    /** Baseline: two words into a granule of the raw segment. */
    @Benchmark
    public void rawStore16()
    {
        final long at = base + next();
        raw.set(LONG, at, 1L);
        raw.set(LONG, at + 8, 2L);
    }

    /** A tagged capability store through a capability. */
    @Benchmark
    public void checkedStoreCapability()
    {
        memory.storeCapability(window, next(), value);
    }
}
