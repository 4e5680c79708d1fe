package dev.ufork.perf;

import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.Area;
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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Tag-preserving copy ({@link TaggedMemory#copy} with tags moving) against {@link MemorySegment#copy} of the same
 * bytes within the same space, at 4 KiB, 1 MiB and 64 MiB. The source holds a capability tag on about 5% of its
 * granules, as pointer-rich data does. Both directions are pre-faulted.
 * <p>
 * Ratio to report: {@code taggedCopy / segmentCopy} per size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class TaggedCopyBenchmark
{
    /** Bytes per copy. */
    @Param({"4096", "1048576", "67108864"})
    public long size;

    private AddressSpace space;
    private TaggedMemory memory;
    private MemorySegment raw;
    private long src;
    private long dst;

    /** Reserves a space, fills the source with data and ~5% tagged granules, faults in the destination. */
    @Setup(Level.Trial)
    public void setUp()
    {
        space = AddressSpace.reserve(512L << 20);
        memory = space.memory();
        raw = memory.segment();
        final Area from = space.allocate(size);
        final Area to = space.allocate(size);
        src = from.base();
        dst = to.base();
        final SplittableRandom random = new SplittableRandom(42);
        for (long off = 0; off < size; off += 16)
        {
            if (random.nextInt(100) < 5)
            {
                memory.storeCapability(src + off, src + random.nextLong(size), random.nextLong(), true);
            }
            else
            {
                raw.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, src + off, random.nextLong());
            }
        }
        raw.asSlice(dst, size).fill((byte)1);
    }

    /** Unmaps the space. */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        space.close();
    }

    /** Baseline: bytes only. */
    @Benchmark
    public void segmentCopy()
    {
        MemorySegment.copy(raw, src, raw, dst, size);
    }

    /** Bytes and tags, under the page locks. */
    @Benchmark
    public void taggedCopy()
    {
        memory.copy(src, dst, size, true);
    }
}
