package dev.ufork.kernel.relocation;

import dev.ufork.capability.CheriConcentrate;
import dev.ufork.memory.TagBitmap;
import dev.ufork.memory.TaggedMemory;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import static dev.ufork.kernel.relocation.RelocationCore.TAG_WORD_SHIFT;
import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static dev.ufork.memory.Geometry.TAG_WORDS_PER_PAGE;

/**
 * The dense vector relocator ({@code jdk.incubator.vector}, 256-bit {@link LongVector}: two granules per vector).
 * For every 32-byte block of a page whose tag word is non-zero it loads the block, builds a lane mask from the tag
 * bits and a lane-wise fast test (exponent 0, address in the area and 16 KiB from its ends, the metadata word swapped
 * in from the neighbouring lane), adds the delta under that mask, and stores the whole block back: masked stores are
 * slow on AVX2 (machine-baselines §3c), and rewriting unchanged bytes of pages the caller holds exclusively is
 * harmless. Tagged lanes that fail the vector test go through the shared scalar per-granule path
 * (full fast test, then the decode/clamp/re-encode slow path), so the result is bit-identical to
 * {@link ScalarRelocator}'s.
 * <p>
 * It reads every byte of a page with any tag, so it only wins where tags are dense; {@link AdaptiveRelocator} picks
 * between this and {@link ScalarRelocator} per page. Tag words that are zero (1 KiB) are skipped.
 * <p>
 * Needs {@code --add-modules jdk.incubator.vector} at run time. Thread safety: stateless; see the {@link Relocator}
 * precondition.
 */
public final class VectorRelocator implements Relocator
{
    private static final VectorSpecies<Long> SPECIES = LongVector.SPECIES_256;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Bytes per vector: two granules, lanes {address0, metadata0, address1, metadata1}. */
    private static final int BLOCK = 32;
    private static final int BLOCKS_PER_TAG_WORD = (1 << TAG_WORD_SHIFT) / BLOCK;
    /** Brings each granule's metadata word into its address lane. */
    private static final VectorShuffle<Long> SWAP = VectorShuffle.fromValues(SPECIES, 1, 0, 3, 2);
    /** The tag bit (of the two low bits of the shifted tag word) that belongs to each lane; metadata lanes get none. */
    private static final LongVector LANE_TAG_BIT = LongVector.fromArray(SPECIES, new long[] {1, 0, 2, 0}, 0);
    /** The fast test's distance from the area's ends for exponent 0: {@code 2^(0 + 14)}. */
    private static final long MARGIN = 1L << RelocationWindow.MANTISSA_WIDTH;
    private static final long IE_BIT = RelocationCore.IE_BIT;
    /** The in-memory IE bit of a capability with IE clear: the metadata word is stored XORed with the NULL mask. */
    private static final long IE_BIT_WHEN_CLEAR = CheriConcentrate.NULL_XOR_MASK & IE_BIT;

    /** Creates the relocator; it holds no state, so one instance may serve every fork. */
    public VectorRelocator()
    {
    }

    @Override
    public long relocate(final TaggedMemory memory, final long start, final long length,
        final RelocationWindow window)
    {
        RelocationCore.checkRange(memory, start, length);
        final MemorySegment data = memory.segment();
        final TagBitmap tags = memory.tags();
        final CheriConcentrate.BoundsEncoding scratch = new CheriConcentrate.BoundsEncoding();
        final long end = start + length;
        long count = 0;
        long page = RelocationCore.nextTaggedPage(tags, start, end);
        while (page >= 0)
        {
            count += relocatePage(data, tags, page, page, window, scratch);
            page = RelocationCore.nextTaggedPage(tags, page + PAGE_SIZE, end);
        }
        return count;
    }

    @Override
    public long copyAndRelocate(final TaggedMemory memory, final long srcPage, final long dstPage,
        final RelocationWindow window)
    {
        RelocationCore.checkPages(memory, srcPage, dstPage);
        return copyAndRelocatePage(memory, srcPage, dstPage, window);
    }

    /** The fused copy: tags first, then one pass that loads from the source and stores relocated to the copy. */
    static long copyAndRelocatePage(final TaggedMemory memory, final long srcPage, final long dstPage,
        final RelocationWindow window)
    {
        final MemorySegment data = memory.segment();
        final TagBitmap tags = memory.tags();
        if (srcPage != dstPage && RelocationCore.copyTags(tags, srcPage, dstPage) == 0)
        {
            MemorySegment.copy(data, srcPage, data, dstPage, PAGE_SIZE);
            return 0;
        }
        return relocatePage(data, tags, srcPage, dstPage, window, new CheriConcentrate.BoundsEncoding());
    }

    /**
     * Relocates one page from {@code srcPage} into {@code dstPage} (the same page for in-place relocation). With
     * distinct pages every byte is copied, and the destination's tag words must already equal the source's.
     * <p>
     * The lane-wise fast test is the common case of {@code RelocationCore#isFast} reduced to what costs a few vector
     * instructions: exponent 0 (IE clear, every capability shorter than 4 KiB) and an address at least 16 KiB
     * ({@code 2^14}) from both ends of the area, valid whenever the window's fast exponent limit is at least 0
     * ({@code delta ≡ 0 mod 2^14}). Extracting each lane's exponent and shifting a margin by it cost about 40 % more
     * per page than this test on the target machine, for capabilities that are rare in dense pages. Tagged lanes in
     * the area that fail it (larger exponents, near the ends, or a delta that is only page-aligned) go through the
     * scalar per-granule path, which applies the full test and, failing that, the slow path.
     *
     * @return capabilities relocated.
     */
    static long relocatePage(final MemorySegment data, final TagBitmap tags, final long srcPage, final long dstPage,
        final RelocationWindow window, final CheriConcentrate.BoundsEncoding scratch)
    {
        final long fromBase = window.fromBase();
        final long size = window.size();
        final long delta = window.delta();
        final int eLimit = window.fastExponentLimit();
        // With no fast exponent at all, an impossible lower bound turns the vector fast test off.
        final long low = eLimit >= 0 ? MARGIN : Long.MAX_VALUE;
        final long high = size - MARGIN;
        final long firstWord = RelocationCore.firstTagWord(srcPage);
        final boolean copying = srcPage != dstPage;
        LongVector fastCount = LongVector.zero(SPECIES);
        long otherCount = 0;
        for (int w = 0; w < TAG_WORDS_PER_PAGE; w++)
        {
            long bits = tags.tagWord(firstWord + w);
            final long wordOffset = (long)w << TAG_WORD_SHIFT;
            if (bits == 0)
            {
                if (copying)
                {
                    MemorySegment.copy(data, srcPage + wordOffset, data, dstPage + wordOffset, 1L << TAG_WORD_SHIFT);
                }
                continue;
            }
            for (int block = 0; block < BLOCKS_PER_TAG_WORD; block++)
            {
                final long offset = wordOffset + (long)block * BLOCK;
                final LongVector v = LongVector.fromMemorySegment(SPECIES, data, srcPage + offset, ORDER);
                final VectorMask<Long> tagged = LANE_TAG_BIT.and(bits).compare(VectorOperators.NE, 0);
                bits >>>= 2;
                final LongVector offsetInArea = v.sub(fromBase);
                // The metadata word swapped into its granule's address lane; IE clear means exponent 0.
                final VectorMask<Long> exponentZero = v.rearrange(SWAP).and(IE_BIT)
                    .compare(VectorOperators.EQ, IE_BIT_WHEN_CLEAR);
                final VectorMask<Long> inArea = tagged.and(offsetInArea.compare(VectorOperators.ULT, size));
                final VectorMask<Long> fast = inArea.and(exponentZero)
                    .and(offsetInArea.compare(VectorOperators.GE, low))
                    .and(offsetInArea.compare(VectorOperators.LE, high));
                v.add(delta, fast).intoMemorySegment(data, dstPage + offset, ORDER);
                fastCount = fastCount.add(1, fast);
                // Tagged lanes outside the area still go the scalar way: their bounds may lie in the area.
                final VectorMask<Long> other = tagged.andNot(fast);
                if (other.anyTrue())
                {
                    otherCount += otherLanes(data, tags, dstPage + offset, other.toLong(), window, scratch);
                }
            }
        }
        return fastCount.reduceLanes(VectorOperators.ADD) + otherCount;
    }

    /** Sends the granules of a block that failed the vector fast test through the scalar per-granule path. */
    private static int otherLanes(final MemorySegment data, final TagBitmap tags, final long blockAddress,
        final long laneBits, final RelocationWindow window, final CheriConcentrate.BoundsEncoding scratch)
    {
        final long fromBase = window.fromBase();
        final long size = window.size();
        final long delta = window.delta();
        final int eLimit = window.fastExponentLimit();
        int count = 0;
        // Lane 0 holds the first granule's address word, lane 2 the second's.
        if ((laneBits & 1) != 0)
        {
            count += RelocationCore.relocateGranule(data, tags, blockAddress, fromBase, size, delta, eLimit, window,
                scratch);
        }
        if ((laneBits & 4) != 0)
        {
            count += RelocationCore.relocateGranule(data, tags, blockAddress + GRANULE_SIZE, fromBase, size, delta,
                eLimit, window, scratch);
        }
        return count;
    }

    @Override
    public String toString()
    {
        return "VectorRelocator[" + SPECIES + "]";
    }
}
