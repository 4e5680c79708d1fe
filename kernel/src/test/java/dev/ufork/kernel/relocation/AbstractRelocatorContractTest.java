package dev.ufork.kernel.relocation;

import dev.ufork.kernel.relocation.CapabilityImages.Granule;
import dev.ufork.kernel.relocation.CapabilityImages.Mix;
import dev.ufork.kernel.relocation.RelocationReference.Outcome;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.TaggedMemory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.ufork.memory.Geometry.GRANULES_PER_PAGE;
import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every {@link Relocator} must meet, checked granule by granule against {@link RelocationReference} on
 * random pages at tag densities 0–100 % and through every {@link TestWindows} window: in-area capabilities of all
 * sizes, permissions and object types (sentries and user-sealed ones included), capabilities that need clamping or
 * must be invalidated, capabilities pointing elsewhere, and untagged granules that look like in-area capabilities.
 * Each subclass names the implementation; a failure message carries the seed to replay it with.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AbstractRelocatorContractTest
{
    /** Pages per image: the first and the last are outside the relocated range, to prove the range is respected. */
    private static final int PAGES = 24;
    private static final long IMAGE_BYTES = PAGES * PAGE_SIZE;
    private static final int[] DENSITIES = {0, 1, 5, 25, 50, 100};

    private final long seed = RelocationSeeds.seed();
    private AddressSpace space;
    private TaggedMemory memory;

    /** @return the implementation under test. */
    protected abstract Relocator relocator();

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

    @BeforeEach
    void clearScratch()
    {
        memory.fill(TestWindows.SCRATCH, 4 * IMAGE_BYTES, (byte)0);
    }

    static Stream<Arguments> cases()
    {
        return Arrays.stream(TestWindows.values())
            .flatMap(w -> Arrays.stream(DENSITIES).mapToObj(d -> Arguments.of(w, d)));
    }

    @ParameterizedTest(name = "{0} at {1}%")
    @MethodSource("cases")
    void shouldRelocateExactlyAsTheReferenceDoes(final TestWindows windows, final int density)
    {
        final RelocationWindow window = windows.window;
        final SplittableRandom random = RelocationSeeds.random(seed, windows.ordinal(), density, 1);
        new CapabilityImages(window, Mix.FULL, random).write(memory, TestWindows.SCRATCH, PAGES, density / 100.0);
        final Granule[] before = CapabilityImages.snapshot(memory, TestWindows.SCRATCH, PAGES);

        final long count = relocator().relocate(memory, TestWindows.SCRATCH + PAGE_SIZE, IMAGE_BYTES - 2 * PAGE_SIZE,
            window);

        final Granule[] after = CapabilityImages.snapshot(memory, TestWindows.SCRATCH, PAGES);
        final EnumMap<Outcome, Integer> outcomes = new EnumMap<>(Outcome.class);
        long expected = 0;
        for (int g = 0; g < before.length; g++)
        {
            final String where = context(windows, density) + " granule 0x"
                + Long.toHexString(TestWindows.SCRATCH + g * GRANULE_SIZE);
            final int page = g / GRANULES_PER_PAGE;
            if (page == 0 || page == PAGES - 1)
            {
                assertEquals(before[g], after[g], "granule outside the relocated range changed: " + where);
            }
            else
            {
                final Outcome outcome = RelocationReference.check(before[g], after[g], window, where);
                outcomes.merge(outcome, 1, Integer::sum);
                expected += RelocationReference.counted(outcome);
            }
        }
        assertEquals(expected, count, "relocation count: " + context(windows, density));
        if (density >= 25)
        {
            // The generator must reach every outcome, or this test proves less than it claims.
            for (final Outcome outcome : Outcome.values())
            {
                assertTrue(outcomes.getOrDefault(outcome, 0) > 0,
                    "no granule with outcome " + outcome + ": " + context(windows, density) + " " + outcomes);
            }
        }
    }

    @ParameterizedTest(name = "{0} at {1}%")
    @MethodSource("cases")
    void copyAndRelocateShouldEqualCopyThenRelocate(final TestWindows windows, final int density)
    {
        final RelocationWindow window = windows.window;
        final SplittableRandom random = RelocationSeeds.random(seed, windows.ordinal(), density, 2);
        final CapabilityImages images = new CapabilityImages(window, Mix.FULL, random);
        final long src = TestWindows.SCRATCH;
        final long fused = src + IMAGE_BYTES;
        final long separate = fused + IMAGE_BYTES;
        images.write(memory, src, PAGES, density / 100.0);
        // Stale capabilities in the destination: the copy must replace their tags, not merge with them.
        images.write(memory, fused, PAGES, 0.5);
        final Granule[] source = CapabilityImages.snapshot(memory, src, PAGES);

        long fusedCount = 0;
        for (int p = 0; p < PAGES; p++)
        {
            fusedCount += relocator().copyAndRelocate(memory, src + p * PAGE_SIZE, fused + p * PAGE_SIZE, window);
        }
        memory.copy(src, separate, IMAGE_BYTES, true);
        final long separateCount = relocator().relocate(memory, separate, IMAGE_BYTES, window);

        final String where = context(windows, density);
        assertArrayEquals(source, CapabilityImages.snapshot(memory, src, PAGES), "source changed: " + where);
        final Granule[] fusedImage = CapabilityImages.snapshot(memory, fused, PAGES);
        assertArrayEquals(CapabilityImages.snapshot(memory, separate, PAGES), fusedImage,
            "copyAndRelocate differs from copy + relocate: " + where);
        assertEquals(separateCount, fusedCount, "counts differ: " + where);
        long expected = 0;
        for (int g = 0; g < source.length; g++)
        {
            expected += RelocationReference.counted(RelocationReference.check(source[g], fusedImage[g], window,
                where + " copied granule " + g));
        }
        assertEquals(expected, fusedCount, "relocation count: " + where);
    }

    @ParameterizedTest(name = "{0} at {1}%")
    @MethodSource("cases")
    void relocatingThereAndBackShouldRestoreTheImage(final TestWindows windows, final int density)
    {
        final RelocationWindow window = windows.window;
        final SplittableRandom random = RelocationSeeds.random(seed, windows.ordinal(), density, 3);
        new CapabilityImages(window, Mix.LOSSLESS, random)
            .write(memory, TestWindows.SCRATCH, PAGES, density / 100.0);
        final Granule[] before = CapabilityImages.snapshot(memory, TestWindows.SCRATCH, PAGES);
        final long inSource = Arrays.stream(before).filter(g -> RelocationReference.moves(g, window)).count();

        final long there = relocator().relocate(memory, TestWindows.SCRATCH, IMAGE_BYTES, window);
        final long back = relocator().relocate(memory, TestWindows.SCRATCH, IMAGE_BYTES, window.inverse());

        final String where = context(windows, density);
        assertEquals(inSource, there, "forward count: " + where);
        assertEquals(inSource, back, "backward count: " + where);
        assertArrayEquals(before, CapabilityImages.snapshot(memory, TestWindows.SCRATCH, PAGES),
            "image not restored: " + where);
    }

    @Test
    void shouldRelocateNothingInAnEmptyRange()
    {
        final RelocationWindow window = TestWindows.ALIGNED.window;
        new CapabilityImages(window, Mix.FULL, RelocationSeeds.random(seed, 4))
            .write(memory, TestWindows.SCRATCH, 1, 1.0);
        final Granule[] before = CapabilityImages.snapshot(memory, TestWindows.SCRATCH, 1);
        assertEquals(0, relocator().relocate(memory, TestWindows.SCRATCH, 0, window), RelocationSeeds.replay(seed));
        assertArrayEquals(before, CapabilityImages.snapshot(memory, TestWindows.SCRATCH, 1),
            RelocationSeeds.replay(seed));
    }

    @Test
    void shouldRejectUnalignedOrOutOfSpaceArguments()
    {
        final RelocationWindow window = TestWindows.ALIGNED.window;
        final Relocator relocator = relocator();
        assertThrows(IllegalArgumentException.class,
            () -> relocator.relocate(memory, TestWindows.SCRATCH + GRANULE_SIZE, PAGE_SIZE, window));
        assertThrows(IllegalArgumentException.class,
            () -> relocator.relocate(memory, TestWindows.SCRATCH, PAGE_SIZE + 1, window));
        assertThrows(IndexOutOfBoundsException.class,
            () -> relocator.relocate(memory, TestWindows.SPACE_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, window));
        assertThrows(IllegalArgumentException.class,
            () -> relocator.copyAndRelocate(memory, TestWindows.SCRATCH + 16, TestWindows.SCRATCH, window));
        assertThrows(IndexOutOfBoundsException.class,
            () -> relocator.copyAndRelocate(memory, TestWindows.SCRATCH, TestWindows.SPACE_SIZE, window));
    }

    private String context(final TestWindows windows, final int density)
    {
        return relocator() + " window " + windows + " " + windows.window + " density " + density + "% "
            + RelocationSeeds.replay(seed);
    }
}
