package dev.ufork.memory;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TagBitmap#clearRange}, which skips whole blocks of summary words by their block bits, against a model:
 * seeded rounds tag random granules (clustered and scattered) and clear random page ranges, with ends inside summary
 * words, on whole words and across blocks, and every tag inside a cleared range goes while every tag outside it
 * stays, also after block bits have been cleared and set again.
 */
class TagClearRangeTest
{
    /** 64 MiB: 16384 pages, 256 summary words, 4 block words. */
    private static final long SPACE = 64L << 20;

    @Test
    void shouldClearExactlyTheRangeWhateverItsAlignment()
    {
        final long seed = Seeds.seed(0x7A6C_1EA2L);
        System.out.println("TagClearRangeTest: " + Seeds.replay(seed));
        final SplittableRandom random = Seeds.random(seed);
        try (AddressSpace space = AddressSpace.reserve(SPACE))
        {
            final TaggedMemory memory = space.memory();
            final TagBitmap tags = memory.tags();
            final TreeSet<Long> model = new TreeSet<>();
            final long pages = SPACE >>> Geometry.PAGE_SHIFT;
            for (int round = 0; round < 200; round++)
            {
                final String context = "round " + round + ", " + Seeds.replay(seed);
                final int count = random.nextInt(1, 200);
                final long cluster = random.nextLong(pages) << Geometry.PAGE_SHIFT;
                for (int i = 0; i < count; i++)
                {
                    final long at = random.nextBoolean()
                        ? random.nextLong(SPACE / Geometry.GRANULE_SIZE) * Geometry.GRANULE_SIZE
                        : Math.min(SPACE - Geometry.GRANULE_SIZE,
                            cluster + random.nextLong(1 << 20) / Geometry.GRANULE_SIZE * Geometry.GRANULE_SIZE);
                    memory.storeCapability(at, at, 0, true);
                    model.add(at);
                }
                final long first = random.nextLong(pages);
                final long span = random.nextInt(4) == 0 ? random.nextLong(1, pages - first + 1)
                    : random.nextLong(1, Math.min(300, pages - first) + 1);
                final long from = first << Geometry.PAGE_SHIFT;
                final long to = (first + span) << Geometry.PAGE_SHIFT;
                tags.clearRange(from, to - from);
                model.subSet(from, to).clear();
                assertEquals(0, tags.countTags(from, to - from), context + ": tags left in the cleared range");
                assertEquals(model.size(), tags.countTags(0, SPACE), context + ": tags in the space");
                for (final long at : model)
                {
                    assertTrue(memory.isTagged(at), context + ": lost the tag at 0x" + Long.toHexString(at));
                }
            }
            tags.clearRange(0, SPACE);
            assertEquals(-1, tags.nextTagged(0, SPACE), "everything cleared, " + Seeds.replay(seed));
        }
    }
}
