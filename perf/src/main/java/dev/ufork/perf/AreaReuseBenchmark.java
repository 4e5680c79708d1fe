package dev.ufork.perf;

import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.AddressSpaceConfig;
import dev.ufork.memory.Area;
import dev.ufork.memory.AreaInit;
import dev.ufork.memory.Geometry;
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
 * The cycle a short-lived µprocess puts its area through: allocate, write every page, free. With {@code warm} the
 * freed area stays resident and the next allocation of the same size reuses it (zeroing it); with {@code cold} its
 * pages go back to the OS at free and every page faults again on the next touch. The ratio {@code cold / warm} is
 * what keeping freed memory warm buys.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class AreaReuseBenchmark
{
    /** Area size in bytes. */
    @Param({"65536", "1048576"})
    public long size;

    /** {@code warm}: keep freed areas resident (default policy); {@code cold}: release them at once. */
    @Param({"warm", "cold"})
    public String policy;

    private AddressSpace space;
    private MemorySegment raw;

    /** Reserves a 1 GiB space with the chosen retention policy. */
    @Setup(Level.Trial)
    public void setUp()
    {
        final AddressSpaceConfig config = AddressSpaceConfig.ofSize(1L << 30)
            .withWarmRetain("warm".equals(policy) ? 64L << 20 : 0);
        space = AddressSpace.reserve(config);
        raw = space.memory().segment();
    }

    /** Unmaps the space. */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        space.close();
    }

    /** @return a byte read back, so the cycle is not dead code. */
    @Benchmark
    public long allocateTouchFree()
    {
        final Area area = space.allocate(size, Geometry.PAGE_SIZE, AreaInit.ZEROED);
        final long base = area.base();
        for (long off = 0; off < size; off += Geometry.PAGE_SIZE)
        {
            raw.set(ValueLayout.JAVA_LONG, base + off, off);
        }
        final long check = raw.get(ValueLayout.JAVA_LONG, base + size - Geometry.PAGE_SIZE);
        space.free(area);
        return check;
    }
}
