package dev.ufork.kernel.relocation;

import dev.ufork.memory.Geometry;

/**
 * Where a fork moves an area: capabilities whose address lies in the parent's {@code [fromBase, fromTop)}, or whose
 * bounds lie within it, move by {@link #delta()} into the child's {@code [toBase, toTop)}, with their bounds clamped to
 * the child's area.
 * <p>
 * <b>Fast-path requirement.</b> A capability with (stored) exponent {@code E} is relocated by adding the delta to its
 * address word alone, keeping the metadata word, only if {@code delta ≡ 0 (mod 2^(E+14))} (see
 * {@link #fastExponentLimit()}). To put every capability whose bounds sit inside the area on that path, place the
 * child so that {@code delta} is a multiple of {@code 2^(floor(log2(size)) - 1)}, for instance a multiple of the area
 * size rounded up to a power of two. With a delta that is only page-aligned everything still relocates correctly,
 * through the slower decode/re-encode path.
 * <p>
 * Thread safety: immutable.
 *
 * @param fromBase first byte of the parent's area; page-aligned, not negative.
 * @param fromTop  end (exclusive) of the parent's area; page-aligned.
 * @param toBase   first byte of the child's area; page-aligned, not negative.
 * @param toTop    end (exclusive) of the child's area; page-aligned, {@code toTop - toBase == fromTop - fromBase}.
 */
public record RelocationWindow(long fromBase, long fromTop, long toBase, long toTop)
{
    /** The mantissa width of CHERI Concentrate: bounds are relative to the address bits above E + 14. */
    static final int MANTISSA_WIDTH = 14;

    /**
     * Validates the window.
     *
     * @throws IllegalArgumentException if a bound is negative or not page-aligned, an area is empty, or the sizes
     *                                  differ.
     */
    public RelocationWindow
    {
        requirePageAligned("fromBase", fromBase);
        requirePageAligned("fromTop", fromTop);
        requirePageAligned("toBase", toBase);
        requirePageAligned("toTop", toTop);
        if (fromTop <= fromBase || toTop <= toBase)
        {
            throw new IllegalArgumentException("empty area: " + describe(fromBase, fromTop, toBase, toTop));
        }
        if (fromTop - fromBase != toTop - toBase)
        {
            throw new IllegalArgumentException("areas differ in size: " + describe(fromBase, fromTop, toBase, toTop));
        }
    }

    /**
     * @param fromBase first byte of the parent's area.
     * @param toBase   first byte of the child's area.
     * @param size     bytes in each area.
     * @return the window that moves {@code [fromBase, fromBase + size)} to {@code [toBase, toBase + size)}.
     */
    public static RelocationWindow of(final long fromBase, final long toBase, final long size)
    {
        return new RelocationWindow(fromBase, fromBase + size, toBase, toBase + size);
    }

    /** @return {@code toBase - fromBase}: what relocation adds to every address it moves. */
    public long delta()
    {
        return toBase - fromBase;
    }

    /** @return bytes in each area. */
    public long size()
    {
        return fromTop - fromBase;
    }

    /** @return the window that moves the child's area back onto the parent's (swapped areas, negated delta). */
    public RelocationWindow inverse()
    {
        return new RelocationWindow(toBase, toTop, fromBase, fromTop);
    }

    /**
     * The largest exponent a capability may have and still take the fast path (address word += delta, metadata
     * unchanged), or a negative number if none can. Two conditions bound it:
     * <ul>
     *   <li>{@code E + 14 <= ctz(delta)}: the metadata word encodes the bounds relative to the address bits above
     *   {@code E + 14}, so adding a multiple of {@code 2^(E+14)} moves base and top by exactly the delta;</li>
     *   <li>{@code 2^(E+15) <= size}: the fast test also needs the address to be {@code 2^(E+14)} away from both ends
     *   of the area (see {@code RelocationCore#isFast}), which no address can be in a smaller area.</li>
     * </ul>
     *
     * @return the exponent limit, at most 47.
     */
    public int fastExponentLimit()
    {
        final int alignment = Long.numberOfTrailingZeros(delta());
        final int sizeLog = 63 - Long.numberOfLeadingZeros(size());
        return Math.min(alignment - MANTISSA_WIDTH, sizeLog - MANTISSA_WIDTH - 1);
    }

    /**
     * @param address an address.
     * @return whether it lies in the parent's area (a tagged capability holding it gets relocated).
     */
    public boolean inSource(final long address)
    {
        return Long.compareUnsigned(address - fromBase, fromTop - fromBase) < 0;
    }

    /**
     * Whether decoded bounds lie within the parent's area, edges included: a capability derived from the area keeps
     * such bounds whatever its address, so it gets relocated even when its address has left the area (a
     * one-past-the-end pointer, say).
     *
     * @param base    decoded base.
     * @param top     decoded top, low 64 bits.
     * @param topHigh whether the top is 2^64.
     * @return whether {@code fromBase <= base} and {@code top <= fromTop}.
     */
    public boolean boundsInSource(final long base, final long top, final boolean topHigh)
    {
        return !topHigh && Long.compareUnsigned(base, fromBase) >= 0 && Long.compareUnsigned(top, fromTop) <= 0
            && Long.compareUnsigned(base, top) <= 0;
    }

    /**
     * @param address an address.
     * @return whether it lies in the child's area.
     */
    public boolean inTarget(final long address)
    {
        return Long.compareUnsigned(address - toBase, toTop - toBase) < 0;
    }

    private static void requirePageAligned(final String name, final long value)
    {
        if (value < 0 || (value & (Geometry.PAGE_SIZE - 1)) != 0)
        {
            throw new IllegalArgumentException(name + " must be a non-negative multiple of the page size: 0x"
                + Long.toHexString(value));
        }
    }

    private static String describe(final long fromBase, final long fromTop, final long toBase, final long toTop)
    {
        return "[0x" + Long.toHexString(fromBase) + ", 0x" + Long.toHexString(fromTop) + ") -> [0x"
            + Long.toHexString(toBase) + ", 0x" + Long.toHexString(toTop) + ")";
    }

    @Override
    public String toString()
    {
        return "RelocationWindow" + describe(fromBase, fromTop, toBase, toTop) + " delta=" + delta();
    }
}
