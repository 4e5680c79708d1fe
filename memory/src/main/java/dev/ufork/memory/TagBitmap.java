package dev.ufork.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.ufork.memory.Geometry.GRANULE_SHIFT;
import static dev.ufork.memory.Geometry.PAGE_SHIFT;
import static dev.ufork.memory.Geometry.TAG_WORDS_PER_PAGE;

/**
 * The side tag memory: one bit per 16-byte granule of the address space, plus a summary bit per page meaning "this
 * page may hold tags". Both live off-heap in their own {@code MAP_NORESERVE} reservations, so untouched parts cost
 * no memory, and are never addressable through a capability: like the hardware's tag memory, they are out of band.
 * <pre>
 *  tag word w (8 B) covers granules [64w, 64w + 63], i.e. bytes [1024w, 1024w + 1023]
 *  bit b of word w  = tag of granule 64w + b
 *
 *  summary word s covers pages [64s, 64s + 63]; bit p = "page 64s + p may hold a tag"
 *  block word b covers summary words [64b, 64b + 63]; bit w = "summary word 64b + w may be non-zero"
 * </pre>
 * A summary bit is set before any tag of its page is set and cleared only when a writer holding the page's lock
 * finds all four tag words of the page zero. So a clear summary bit proves the page holds no tag, and scanners skip
 * such pages (256 KiB per summary word) without reading their tag words. A block bit is set before any summary bit
 * of its word and cleared only by {@link #clearRange} for words wholly inside a range nobody is accessing, so a
 * clear block bit proves the summary word zero: clearing a freed 2 GiB area's tags reads 128 block words, not 8192
 * summary words.
 * <p>
 * Thread safety: readers may run at any time. Methods that change the bits of a page must be called by a thread
 * holding that page's lock in {@link PageLocks} (or with the page otherwise quiescent), because tag words are
 * updated with plain read-modify-write; summary words are shared by 64 pages and are updated atomically.
 * Lifetime: that of the owning {@link AddressSpace}.
 */
public final class TagBitmap
{
    // Words are always 8-byte aligned, but read and written through the unaligned layout: the aligned one adds an
    // alignment check (a branch and a deoptimization point) to every access, which the store and capability-load
    // paths must not carry. An aligned 8-byte access is one instruction either way. Atomic updates need the aligned
    // layout.
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final VarHandle ATOMIC_WORD = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment tags;
    private final MemorySegment summary;
    private final MemorySegment blocks;
    private final long spaceSize;

    /** @param summary {@link #summaryBytesFor} bytes: the page summary, then the block bits. */
    TagBitmap(final MemorySegment tags, final MemorySegment summary, final long spaceSize)
    {
        this.tags = tags;
        this.summary = summary.asSlice(0, pageSummaryBytes(spaceSize));
        this.blocks = summary.asSlice(pageSummaryBytes(spaceSize), blockBytes(spaceSize));
        this.spaceSize = spaceSize;
    }

    /**
     * @param spaceSize bytes of address space covered.
     * @return bytes of tag bitmap needed, rounded up to whole pages.
     */
    static long tagBytesFor(final long spaceSize)
    {
        return Math.max(Geometry.PAGE_SIZE, Geometry.alignUp(spaceSize >>> (GRANULE_SHIFT + 3), Geometry.PAGE_SIZE));
    }

    /**
     * @param spaceSize bytes of address space covered.
     * @return bytes of summary bitmap needed (page summary and block bits), rounded up to whole pages.
     */
    static long summaryBytesFor(final long spaceSize)
    {
        return pageSummaryBytes(spaceSize) + blockBytes(spaceSize);
    }

    private static long pageSummaryBytes(final long spaceSize)
    {
        // One bit per page, counting a partial last page, in whole 64-bit words, in whole pages.
        final long pages = (spaceSize + Geometry.PAGE_SIZE - 1) >>> PAGE_SHIFT;
        return Geometry.alignUp(((pages + 63) >>> 6) * Long.BYTES, Geometry.PAGE_SIZE);
    }

    private static long blockBytes(final long spaceSize)
    {
        // One bit per summary word, in whole 64-bit words, in whole pages.
        final long summaryWords = pageSummaryBytes(spaceSize) / Long.BYTES;
        return Geometry.alignUp(((summaryWords + 63) >>> 6) * Long.BYTES, Geometry.PAGE_SIZE);
    }

    /**
     * @param address an address in the space.
     * @return whether the granule holding {@code address} is tagged.
     */
    public boolean isTagged(final long address)
    {
        final long granule = address >>> GRANULE_SHIFT;
        return (tags.get(WORD, (granule >>> 6) << 3) & (1L << granule)) != 0;
    }

    /**
     * @param wordIndex index of a tag word (granule index / 64).
     * @return the 64 tags of granules [64 × wordIndex, 64 × wordIndex + 63], granule order from bit 0.
     */
    public long tagWord(final long wordIndex)
    {
        return tags.get(WORD, wordIndex << 3);
    }

    /**
     * Replaces a whole tag word. The caller holds the lock of the page the word covers.
     *
     * @param wordIndex index of a tag word.
     * @param value     the new tags.
     */
    public void setTagWord(final long wordIndex, final long value)
    {
        if (value != 0)
        {
            markPage(wordIndex >>> 2);
        }
        tags.set(WORD, wordIndex << 3, value);
    }

    /**
     * Sets the tag of the granule holding {@code address}; the caller holds that page's lock.
     *
     * @param address an address in the granule.
     */
    public void set(final long address)
    {
        final long granule = address >>> GRANULE_SHIFT;
        markPage(granule >>> (PAGE_SHIFT - GRANULE_SHIFT));
        final long offset = (granule >>> 6) << 3;
        tags.set(WORD, offset, tags.get(WORD, offset) | (1L << granule));
    }

    /**
     * Clears the tag of the granule holding {@code address}; the caller holds that page's lock.
     *
     * @param address an address in the granule.
     */
    public void clear(final long address)
    {
        final long granule = address >>> GRANULE_SHIFT;
        final long offset = (granule >>> 6) << 3;
        final long word = tags.get(WORD, offset);
        final long bit = 1L << granule;
        if ((word & bit) != 0)
        {
            tags.set(WORD, offset, word & ~bit);
        }
    }

    /**
     * Clears the tags of every granule that {@code [address, address + length)} overlaps, even partly. The caller
     * holds the locks of the pages involved. Costs one summary read when the pages hold no tags.
     *
     * @param address first byte.
     * @param length  bytes, at least 1.
     */
    public void clearOverlapped(final long address, final long length)
    {
        final long firstGranule = address >>> GRANULE_SHIFT;
        final long lastGranule = (address + length - 1) >>> GRANULE_SHIFT;
        if ((firstGranule ^ lastGranule) >>> 6 == 0)
        {
            // Within one tag word, as every primitive store but a rare straddler is: the word itself says whether
            // there is anything to clear, so a store over data costs one load and no summary lookup.
            final long offset = (firstGranule >>> 6) << 3;
            final long word = tags.get(WORD, offset);
            final long mask = (-1L >>> (63 - (lastGranule - firstGranule))) << firstGranule;
            if ((word & mask) == 0)
            {
                return;
            }
        }
        final long firstPage = firstGranule >>> (PAGE_SHIFT - GRANULE_SHIFT);
        final long lastPage = lastGranule >>> (PAGE_SHIFT - GRANULE_SHIFT);
        if (firstPage == lastPage && !pageMayHoldTags(firstPage))
        {
            return;
        }
        clearGranules(firstGranule, lastGranule - firstGranule + 1);
    }

    /**
     * Clears {@code count} consecutive granule tags starting at granule index {@code firstGranule}. The caller holds
     * the locks of the pages involved (or they are quiescent).
     *
     * @param firstGranule index of the first granule.
     * @param count        number of granules.
     */
    public void clearGranules(final long firstGranule, final long count)
    {
        long granule = firstGranule;
        final long end = firstGranule + count;
        while (granule < end)
        {
            final long page = granule >>> (PAGE_SHIFT - GRANULE_SHIFT);
            final long pageEnd = (page + 1) << (PAGE_SHIFT - GRANULE_SHIFT);
            final long stop = Math.min(end, pageEnd);
            if (pageMayHoldTags(page))
            {
                clearBitsWithinPage(granule, stop);
                if (pageTagsAreZero(page))
                {
                    unmarkPage(page);
                }
            }
            granule = stop;
        }
    }

    /**
     * Clears every tag in a page-aligned range whose pages nobody else is accessing (a freed area). Skips 64 pages
     * at a time where the summary shows no tags, and 4096 where the block bits do, and clears the block bits of the
     * summary words wholly inside the range.
     *
     * @param address page-aligned start.
     * @param length  page-aligned length.
     */
    public void clearRange(final long address, final long length)
    {
        long page = address >>> PAGE_SHIFT;
        final long endPage = (address + length) >>> PAGE_SHIFT;
        while (page < endPage)
        {
            final long word = page >>> 6;
            final long stop = Math.min(endPage, (word + 1) << 6);
            if ((page & 63) != 0 || stop - page < 64)
            {
                // Part of a summary word: its other pages may belong to an area in use, so its block bit stays.
                clearPages(page, stop);
                page = stop;
                continue;
            }
            final long blockBits = blocks.get(WORD, (word >>> 6) << 3) >>> (word & 63);
            if (blockBits == 0)
            {
                // No summary word from here to the end of this block word can be non-zero.
                page = Math.min(((word | 63) + 1) << 6, endPage & -64L);
                continue;
            }
            if ((blockBits & 1) != 0)
            {
                clearPages(page, stop);
                ATOMIC_WORD.getAndBitwiseAnd(blocks, (word >>> 6) << 3, ~(1L << word));
            }
            page = stop;
        }
    }

    /** Clears the tags of the pages in {@code [page, stop)}, which lie in one summary word. */
    private void clearPages(final long from, final long stop)
    {
        long page = from;
        while (page < stop)
        {
            final long summaryWord = summary.get(WORD, (page >>> 6) << 3) >>> (page & 63);
            if (summaryWord == 0)
            {
                return;
            }
            if ((summaryWord & 1) != 0)
            {
                final long offset = page * TAG_WORDS_PER_PAGE * Long.BYTES;
                tags.asSlice(offset, TAG_WORDS_PER_PAGE * Long.BYTES).fill((byte)0);
                unmarkPage(page);
                page++;
            }
            else
            {
                page += Long.numberOfTrailingZeros(summaryWord);
            }
        }
    }

    private void clearBitsWithinPage(final long from, final long to)
    {
        long granule = from;
        while (granule < to)
        {
            final long wordIndex = granule >>> 6;
            final int bit = (int)(granule & 63);
            final int n = (int)Math.min(64 - bit, to - granule);
            final long mask = (n == 64 ? -1L : ((1L << n) - 1)) << bit;
            final long offset = wordIndex << 3;
            final long word = tags.get(WORD, offset);
            if ((word & mask) != 0)
            {
                tags.set(WORD, offset, word & ~mask);
            }
            granule += n;
        }
    }

    /**
     * Reads up to 64 consecutive tags starting at any granule.
     *
     * @param firstGranule index of the first granule.
     * @param count        1..64.
     * @return the tags, granule {@code firstGranule} in bit 0.
     */
    public long readTags(final long firstGranule, final int count)
    {
        final int shift = (int)(firstGranule & 63);
        final long wordOffset = (firstGranule >>> 6) << 3;
        long bits = tags.get(WORD, wordOffset) >>> shift;
        if (shift != 0 && shift + count > 64)
        {
            bits |= tags.get(WORD, wordOffset + Long.BYTES) << (64 - shift);
        }
        return count == 64 ? bits : bits & ((1L << count) - 1);
    }

    /**
     * Writes up to 64 consecutive tags starting at any granule; the caller holds the locks of the pages involved.
     *
     * @param firstGranule index of the first granule.
     * @param count        1..64.
     * @param bits         the tags, granule {@code firstGranule} in bit 0.
     */
    public void writeTags(final long firstGranule, final int count, final long bits)
    {
        long granule = firstGranule;
        long remainingBits = bits;
        int remaining = count;
        while (remaining > 0)
        {
            final int shift = (int)(granule & 63);
            final int n = Math.min(64 - shift, remaining);
            final long mask = (n == 64 ? -1L : ((1L << n) - 1));
            final long chunk = remainingBits & mask;
            final long offset = (granule >>> 6) << 3;
            if (chunk != 0)
            {
                markPage(granule >>> (PAGE_SHIFT - GRANULE_SHIFT));
            }
            final long word = tags.get(WORD, offset);
            final long updated = (word & ~(mask << shift)) | (chunk << shift);
            if (updated != word)
            {
                tags.set(WORD, offset, updated);
            }
            granule += n;
            remaining -= n;
            remainingBits = n == 64 ? 0 : remainingBits >>> n;
        }
    }

    /**
     * Copies {@code count} tags from granule {@code srcGranule} on to granule {@code dstGranule}, correctly when the
     * ranges overlap. The caller holds the locks of every page involved.
     *
     * @param srcGranule first source granule.
     * @param dstGranule first destination granule.
     * @param count      number of granules.
     */
    public void copyTags(final long srcGranule, final long dstGranule, final long count)
    {
        if (count <= 0 || srcGranule == dstGranule)
        {
            return;
        }
        if (((srcGranule ^ dstGranule) & 63) == 0)
        {
            copyTagWords(srcGranule, dstGranule, count);
            return;
        }
        if (dstGranule < srcGranule || dstGranule >= srcGranule + count)
        {
            long done = 0;
            while (done < count)
            {
                final int n = (int)Math.min(64, count - done);
                writeTags(dstGranule + done, n, readTags(srcGranule + done, n));
                done += n;
            }
        }
        else
        {
            long left = count;
            while (left > 0)
            {
                final int n = (int)Math.min(64, left);
                left -= n;
                writeTags(dstGranule + left, n, readTags(srcGranule + left, n));
            }
        }
    }

    /**
     * {@link #copyTags} when source and destination sit at the same bit of their words (the ranges are congruent mod
     * 1 KiB, as page copies are): partial words at the ends through {@link #writeTags}, whole words in between as
     * plain word copies, in the direction that is safe for overlap.
     */
    private void copyTagWords(final long srcGranule, final long dstGranule, final long count)
    {
        final long head = Math.min(count, (64 - (srcGranule & 63)) & 63);
        final long words = (count - head) >>> 6;
        final long tail = count - head - (words << 6);
        final long srcWords = (srcGranule + head) >>> 6;
        final long dstWords = (dstGranule + head) >>> 6;
        final boolean forward = dstGranule < srcGranule;
        if (forward && head > 0)
        {
            writeTags(dstGranule, (int)head, readTags(srcGranule, (int)head));
        }
        if (forward)
        {
            for (long w = 0; w < words; w++)
            {
                copyWord(srcWords + w, dstWords + w);
            }
        }
        else
        {
            if (tail > 0)
            {
                final long at = (words + srcWords) << 6;
                writeTags(((words + dstWords) << 6), (int)tail, readTags(at, (int)tail));
            }
            for (long w = words - 1; w >= 0; w--)
            {
                copyWord(srcWords + w, dstWords + w);
            }
            if (head > 0)
            {
                writeTags(dstGranule, (int)head, readTags(srcGranule, (int)head));
            }
            return;
        }
        if (tail > 0)
        {
            writeTags((words + dstWords) << 6, (int)tail, readTags((words + srcWords) << 6, (int)tail));
        }
    }

    private void copyWord(final long srcWord, final long dstWord)
    {
        final long bits = tags.get(WORD, srcWord << 3);
        if (bits != 0)
        {
            markPage(dstWord >>> 2);
        }
        else if (tags.get(WORD, dstWord << 3) == 0)
        {
            return;
        }
        tags.set(WORD, dstWord << 3, bits);
    }

    /**
     * @param page a page index.
     * @return whether the page may hold tags; {@code false} proves it holds none.
     */
    public boolean pageMayHoldTags(final long page)
    {
        return (summary.get(WORD, (page >>> 6) << 3) & (1L << page)) != 0;
    }

    /**
     * @param page a page index.
     * @return whether all tag words of the page are zero (reads them; ignores the summary).
     */
    public boolean pageTagsAreZero(final long page)
    {
        final long offset = page * TAG_WORDS_PER_PAGE * Long.BYTES;
        return (tags.get(WORD, offset) | tags.get(WORD, offset + 8) | tags.get(WORD, offset + 16)
            | tags.get(WORD, offset + 24)) == 0;
    }

    private void markPage(final long page)
    {
        final long offset = (page >>> 6) << 3;
        final long bit = 1L << page;
        if ((summary.get(WORD, offset) & bit) == 0)
        {
            // The block bit first: a clear block bit must prove the summary word zero.
            final long word = page >>> 6;
            final long blockOffset = (word >>> 6) << 3;
            final long blockBit = 1L << word;
            if ((blocks.get(WORD, blockOffset) & blockBit) == 0)
            {
                ATOMIC_WORD.getAndBitwiseOr(blocks, blockOffset, blockBit);
            }
            ATOMIC_WORD.getAndBitwiseOr(summary, offset, bit);
        }
    }

    private void unmarkPage(final long page)
    {
        ATOMIC_WORD.getAndBitwiseAnd(summary, (page >>> 6) << 3, ~(1L << page));
    }

    /**
     * Finds the next tagged granule in {@code [from, to)}, skipping pages whose summary bit is clear and, 64 pages
     * at a time, whole summary words that are zero.
     *
     * @param from first address to look at.
     * @param to   end of the range (exclusive).
     * @return the address of the first tagged granule at or after {@code from}'s granule, or -1 if none.
     */
    public long nextTagged(final long from, final long to)
    {
        if (from >= to)
        {
            return -1;
        }
        long granule = from >>> GRANULE_SHIFT;
        final long endGranule = (to + Geometry.GRANULE_SIZE - 1) >>> GRANULE_SHIFT;
        while (granule < endGranule)
        {
            final long page = granule >>> (PAGE_SHIFT - GRANULE_SHIFT);
            final long summaryWord = summary.get(WORD, (page >>> 6) << 3) >>> (page & 63);
            if (summaryWord == 0)
            {
                // No page from here to the end of this summary word holds tags.
                granule = ((page | 63) + 1) << (PAGE_SHIFT - GRANULE_SHIFT);
                continue;
            }
            if ((summaryWord & 1) == 0)
            {
                granule = (page + Long.numberOfTrailingZeros(summaryWord)) << (PAGE_SHIFT - GRANULE_SHIFT);
                continue;
            }
            final long word = tags.get(WORD, (granule >>> 6) << 3) & (-1L << granule);
            if (word != 0)
            {
                final long found = ((granule >>> 6) << 6) + Long.numberOfTrailingZeros(word);
                return found < endGranule ? found << GRANULE_SHIFT : -1;
            }
            granule = ((granule >>> 6) + 1) << 6;
        }
        return -1;
    }

    /**
     * @param address first byte of the range.
     * @param length  bytes in the range.
     * @return how many granules overlapping the range are tagged.
     */
    public long countTags(final long address, final long length)
    {
        if (length <= 0)
        {
            return 0;
        }
        long count = 0;
        final long end = address + length;
        long at = nextTagged(address, end);
        while (at >= 0)
        {
            count++;
            at = nextTagged(at + Geometry.GRANULE_SIZE, end);
        }
        return count;
    }

    /**
     * @return the bytes of address space this bitmap covers.
     */
    public long spaceSize()
    {
        return spaceSize;
    }
}
