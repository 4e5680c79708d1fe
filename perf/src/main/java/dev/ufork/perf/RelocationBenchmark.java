package dev.ufork.perf;

import dev.ufork.capability.CheriConcentrate;
import dev.ufork.capability.ObjectType;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.relocation.AdaptiveRelocator;
import dev.ufork.kernel.relocation.RelocationWindow;
import dev.ufork.kernel.relocation.Relocator;
import dev.ufork.kernel.relocation.ScalarRelocator;
import dev.ufork.kernel.relocation.VectorRelocator;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.TaggedMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Fork relocation kernels, in nanoseconds per 4 KiB page: {@link ScalarRelocator} (tag-bit walk),
 * {@link VectorRelocator} (dense blend-add, the preferred vector width) and {@link AdaptiveRelocator} (per-page
 * choice), at tag densities 1–100 %, over (a) a cache-hot 256 KiB region and (b) a 64 MiB region (DRAM-bound),
 * plus the fused {@code copyAndRelocate} of a page against a plain {@link MemorySegment#copy} of it.
 * <p>
 * Every tagged granule is a capability into a 64 MiB parent area, mostly small (exponent 0) with some up to 256 KiB,
 * 10 % pointing outside the area; untagged granules hold random bytes. The delta is a multiple of the area size, so
 * every in-area capability takes the fast path, as the kernel arranges. An invocation relocates the region there and
 * back (the second pass does the same work with the inverse window), so the image stays valid across invocations.
 * <p>
 * What to compare: {@code hotScalar} against {@code hotVector} per density gives the crossover that sets
 * {@link AdaptiveRelocator#DEFAULT_THRESHOLD}, {@code large*} the one for
 * {@link AdaptiveRelocator#DEFAULT_STREAMING_THRESHOLD}, {@code copyScalar} against {@code copyVector} the one for
 * {@link AdaptiveRelocator#DEFAULT_COPY_THRESHOLD}; {@code copy*} against {@code copySegment} is the price of
 * relocating a page while copying it. The vector kernel uses the platform's preferred width; to measure another,
 * {@code -jvmArgsAppend "--enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector
 * -Dufork.relocation.vectorBits=256"} (the option replaces the arguments of {@link Fork}).
 * <p>
 * HOW TO RUN: {@code java -jar perf/target/benchmarks.jar RelocationBenchmark}, or {@link #main(String[])};
 * a finer crossover sweep: {@code ... RelocationBenchmark.hot -p density=5,10,15,20,25,30,40}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
public class RelocationBenchmark
{
    private static final long PAGE = 4096;
    private static final long MIB = 1L << 20;
    /** The parent's area (capability targets); nothing is stored there, the addresses are only values. */
    private static final RelocationWindow WINDOW = RelocationWindow.of(64 * MIB, 128 * MIB, 64 * MIB);
    private static final RelocationWindow INVERSE = WINDOW.inverse();
    /** Where the relocated pages live. */
    private static final long REGION = 256 * MIB;
    private static final int HOT_PAGES = 64;
    private static final int LARGE_PAGES = 16384;

    private static final ScalarRelocator SCALAR = new ScalarRelocator();
    private static final VectorRelocator VECTOR = new VectorRelocator();
    private static final AdaptiveRelocator ADAPTIVE = new AdaptiveRelocator();

    /** A space holding a region of pages of capabilities at some density. */
    static final class Image implements AutoCloseable
    {
        final AddressSpace space;
        final TaggedMemory memory;
        final int pages;

        /**
         * Reserves 512 MiB (untouched parts cost nothing) and writes the image; with {@code destination} also faults
         * in as many pages after it, so page copies measure copying rather than page faults.
         */
        Image(final int pages, final int density, final boolean destination)
        {
            this.space = AddressSpace.reserve(512 * MIB);
            this.memory = space.memory();
            this.pages = pages;
            write(memory, REGION, pages, density, new SplittableRandom(42));
            if (destination)
            {
                memory.segment().asSlice(REGION + pages * PAGE, pages * PAGE).fill((byte)1);
            }
        }

        @Override
        public void close()
        {
            space.close();
        }
    }

    /** 256 KiB: stays in L2. */
    @State(Scope.Thread)
    public static class Hot
    {
        /** Percent of granules that hold a tagged capability. */
        @Param({"1", "5", "25", "50", "100"})
        public int density;

        Image image;

        /** Writes the image. */
        @Setup(Level.Trial)
        public void setUp()
        {
            image = new Image(HOT_PAGES, density, false);
        }

        /** Unmaps the space. */
        @TearDown(Level.Trial)
        public void tearDown()
        {
            image.close();
        }
    }

    /** 64 MiB: twice the L3, so every pass streams from DRAM. */
    @State(Scope.Thread)
    public static class Large
    {
        /** Percent of granules that hold a tagged capability. */
        @Param({"1", "5", "25", "50", "100"})
        public int density;

        Image image;

        /** Writes the image. */
        @Setup(Level.Trial)
        public void setUp()
        {
            image = new Image(LARGE_PAGES, density, false);
        }

        /** Unmaps the space. */
        @TearDown(Level.Trial)
        public void tearDown()
        {
            image.close();
        }
    }

    /** Hot source pages and a faulted-in destination of the same size, for page copies. */
    @State(Scope.Thread)
    public static class Copy
    {
        /** Percent of granules that hold a tagged capability. */
        @Param({"1", "5", "25", "50", "100"})
        public int density;

        Image image;

        /** Writes the source and faults in the destination. */
        @Setup(Level.Trial)
        public void setUp()
        {
            image = new Image(HOT_PAGES, density, true);
        }

        /** Unmaps the space. */
        @TearDown(Level.Trial)
        public void tearDown()
        {
            image.close();
        }
    }

    static void write(final TaggedMemory memory, final long at, final int pages, final int density,
        final SplittableRandom random)
    {
        // A pool of capabilities, reused at random: generating each one with setBounds would dominate set-up.
        final long[] pool = new long[2 * 4096];
        final CheriConcentrate.BoundsEncoding encoding = new CheriConcentrate.BoundsEncoding();
        final long root = CheriConcentrate.encode(0, 0, true, Permissions.CAP_READ_WRITE, ObjectType.UNSEALED, 0);
        for (int i = 0; i < pool.length; i += 2)
        {
            final int kind = random.nextInt(10);
            final long length = kind < 7 ? random.nextLong(PAGE) : random.nextLong(256 << 10);
            final long base = kind == 9 ? random.nextLong(32 * MIB)
                : WINDOW.fromBase() + (1 * MIB) + random.nextLong(WINDOW.size() - 2 * MIB);
            CheriConcentrate.setBounds(root, base, base + length, false, encoding);
            pool[i] = encoding.base();
            pool[i + 1] = encoding.metadata();
        }
        final long granules = pages * (PAGE / 16);
        for (long g = 0; g < granules; g++)
        {
            final long address = at + g * 16;
            if (random.nextInt(100) < density)
            {
                final int pick = 2 * random.nextInt(pool.length / 2);
                memory.storeCapability(address, pool[pick], pool[pick + 1], true);
            }
            else
            {
                memory.storeCapability(address, random.nextLong(), random.nextLong(), false);
            }
        }
    }

    static long thereAndBack(final Relocator relocator, final Image image)
    {
        final long bytes = image.pages * PAGE;
        return relocator.relocate(image.memory, REGION, bytes, WINDOW)
            + relocator.relocate(image.memory, REGION, bytes, INVERSE);
    }

    static long copyPages(final Relocator relocator, final Image image)
    {
        long count = 0;
        for (int p = 0; p < HOT_PAGES; p++)
        {
            count += relocator.copyAndRelocate(image.memory, REGION + p * PAGE, REGION + (HOT_PAGES + p) * PAGE,
                WINDOW);
        }
        return count;
    }

    /** @param state the hot image. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(2 * HOT_PAGES)
    public long hotScalar(final Hot state)
    {
        return thereAndBack(SCALAR, state.image);
    }

    /** @param state the hot image. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(2 * HOT_PAGES)
    public long hotVector(final Hot state)
    {
        return thereAndBack(VECTOR, state.image);
    }

    /** @param state the hot image. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(2 * HOT_PAGES)
    public long hotAdaptive(final Hot state)
    {
        return thereAndBack(ADAPTIVE, state.image);
    }

    /** @param state the 64 MiB image. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(2 * LARGE_PAGES)
    public long largeScalar(final Large state)
    {
        return thereAndBack(SCALAR, state.image);
    }

    /** @param state the 64 MiB image. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(2 * LARGE_PAGES)
    public long largeVector(final Large state)
    {
        return thereAndBack(VECTOR, state.image);
    }

    /** @param state the 64 MiB image. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(2 * LARGE_PAGES)
    public long largeAdaptive(final Large state)
    {
        return thereAndBack(ADAPTIVE, state.image);
    }

    /** @param state source and destination pages. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(HOT_PAGES)
    public long copyScalar(final Copy state)
    {
        return copyPages(SCALAR, state.image);
    }

    /** @param state source and destination pages. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(HOT_PAGES)
    public long copyVector(final Copy state)
    {
        return copyPages(VECTOR, state.image);
    }

    /** @param state source and destination pages. @return capabilities relocated. */
    @Benchmark
    @OperationsPerInvocation(HOT_PAGES)
    public long copyAdaptive(final Copy state)
    {
        return copyPages(ADAPTIVE, state.image);
    }

    /**
     * Baseline: the bytes of the same pages, page by page, no tags and no relocation.
     *
     * @param state source and destination pages.
     */
    @Benchmark
    @OperationsPerInvocation(HOT_PAGES)
    public void copySegment(final Copy state)
    {
        final MemorySegment data = state.image.memory.segment();
        for (int p = 0; p < HOT_PAGES; p++)
        {
            MemorySegment.copy(data, REGION + p * PAGE, data, REGION + (HOT_PAGES + p) * PAGE, PAGE);
        }
    }

    /**
     * Runs every benchmark of this class.
     *
     * @param args ignored.
     * @throws RunnerException if JMH fails.
     */
    public static void main(final String[] args) throws RunnerException
    {
        final Options options = new OptionsBuilder().include(RelocationBenchmark.class.getSimpleName()).build();
        new Runner(options).run();
    }
}
