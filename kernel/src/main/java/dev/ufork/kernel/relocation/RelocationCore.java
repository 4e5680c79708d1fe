package dev.ufork.kernel.relocation;

import dev.ufork.capability.CheriConcentrate;
import dev.ufork.memory.TagBitmap;
import dev.ufork.memory.TaggedMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

import static dev.ufork.memory.Geometry.GRANULE_SHIFT;
import static dev.ufork.memory.Geometry.PAGE_SHIFT;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static dev.ufork.memory.Geometry.TAG_WORDS_PER_PAGE;

/**
 * What every relocator shares: argument checks, the fast-lane test, the scalar page kernel and the slow path that
 * decodes, shifts, clamps and re-encodes. No Vector API code here, so the scalar relocator runs without
 * {@code jdk.incubator.vector}.
 * <p>
 * Thread safety: stateless; the page methods carry the {@link Relocator} precondition (pages held exclusively).
 */
final class RelocationCore
{
    /** Native order, 8-byte aligned: granules are 16-byte aligned and the space's segment is page-aligned. */
    static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG;

    /** log2 of the bytes covered by one tag word (64 granules). */
    static final int TAG_WORD_SHIFT = GRANULE_SHIFT + 6;

    /** Bit of the internal-exponent flag in the architectural metadata word. */
    static final long IE_BIT = 1L << CheriConcentrate.IE_SHIFT;

    private RelocationCore()
    {
    }

    // ------------------------------------------------------------------------------------------------------------
    // Argument checks

    static void checkRange(final TaggedMemory memory, final long start, final long length)
    {
        if (((start | length) & (PAGE_SIZE - 1)) != 0)
        {
            throw new IllegalArgumentException("range not page-aligned: start 0x" + Long.toHexString(start)
                + " length 0x" + Long.toHexString(length));
        }
        Objects.checkFromIndexSize(start, length, memory.size());
    }

    static void checkPages(final TaggedMemory memory, final long srcPage, final long dstPage)
    {
        if (((srcPage | dstPage) & (PAGE_SIZE - 1)) != 0)
        {
            throw new IllegalArgumentException("page address not page-aligned: src 0x" + Long.toHexString(srcPage)
                + " dst 0x" + Long.toHexString(dstPage));
        }
        Objects.checkFromIndexSize(srcPage, PAGE_SIZE, memory.size());
        Objects.checkFromIndexSize(dstPage, PAGE_SIZE, memory.size());
    }

    /**
     * @return the address of the first page at or after {@code from} (page-aligned) and before {@code end} that
     *         holds a tag, or -1. Skips untagged pages through the summary bitmap, 64 pages per summary word.
     */
    static long nextTaggedPage(final TagBitmap tags, final long from, final long end)
    {
        if (from >= end)
        {
            return -1;
        }
        final long granule = tags.nextTagged(from, end);
        return granule < 0 ? -1 : granule & -PAGE_SIZE;
    }

    /** @return the index of the first tag word of the page at {@code pageAddress}. */
    static long firstTagWord(final long pageAddress)
    {
        return pageAddress >>> TAG_WORD_SHIFT;
    }

    /** @return how many granules of the page at {@code pageAddress} are tagged. */
    static int tagCount(final TagBitmap tags, final long pageAddress)
    {
        final long word = firstTagWord(pageAddress);
        return Long.bitCount(tags.tagWord(word)) + Long.bitCount(tags.tagWord(word + 1))
            + Long.bitCount(tags.tagWord(word + 2)) + Long.bitCount(tags.tagWord(word + 3));
    }

    // ------------------------------------------------------------------------------------------------------------
    // The fast-lane test

    /**
     * The exponent the fast test uses: the stored exponent if IE is set, else 0. Exponents above the fast limit are
     * rejected before they matter, so the {@link CheriConcentrate#MAX_EXPONENT} clamp of decoding never applies.
     */
    static int fastExponent(final long metadata)
    {
        final long arch = metadata ^ CheriConcentrate.NULL_XOR_MASK;
        if ((arch & IE_BIT) == 0)
        {
            return 0;
        }
        // E[5:3] sits in T[2:0] (bits 14..16), E[2:0] in B[2:0] (bits 0..2).
        return (int)(((arch >>> 11) & 0x38) | (arch & 7));
    }

    /**
     * Whether a tagged capability with address {@code fromBase + offset}, already known to lie in the source area,
     * may be relocated by adding the delta to its address word alone. Why this is exact: CHERI Concentrate decodes
     * base and top as the address's bits above {@code E + 14}, corrected by -1/0/+1, followed by a 14-bit mantissa
     * shifted by {@code E}. Both bounds therefore lie in one window of {@code 2^(E+14)} bytes that contains the
     * address, so {@code |base - address| < 2^(E+14)} and {@code |top - address| <= 2^(E+14)}:
     * <ul>
     *   <li>if the address is at least {@code 2^(E+14)} from both ends of the area, the bounds already lie inside the
     *   area, so clamping would change nothing (no decode needed to prove it);</li>
     *   <li>if {@code delta ≡ 0 (mod 2^(E+14))} ({@code E <= eLimit}), the address's low {@code E + 14} bits and so
     *   the correction are unchanged, and the same metadata word decodes to base + delta and top + delta.</li>
     * </ul>
     * Capabilities near the area's ends or with larger exponents take {@link #relocateSlow}, which gives the same
     * result where both apply.
     *
     * @param metadata in-memory metadata word.
     * @param offset   address - fromBase, in {@code [0, size)}.
     * @param size     bytes in the area.
     * @param eLimit   {@link RelocationWindow#fastExponentLimit()}.
     */
    static boolean isFast(final long metadata, final long offset, final long size, final int eLimit)
    {
        final int e = fastExponent(metadata);
        if (e > eLimit)
        {
            return false;
        }
        // eLimit <= 47, so the shift never wraps.
        final long margin = 1L << (e + RelocationWindow.MANTISSA_WIDTH);
        return offset >= margin && offset <= size - margin;
    }

    // ------------------------------------------------------------------------------------------------------------
    // The scalar kernel

    /**
     * Relocates one page in place by walking its tag bits with {@link Long#numberOfTrailingZeros(long)}: the best
     * kernel at low tag density (docs: machine-baselines §3c).
     *
     * @return capabilities relocated.
     */
    static long relocatePageScalar(final MemorySegment data, final TagBitmap tags, final long pageAddress,
        final RelocationWindow window, final CheriConcentrate.BoundsEncoding scratch)
    {
        final long fromBase = window.fromBase();
        final long size = window.size();
        final long delta = window.delta();
        final int eLimit = window.fastExponentLimit();
        final long firstWord = firstTagWord(pageAddress);
        long count = 0;
        for (int w = 0; w < TAG_WORDS_PER_PAGE; w++)
        {
            long bits = tags.tagWord(firstWord + w);
            final long wordAddress = pageAddress + ((long)w << TAG_WORD_SHIFT);
            while (bits != 0)
            {
                final long granule = wordAddress + ((long)Long.numberOfTrailingZeros(bits) << GRANULE_SHIFT);
                bits &= bits - 1;
                count += relocateGranule(data, tags, granule, fromBase, size, delta, eLimit, window, scratch);
            }
        }
        return count;
    }

    /**
     * Relocates one tagged granule: leaves it alone if neither its address nor its bounds lie in the source area,
     * adds the delta if it passes {@link #isFast}, else takes {@link #relocateSlow}. The primitives are the window's, hoisted by the caller.
     *
     * @return 1 if the granule now holds a relocated capability, else 0.
     */
    static int relocateGranule(final MemorySegment data, final TagBitmap tags, final long granule, final long fromBase,
        final long size, final long delta, final int eLimit, final RelocationWindow window,
        final CheriConcentrate.BoundsEncoding scratch)
    {
        final long address = data.get(WORD, granule);
        final long offset = address - fromBase;
        final long metadata = data.get(WORD, granule + Long.BYTES);
        if (Long.compareUnsigned(offset, size) >= 0)
        {
            // The address has left the parent's area. A capability derived from the area (one past its end, say)
            // still has its bounds there and moves; one into the kernel, shared memory or another µprocess does not.
            if (farOutside(metadata, address, offset, size)
                || !window.boundsInSource(CheriConcentrate.decodeBase(metadata, address),
                    CheriConcentrate.decodeTop(metadata, address), CheriConcentrate.decodeTopHigh(metadata, address)))
            {
                return 0;
            }
            return relocateSlow(data, tags, granule, address, metadata, window, scratch) ? 1 : 0;
        }
        if (isFast(metadata, offset, size, eLimit))
        {
            data.set(WORD, granule, address + delta);
            return 1;
        }
        return relocateSlow(data, tags, granule, address, metadata, window, scratch) ? 1 : 0;
    }

    /**
     * Whether a capability whose address lies outside the source area ({@code offset >=u size}) is so far from it that
     * its bounds cannot lie within it, which saves decoding them. CHERI Concentrate decodes base and top as the
     * address's region ({@code address >>> (E+14)}) corrected by -1, 0 or +1, followed by the mantissa: so both lie
     * less than {@code 2 * 2^(E+14)} from the address (modulo 2^64, which for an address below 2^63 and
     * {@code E <= 44} never wraps upwards). An address at least twice that below the area or above its top therefore
     * has a base below the area or one above its top, and {@link RelocationWindow#boundsInSource} would say no.
     */
    static boolean farOutside(final long metadata, final long address, final long offset, final long size)
    {
        final int e = fastExponent(metadata);
        if (e > 44 || address < 0)
        {
            return false;
        }
        final long reach = 1L << (e + RelocationWindow.MANTISSA_WIDTH + 2);
        // Below the area -offset is the distance and offset - size wraps to a huge value; above, the other way round.
        return Long.compareUnsigned(-offset, reach) >= 0 && Long.compareUnsigned(offset - size, reach) >= 0;
    }

    /**
     * The slow path for one tagged granule whose address or bounds lie in the source area: decode, clamp to the source area,
     * shift by the delta, re-encode with {@link CheriConcentrate#setBounds} (which keeps permissions, object type and
     * flags bit for bit). Clamping happens before shifting, in source coordinates, so nothing can wrap.
     * <p>
     * Fails safe: if the clamped bounds are empty, not exactly representable, or do not represent the new address,
     * the tag is cleared and the bytes stay as they were. A rounded encoding could reach outside the child's area, and
     * an unrepresentable address would decode to other bounds; neither may stay a valid capability.
     *
     * @param scratch reused encoding holder, so the slow path allocates nothing; null to allocate one when needed.
     * @return whether the granule still holds a (relocated) tagged capability.
     */
    static boolean relocateSlow(final MemorySegment data, final TagBitmap tags, final long granule,
        final long address, final long metadata, final RelocationWindow window,
        final CheriConcentrate.BoundsEncoding scratch)
    {
        final long fromBase = window.fromBase();
        final long fromTop = window.fromTop();
        final long base = CheriConcentrate.decodeBase(metadata, address);
        final long top = CheriConcentrate.decodeTop(metadata, address);
        final boolean topHigh = CheriConcentrate.decodeTopHigh(metadata, address);
        final long clampedBase = Long.compareUnsigned(base, fromBase) < 0 ? fromBase : base;
        final long clampedTop = topHigh || Long.compareUnsigned(top, fromTop) > 0 ? fromTop : top;
        if (Long.compareUnsigned(clampedBase, clampedTop) > 0)
        {
            // The bounds do not meet the parent's area: the capability grants nothing the child may have.
            tags.clear(granule);
            return false;
        }
        final long delta = window.delta();
        final long newBase = clampedBase + delta;
        final long newTop = clampedTop + delta;
        final long newAddress = address + delta;
        final CheriConcentrate.BoundsEncoding encoding =
            CheriConcentrate.setBounds(metadata, newBase, newTop, false,
                scratch != null ? scratch : new CheriConcentrate.BoundsEncoding());
        final long newMetadata = encoding.metadata();
        if (!encoding.exact() || !CheriConcentrate.decodesTo(newMetadata, newAddress, newBase, newTop, false))
        {
            tags.clear(granule);
            return false;
        }
        data.set(WORD, granule, newAddress);
        data.set(WORD, granule + Long.BYTES, newMetadata);
        return true;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Page copies

    /**
     * Copies the four tag words of a page. Writing zero words leaves the destination's summary bit set ("may hold
     * tags"), which is allowed; if the source holds no tag at all, the destination's are cleared through
     * {@link TagBitmap#clearGranules} so its summary bit is dropped too.
     *
     * @return how many tags were copied.
     */
    static int copyTags(final TagBitmap tags, final long srcPage, final long dstPage)
    {
        final long src = firstTagWord(srcPage);
        final long dst = firstTagWord(dstPage);
        final long w0 = tags.tagWord(src);
        final long w1 = tags.tagWord(src + 1);
        final long w2 = tags.tagWord(src + 2);
        final long w3 = tags.tagWord(src + 3);
        if ((w0 | w1 | w2 | w3) == 0)
        {
            if (tags.pageMayHoldTags(dstPage >>> PAGE_SHIFT))
            {
                tags.clearGranules(dstPage >>> GRANULE_SHIFT, PAGE_SIZE >>> GRANULE_SHIFT);
            }
            return 0;
        }
        tags.setTagWord(dst, w0);
        tags.setTagWord(dst + 1, w1);
        tags.setTagWord(dst + 2, w2);
        tags.setTagWord(dst + 3, w3);
        return Long.bitCount(w0) + Long.bitCount(w1) + Long.bitCount(w2) + Long.bitCount(w3);
    }

    /**
     * Scalar copy-and-relocate: {@link MemorySegment#copy} of the page (an intrinsic bulk copy), the tag words, then
     * the scalar kernel on the destination while it is still in L1.
     */
    static long copyAndRelocateScalar(final TaggedMemory memory, final long srcPage, final long dstPage,
        final RelocationWindow window)
    {
        final MemorySegment data = memory.segment();
        final TagBitmap tags = memory.tags();
        MemorySegment.copy(data, srcPage, data, dstPage, PAGE_SIZE);
        if (srcPage != dstPage && copyTags(tags, srcPage, dstPage) == 0)
        {
            return 0;
        }
        // No scratch: a page copy should allocate nothing, and the slow path that needs one is rare.
        return relocatePageScalar(data, tags, dstPage, window, null);
    }
}
