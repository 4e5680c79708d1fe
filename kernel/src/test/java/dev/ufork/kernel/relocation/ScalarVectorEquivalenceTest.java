package dev.ufork.kernel.relocation;

import dev.ufork.kernel.relocation.CapabilityImages.Granule;
import dev.ufork.kernel.relocation.CapabilityImages.Mix;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.TaggedMemory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The scalar and vector kernels must leave bit-identical memory and tags on the same input, whether they relocate in
 * place or copy and relocate: they share the fast-lane test and the slow path, so any difference is a bug in one of
 * the lane-wise versions. Pages mix densities, so one run also crosses the adaptive relocator's threshold.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScalarVectorEquivalenceTest
{
    private static final int PAGES = 32;
    private static final long IMAGE_BYTES = PAGES * PAGE_SIZE;

    private final long seed = RelocationSeeds.seed();
    private AddressSpace space;
    private TaggedMemory memory;

    @BeforeAll
    void reserve()
    {
        space = AddressSpace.reserve(TestWindows.SPACE_SIZE);
        memory = space.memory();
    }

    @AfterAll
    void release()
    {
        space.close();
    }

    static Stream<Arguments> windows()
    {
        return Arrays.stream(TestWindows.values()).map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("windows")
    void scalarAndVectorShouldProduceIdenticalMemoryAndTags(final TestWindows windows)
    {
        final RelocationWindow window = windows.window;
        final SplittableRandom random = RelocationSeeds.random(seed, windows.ordinal(), 5);
        final CapabilityImages images = new CapabilityImages(window, Mix.FULL, random);
        final long original = TestWindows.SCRATCH;
        final long scalar = original + IMAGE_BYTES;
        final long vector = scalar + IMAGE_BYTES;
        final long adaptive = vector + IMAGE_BYTES;
        memory.fill(original, 4 * IMAGE_BYTES, (byte)0);
        for (int p = 0; p < PAGES; p++)
        {
            // Each page its own density, from empty to full.
            images.write(memory, original + p * PAGE_SIZE, 1, random.nextInt(6) == 0 ? 0 : random.nextDouble());
        }
        memory.copy(original, scalar, IMAGE_BYTES, true);
        memory.copy(original, vector, IMAGE_BYTES, true);
        memory.copy(original, adaptive, IMAGE_BYTES, true);

        final long scalarCount = new ScalarRelocator().relocate(memory, scalar, IMAGE_BYTES, window);
        final long vectorCount = new VectorRelocator().relocate(memory, vector, IMAGE_BYTES, window);
        final long adaptiveCount = new AdaptiveRelocator().relocate(memory, adaptive, IMAGE_BYTES, window);

        final String where = "window " + windows + " " + RelocationSeeds.replay(seed);
        final Granule[] expected = CapabilityImages.snapshot(memory, scalar, PAGES);
        assertArrayEquals(expected, CapabilityImages.snapshot(memory, vector, PAGES), "vector differs: " + where);
        assertArrayEquals(expected, CapabilityImages.snapshot(memory, adaptive, PAGES), "adaptive differs: " + where);
        assertEquals(scalarCount, vectorCount, "vector count: " + where);
        assertEquals(scalarCount, adaptiveCount, "adaptive count: " + where);

        // The same for the fused page copies, into destinations that hold stale capabilities.
        images.write(memory, scalar, PAGES, 0.3);
        memory.copy(scalar, vector, IMAGE_BYTES, true);
        long scalarCopied = 0;
        long vectorCopied = 0;
        for (int p = 0; p < PAGES; p++)
        {
            final long offset = p * PAGE_SIZE;
            scalarCopied += new ScalarRelocator().copyAndRelocate(memory, original + offset, scalar + offset, window);
            vectorCopied += new VectorRelocator().copyAndRelocate(memory, original + offset, vector + offset, window);
        }
        assertArrayEquals(CapabilityImages.snapshot(memory, scalar, PAGES),
            CapabilityImages.snapshot(memory, vector, PAGES), "vector copy differs: " + where);
        assertEquals(scalarCount, scalarCopied, "scalar copy count: " + where);
        assertEquals(scalarCount, vectorCopied, "vector copy count: " + where);
    }
}
