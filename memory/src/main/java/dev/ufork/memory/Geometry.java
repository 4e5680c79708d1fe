package dev.ufork.memory;

/**
 * The fixed geometry of the address space: 4 KiB pages, 16-byte granules (one capability each, one tag bit each).
 * <pre>
 *  page (4096 B) = 256 granules = 4 tag words
 * +--------+--------+-- ... --+--------+
 * | gran 0 | gran 1 |         | gr 255 |   granule = 16 B, the unit of a tag
 * +--------+--------+-- ... --+--------+
 *  tag word = 64 granules = 1 KiB of memory; summary word = 64 pages = 256 KiB of memory
 * </pre>
 * Thread safety: constants only.
 */
public final class Geometry
{
    /** log2 of {@link #PAGE_SIZE}. */
    public static final int PAGE_SHIFT = 12;
    /** Bytes in a page: the unit of reservation, locking, copy-on-write and residency. */
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** log2 of {@link #GRANULE_SIZE}. */
    public static final int GRANULE_SHIFT = 4;
    /** Bytes in a granule: the size and alignment of one capability, covered by one tag bit. */
    public static final long GRANULE_SIZE = 1L << GRANULE_SHIFT;
    /** Granules in a page. */
    public static final int GRANULES_PER_PAGE = (int)(PAGE_SIZE / GRANULE_SIZE);
    /** Granules covered by one 64-bit tag word. */
    public static final int GRANULES_PER_TAG_WORD = Long.SIZE;
    /** Tag words that cover one page. */
    public static final int TAG_WORDS_PER_PAGE = GRANULES_PER_PAGE / GRANULES_PER_TAG_WORD;

    private Geometry()
    {
    }

    /**
     * @param address an address in the space.
     * @return the index of the page that holds it.
     */
    public static long pageOf(final long address)
    {
        return address >>> PAGE_SHIFT;
    }

    /**
     * @param address an address in the space.
     * @return the index of the granule that holds it.
     */
    public static long granuleOf(final long address)
    {
        return address >>> GRANULE_SHIFT;
    }

    /**
     * @param value     a non-negative value.
     * @param alignment a power of two.
     * @return {@code value} rounded up to a multiple of {@code alignment}.
     */
    public static long alignUp(final long value, final long alignment)
    {
        return (value + alignment - 1) & -alignment;
    }

    /**
     * @param value a value.
     * @return whether {@code value} is a positive power of two.
     */
    public static boolean isPowerOfTwo(final long value)
    {
        return value > 0 && (value & (value - 1)) == 0;
    }
}
