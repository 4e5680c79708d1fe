package dev.ufork.memory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CheriBSD {@code memcpy_c}/{@code memmove_c} matrix (docs/cheri.md §3.1 and §4 category 10): a region of
 * tagged granules is copied with every source head offset 0..31 × destination head offset 0..31 × tail offset
 * 0..31. Same alignment mod 16 ⇒ the tags of fully covered destination granules are those of their source granules
 * (as they were before the copy) and partly covered ones are cleared; different alignment ⇒ every overlapped
 * destination tag is cleared; the bytes are always those of a memmove; nothing outside the destination changes.
 */
class TagCopyMatrixTest
{
    /** Bytes of the source and destination regions: 16 granules. */
    private static final int REGION = 256;
    private static final int OFFSETS = 32;
    /** Untouched margin checked around the regions. */
    private static final int MARGIN = 48;

    private static AddressSpace space;
    private static TaggedMemory memory;

    /** Where the source and destination regions lie. All bases are granule-aligned. */
    enum Layout
    {
        /** Disjoint regions, each inside one page. */
        DISJOINT_WITHIN_PAGES(50 * PAGE_SIZE + 512, 60 * PAGE_SIZE + 1024),
        /** Disjoint regions that both straddle a page boundary, at different page offsets. */
        DISJOINT_ACROSS_PAGES(71 * PAGE_SIZE - 96, 81 * PAGE_SIZE - 176),
        /** Source and destination in the same page: destination lower, same page offsets mod 16. */
        DISJOINT_SAME_PAGE(90 * PAGE_SIZE + 1024, 90 * PAGE_SIZE + 256),
        /** Overlapping memmove, destination one granule above the source (shifts -15..47 bytes). */
        OVERLAP_UP(100 * PAGE_SIZE + 512, 100 * PAGE_SIZE + 528),
        /** Overlapping memmove, destination one granule below the source (shifts -47..15 bytes). */
        OVERLAP_DOWN(110 * PAGE_SIZE + 528, 110 * PAGE_SIZE + 512),
        /** Overlapping memmove three granules up, straddling a page boundary. */
        OVERLAP_UP_ACROSS_PAGE(121 * PAGE_SIZE - 112, 121 * PAGE_SIZE - 64),
        /** Overlapping memmove three granules down, straddling a page boundary. */
        OVERLAP_DOWN_ACROSS_PAGE(131 * PAGE_SIZE - 64, 131 * PAGE_SIZE - 112);

        final long src;
        final long dst;

        Layout(final long src, final long dst)
        {
            this.src = src;
            this.dst = dst;
        }
    }

    @BeforeAll
    static void reserve()
    {
        space = AddressSpace.reserve(16L << 20);
        memory = space.memory();
    }

    @AfterAll
    static void close()
    {
        space.close();
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void shouldPreserveInnerTagsOnlyWhenAlignmentsAgreeForEveryHeadAndTailOffset(final Layout layout)
    {
        final Counts counts = new Counts();
        int caseIndex = 0;
        for (int srcHead = 0; srcHead < OFFSETS; srcHead++)
        {
            for (int dstHead = 0; dstHead < OFFSETS; dstHead++)
            {
                for (int tail = 0; tail < OFFSETS; tail++)
                {
                    // Vary the initial state across cases: destination tagged or not, source all or mixed tags.
                    final boolean dstTagged = (caseIndex & 1) == 0;
                    final boolean mixedSource = (caseIndex & 2) != 0;
                    runCase(layout, srcHead, dstHead, tail, true, dstTagged, mixedSource, caseIndex, counts);
                    caseIndex++;
                }
            }
        }
        assertTrue(counts.preserved > 0, "no tag was ever preserved in " + layout);
        assertTrue(counts.clearedPartial > 0, "no partial granule tag was ever cleared in " + layout);
        assertTrue(counts.clearedMisaligned > 0, "no misaligned copy ever cleared a tag in " + layout);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void shouldClearEveryOverlappedDestinationTagWhenTagsAreNotPreserved(final Layout layout)
    {
        final Counts counts = new Counts();
        int caseIndex = 0;
        for (int head = 0; head < OFFSETS; head++)
        {
            for (int tail = 0; tail < OFFSETS; tail++)
            {
                // Same alignment, which would preserve tags if asked to, and a misaligned destination.
                runCase(layout, head, head, tail, false, true, false, caseIndex++, counts);
                runCase(layout, head, (head + 5) % OFFSETS, tail, false, true, true, caseIndex++, counts);
            }
        }
        assertEquals(0, counts.preserved, "tags preserved although preserveTags was false in " + layout);
    }

    @Test
    void shouldCopyBytesAndTagsOfOnlyFullGranulesWhenCopyIsShorterThanAGranule()
    {
        final Counts counts = new Counts();
        int caseIndex = 0;
        for (int srcHead = 0; srcHead < OFFSETS; srcHead++)
        {
            for (int dstHead = 0; dstHead < OFFSETS; dstHead++)
            {
                for (int length = 0; length <= 2 * GRANULE_SIZE + 1; length++)
                {
                    runCopy(Layout.DISJOINT_WITHIN_PAGES, srcHead, dstHead, length, true, true, false,
                        caseIndex++, counts);
                }
            }
        }
        assertTrue(counts.preserved > 0, "a 16..33-byte aligned copy must preserve a full granule's tag");
    }

    private static void runCase(final Layout layout, final int srcHead, final int dstHead, final int tail,
        final boolean preserveTags, final boolean dstTagged, final boolean mixedSource, final int caseIndex,
        final Counts counts)
    {
        final int length = REGION - Math.max(srcHead, dstHead) - tail;
        runCopy(layout, srcHead, dstHead, length, preserveTags, dstTagged, mixedSource, caseIndex, counts);
    }

    private static void runCopy(final Layout layout, final int srcHead, final int dstHead, final int length,
        final boolean preserveTags, final boolean dstTagged, final boolean mixedSource, final int caseIndex,
        final Counts counts)
    {
        final Window window = new Window(layout);
        final int granules = window.bytes() / (int)GRANULE_SIZE;

        // Initial state: every granule a capability; source granules tagged (all, or a mixed pattern), the rest
        // tagged or not as the case says. Words are unique per case and granule, so misplaced bytes show.
        for (int g = 0; g < granules; g++)
        {
            final long at = window.address(g * (int)GRANULE_SIZE);
            final boolean inSource = at >= layout.src && at < layout.src + REGION;
            final boolean tag = inSource ? !mixedSource || (g * 7 + caseIndex) % 3 != 0 : dstTagged;
            memory.storeCapability(at, ((long)caseIndex << 32) | g, ~(((long)caseIndex << 32) | g) ^ 0x5A5A, tag);
        }
        final byte[] before = window.loadBytes();
        final boolean[] tagsBefore = window.loadTags();

        final long src = layout.src + srcHead;
        final long dst = layout.dst + dstHead;
        memory.copy(src, dst, length, preserveTags);

        // Bytes: a memmove.
        final byte[] actual = window.loadBytes();
        for (int i = 0; i < actual.length; i++)
        {
            final long at = window.address(i);
            final byte expected = at >= dst && at < dst + length ? before[window.index(at - dst + src)] : before[i];
            if (actual[i] != expected)
            {
                fail("byte at 0x" + Long.toHexString(at) + " is " + actual[i] + ", expected " + expected + ", after "
                    + describe(layout, srcHead, dstHead, length, preserveTags, dstTagged, mixedSource, caseIndex));
            }
        }

        // Tags.
        final boolean sameAlignment = ((src ^ dst) & (GRANULE_SIZE - 1)) == 0;
        for (int g = 0; g < granules; g++)
        {
            final long at = window.address(g * (int)GRANULE_SIZE);
            final boolean overlapped = length > 0 && at < dst + length && at + GRANULE_SIZE > dst;
            final boolean full = at >= dst && at + GRANULE_SIZE <= dst + length;
            final boolean expectedTag;
            final String rule;
            if (!overlapped)
            {
                expectedTag = tagsBefore[g];
                rule = "outside the destination: unchanged";
            }
            else if (preserveTags && sameAlignment && full)
            {
                expectedTag = tagsBefore[window.index(at - dst + src) / (int)GRANULE_SIZE];
                rule = "fully covered, same alignment: the source granule's tag before the copy";
                if (expectedTag)
                {
                    counts.preserved++;
                }
            }
            else
            {
                expectedTag = false;
                rule = !preserveTags ? "tags not preserved: cleared"
                    : sameAlignment ? "partly covered: cleared" : "alignments differ: cleared";
                if (tagsBefore[g] && preserveTags)
                {
                    if (sameAlignment)
                    {
                        counts.clearedPartial++;
                    }
                    else
                    {
                        counts.clearedMisaligned++;
                    }
                }
            }
            if (memory.isTagged(at) != expectedTag)
            {
                fail("tag of granule 0x" + Long.toHexString(at) + " (destination granule "
                    + Math.floorDiv(at - (dst & -GRANULE_SIZE), GRANULE_SIZE) + ") is " + !expectedTag + ", expected "
                    + expectedTag + " (" + rule + "), after "
                    + describe(layout, srcHead, dstHead, length, preserveTags, dstTagged, mixedSource, caseIndex));
            }
        }
    }

    private static String describe(final Layout layout, final int srcHead, final int dstHead, final int length,
        final boolean preserveTags, final boolean dstTagged, final boolean mixedSource, final int caseIndex)
    {
        final long src = layout.src + srcHead;
        final long dst = layout.dst + dstHead;
        return layout + ": copy(src +" + srcHead + ", dst +" + dstHead + ", length " + length + ", preserveTags "
            + preserveTags + ") with src=0x" + Long.toHexString(src) + " dst=0x" + Long.toHexString(dst) + " (case "
            + caseIndex + ", destination initially " + (dstTagged ? "tagged" : "untagged") + ", source tags "
            + (mixedSource ? "mixed" : "all set") + ")";
    }

    /**
     * The bytes a case looks at: the source and destination regions with a margin each side, as one range when they
     * are close and as two otherwise. Positions index the ranges' concatenation.
     */
    private static final class Window
    {
        private final long lo1;
        private final long hi1;
        private final long lo2;
        private final long hi2;

        Window(final Layout layout)
        {
            final long a = Math.min(layout.src, layout.dst);
            final long b = Math.max(layout.src, layout.dst);
            if (b - a <= REGION + 2 * MARGIN)
            {
                lo1 = a - MARGIN;
                hi1 = b + REGION + MARGIN;
                lo2 = hi1;
                hi2 = hi1;
            }
            else
            {
                lo1 = a - MARGIN;
                hi1 = a + REGION + MARGIN;
                lo2 = b - MARGIN;
                hi2 = b + REGION + MARGIN;
            }
        }

        int bytes()
        {
            return (int)(hi1 - lo1 + hi2 - lo2);
        }

        long address(final int position)
        {
            return position < hi1 - lo1 ? lo1 + position : lo2 + position - (hi1 - lo1);
        }

        int index(final long address)
        {
            if (address >= lo1 && address < hi1)
            {
                return (int)(address - lo1);
            }
            if (address >= lo2 && address < hi2)
            {
                return (int)(hi1 - lo1 + address - lo2);
            }
            throw new AssertionError("address 0x" + Long.toHexString(address) + " outside the checked window");
        }

        byte[] loadBytes()
        {
            final byte[] out = new byte[bytes()];
            memory.loadBytes(lo1, out, 0, (int)(hi1 - lo1));
            memory.loadBytes(lo2, out, (int)(hi1 - lo1), (int)(hi2 - lo2));
            return out;
        }

        boolean[] loadTags()
        {
            final boolean[] out = new boolean[bytes() / (int)GRANULE_SIZE];
            for (int g = 0; g < out.length; g++)
            {
                out[g] = memory.isTagged(address(g * (int)GRANULE_SIZE));
            }
            return out;
        }
    }

    /** How often each rule applied to a tag that was set, so the matrix cannot pass vacuously. */
    private static final class Counts
    {
        long preserved;
        long clearedPartial;
        long clearedMisaligned;
    }
}
