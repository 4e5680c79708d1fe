package dev.ufork.capability;

/**
 * The 128-bit CHERI Concentrate capability format with CHERI ISAv9 parameters: encode, decode,
 * bounds setting and representability.
 *
 * <p>A capability in memory is two 64-bit words plus an out-of-band tag: the address word (the
 * cursor, so reading the slot as an integer yields the address) and the <em>metadata word</em>
 * described here. Every method in this class takes and returns the metadata word in its
 * <b>in-memory form</b>, i.e. XORed with {@link #NULL_XOR_MASK}, so the NULL capability is sixteen
 * zero bytes. The architectural layout of the word, after undoing the XOR, is (bit numbers are
 * those of the 64-bit word; add 64 for the positions in the 128-bit capability):
 *
 * <pre>
 *  63    60 59          48 47 46 45  44               27  26  25          14 13            0
 * +--------+--------------+-----+--+--------------------+---+---------------+---------------+
 * | uperms |    perms     | res |fl|       otype        |IE |   T[11:0]     |    B[13:0]    |  IE = 0, E = 0
 * +--------+--------------+-----+--+--------------------+---+---------------+---------------+
 *                                                       |IE |T[11:3] |E[5:3]| B[13:3] |E[2:0]|  IE = 1
 *                                                       +---+--------+------+---------+------+
 *                                                            25   17  16 14  13     3  2   0
 * </pre>
 *
 * <ul>
 *   <li>{@code uperms}: the four software permissions (CGetPerm bits 15..18);</li>
 *   <li>{@code perms}: the twelve architectural permissions (CGetPerm bits 0..11);</li>
 *   <li>{@code res}: two reserved bits, zero in every capability the architecture derives;</li>
 *   <li>{@code fl}: the one architecture-defined flag (the CHERI-RISC-V capability-mode bit);</li>
 *   <li>{@code otype}: the 18-bit raw object type, see {@link ObjectType};</li>
 *   <li>{@code IE, T, B, E}: the compressed bounds. With IE = 0 the exponent is zero, B holds all 14
 *       mantissa bits and T its low 12; with IE = 1 the low three bits of both hold the 6-bit
 *       exponent and are implicitly zero in the mantissas. T[13:12] are never stored: decode
 *       rebuilds them from B[13:12], the carry out of the low 12 bits and IE.</li>
 * </ul>
 *
 * <p>Parameters: mantissa width 14, exponent width 6, exponent used for decoding clamped to
 * {@link #MAX_EXPONENT} = 52 (so that 2^(52+12) = 2^64 covers the address space). Bounds are
 * {@code base} (64 bits) and {@code top} (65 bits, because it may be 2^64); this class returns top as
 * its low 64 bits plus a separate bit 64.
 *
 * <p>The decode and check paths take primitives, return primitives and allocate nothing. Stateless
 * and thread-safe; not instantiable.
 */
public final class CheriConcentrate
{
    /** Mantissa width MW of the 128-bit format. */
    public static final int MANTISSA_WIDTH = 14;

    /** Width of the exponent field. */
    public static final int EXPONENT_WIDTH = 6;

    /** The largest exponent decoding uses; larger stored values are clamped to it. */
    public static final int MAX_EXPONENT = 52;

    /** The architectural metadata word of the NULL capability; in-memory words are XORed with it. */
    public static final long NULL_XOR_MASK = 0x0000_1fff_fc01_8004L;

    /** The in-memory metadata word of NULL (and of every integer-in-a-capability). */
    public static final long NULL_METADATA = 0L;

    /** Shift of the uperms field within the metadata word. */
    public static final int UPERMS_SHIFT = 60;
    /** Shift of the 12-bit architectural permission field. */
    public static final int PERMS_SHIFT = 48;
    /** Shift of the two reserved bits. */
    public static final int RESERVED_SHIFT = 46;
    /** Shift of the flag bit. */
    public static final int FLAGS_SHIFT = 45;
    /** Shift of the 18-bit otype field. */
    public static final int OTYPE_SHIFT = 27;
    /** Position of the internal-exponent bit. */
    public static final int IE_SHIFT = 26;
    /** Shift of the stored 12-bit T field. */
    public static final int T_SHIFT = 14;

    /** Mask of the 27 bounds bits (IE, T, B) in the metadata word. */
    public static final long BOUNDS_FIELD_MASK = (1L << 27) - 1;

    private static final int HARD_PERMS_MASK = 0xFFF;
    private static final int UPERMS_MASK = 0xF;
    private static final int UPERMS_PERM_SHIFT = 15;
    private static final int MANTISSA_MASK = (1 << MANTISSA_WIDTH) - 1;
    private static final int T_FIELD_MASK = 0xFFF;
    // The 11-bit mantissas of the IE format (the low 3 bits hold the exponent).
    private static final int IE_MANTISSA_MASK = 0x7FF;
    // Bit 32 of the private packed result of encodeBounds marks "exact".
    private static final long EXACT_FLAG = 1L << 32;

    private CheriConcentrate()
    {
    }

    // ------------------------------------------------------------------------------------------
    // In-memory form
    // ------------------------------------------------------------------------------------------

    /**
     * @param metadata an in-memory metadata word
     * @return the architectural word (the XOR with {@link #NULL_XOR_MASK} undone)
     */
    public static long toArchitectural(final long metadata)
    {
        return metadata ^ NULL_XOR_MASK;
    }

    /**
     * @param architectural an architectural metadata word
     * @return its in-memory form
     */
    public static long toMemory(final long architectural)
    {
        return architectural ^ NULL_XOR_MASK;
    }

    // ------------------------------------------------------------------------------------------
    // Field extraction (all take the in-memory word)
    // ------------------------------------------------------------------------------------------

    /**
     * @param metadata an in-memory metadata word
     * @return the permissions in CGetPerm numbering: architectural bits 0..11, uperms at 15..18
     */
    public static int permissions(final long metadata)
    {
        return hardPermissions(metadata) | (userPermissions(metadata) << UPERMS_PERM_SHIFT);
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the 12-bit architectural permission field
     */
    public static int hardPermissions(final long metadata)
    {
        return (int) (toArchitectural(metadata) >>> PERMS_SHIFT) & HARD_PERMS_MASK;
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the 4-bit uperms field, unshifted
     */
    public static int userPermissions(final long metadata)
    {
        return (int) (toArchitectural(metadata) >>> UPERMS_SHIFT) & UPERMS_MASK;
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the raw 18-bit otype field
     */
    public static int objectTypeRaw(final long metadata)
    {
        return (int) (toArchitectural(metadata) >>> OTYPE_SHIFT) & ObjectType.RAW_MASK;
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the signed architectural otype (see {@link ObjectType#fromRaw(int)})
     */
    public static int objectType(final long metadata)
    {
        return ObjectType.fromRaw(objectTypeRaw(metadata));
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the flag bit, 0 or 1
     */
    public static int flags(final long metadata)
    {
        return (int) (toArchitectural(metadata) >>> FLAGS_SHIFT) & 1;
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the two reserved bits, 0..3
     */
    public static int reserved(final long metadata)
    {
        return (int) (toArchitectural(metadata) >>> RESERVED_SHIFT) & 3;
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the IE (internal exponent) bit
     */
    public static boolean internalExponent(final long metadata)
    {
        return ((toArchitectural(metadata) >>> IE_SHIFT) & 1) != 0;
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the stored 6-bit exponent (0 when IE = 0), before clamping to {@link #MAX_EXPONENT}
     */
    public static int exponent(final long metadata)
    {
        return rawExponent(toArchitectural(metadata));
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the 14-bit base mantissa B as decode uses it
     */
    public static int mantissaB(final long metadata)
    {
        return baseMantissa(toArchitectural(metadata));
    }

    /**
     * @param metadata an in-memory metadata word
     * @return the 14-bit top mantissa T with T[13:12] reconstructed
     */
    public static int mantissaT(final long metadata)
    {
        return topMantissa(toArchitectural(metadata));
    }

    // ------------------------------------------------------------------------------------------
    // Field replacement (bounds bits untouched)
    // ------------------------------------------------------------------------------------------

    /**
     * @param metadata    an in-memory metadata word
     * @param permissions new permissions in CGetPerm numbering; bits 12..14 and above 18 are ignored
     * @return the word with its uperms and perms fields replaced
     */
    public static long withPermissions(final long metadata, final int permissions)
    {
        final long fields = ((long) (permissions & HARD_PERMS_MASK) << PERMS_SHIFT)
                | ((long) ((permissions >>> UPERMS_PERM_SHIFT) & UPERMS_MASK) << UPERMS_SHIFT);
        final long cleared = toArchitectural(metadata)
                & ~(((long) HARD_PERMS_MASK << PERMS_SHIFT) | ((long) UPERMS_MASK << UPERMS_SHIFT));
        return toMemory(cleared | fields);
    }

    /**
     * @param metadata an in-memory metadata word
     * @param otype    the architectural otype; its low 18 bits are stored
     * @return the word with its otype field replaced
     */
    public static long withObjectType(final long metadata, final int otype)
    {
        final long cleared = toArchitectural(metadata) & ~((long) ObjectType.RAW_MASK << OTYPE_SHIFT);
        return toMemory(cleared | ((long) ObjectType.toRaw(otype) << OTYPE_SHIFT));
    }

    /**
     * @param metadata an in-memory metadata word
     * @param flags    the new flag bit (only bit 0 is used)
     * @return the word with its flag replaced
     */
    public static long withFlags(final long metadata, final int flags)
    {
        final long cleared = toArchitectural(metadata) & ~(1L << FLAGS_SHIFT);
        return toMemory(cleared | ((long) (flags & 1) << FLAGS_SHIFT));
    }

    // ------------------------------------------------------------------------------------------
    // Decode
    // ------------------------------------------------------------------------------------------

    /**
     * Decodes the base, as {@code getCapBounds} does for the given address.
     *
     * @param metadata an in-memory metadata word
     * @param address  the capability's address
     * @return the 64-bit base
     */
    public static long decodeBase(final long metadata, final long address)
    {
        final long m = toArchitectural(metadata);
        final int e = Math.min(rawExponent(m), MAX_EXPONENT);
        final int b = baseMantissa(m);
        final int r3 = ((b >>> 11) - 1) & 7;
        return composeLow(regionBase(address, e, b, r3), b, e);
    }

    /**
     * Decodes the low 64 bits of the 65-bit top for the given address.
     *
     * @param metadata an in-memory metadata word
     * @param address  the capability's address
     * @return top mod 2^64; see {@link #decodeTopHigh(long, long)} for bit 64
     */
    public static long decodeTop(final long metadata, final long address)
    {
        final long m = toArchitectural(metadata);
        final int e = Math.min(rawExponent(m), MAX_EXPONENT);
        final int r3 = ((baseMantissa(m) >>> 11) - 1) & 7;
        final int t = topMantissa(m);
        // The edge fix only flips bit 64, so the low bits need no more work.
        return composeLow(regionBase(address, e, t, r3), t, e);
    }

    /**
     * Decodes bit 64 of the 65-bit top for the given address, including the edge fix that inverts it
     * when base and top would otherwise lie more than an address space apart.
     *
     * @param metadata an in-memory metadata word
     * @param address  the capability's address
     * @return whether top &ge; 2^64
     */
    public static boolean decodeTopHigh(final long metadata, final long address)
    {
        final long m = toArchitectural(metadata);
        final int e = Math.min(rawExponent(m), MAX_EXPONENT);
        final int b = baseMantissa(m);
        final int t = topMantissa(m);
        final int r3 = ((b >>> 11) - 1) & 7;
        final long topRegion = regionBase(address, e, t, r3);
        return topBit64(topRegion, t, e, composeLow(topRegion, t, e), composeLow(regionBase(address, e, b, r3), b, e));
    }

    /**
     * Bit 64 of the decoded top, from the parts of a decode already done (see {@link #decodeTopHigh}).
     *
     * @param topRegion {@code regionBase} of the top
     * @param t         the top mantissa
     * @param e         the clamped exponent
     * @param topLow    low 64 bits of the top
     * @param baseLow   low 64 bits of the base
     * @return whether top &ge; 2^64
     */
    static boolean topBit64(final long topRegion, final int t, final int e, final long topLow, final long baseLow)
    {
        int high = composeBit64(topRegion, t, e);
        if (e < MAX_EXPONENT - 1)
        {
            final int top2 = (high << 1) | (int) (topLow >>> 63);
            final int base2 = (int) (baseLow >>> 63);
            if (((top2 - base2) & 3) > 1)
            {
                high ^= 1;
            }
        }
        return high != 0;
    }

    /**
     * Precise representability (the Sail {@code setCapAddr} check): the bounds decoded with the new
     * address equal those decoded with the old one. More permissive than the hardware's fast check.
     *
     * @param metadata   an in-memory metadata word
     * @param oldAddress the current address
     * @param newAddress the proposed address
     * @return whether changing the address keeps the bounds
     */
    public static boolean isRepresentable(final long metadata, final long oldAddress, final long newAddress)
    {
        return decodeBase(metadata, oldAddress) == decodeBase(metadata, newAddress)
                && decodeTop(metadata, oldAddress) == decodeTop(metadata, newAddress)
                && decodeTopHigh(metadata, oldAddress) == decodeTopHigh(metadata, newAddress);
    }

    /**
     * @param metadata an in-memory metadata word
     * @param address  the capability's address
     * @param base     a candidate base
     * @param topLow   low 64 bits of the candidate top
     * @param topHigh  bit 64 of the candidate top
     * @return whether the word decodes, at {@code address}, to exactly [base, top)
     */
    public static boolean decodesTo(final long metadata, final long address,
                                    final long base, final long topLow, final boolean topHigh)
    {
        return decodeBase(metadata, address) == base
                && decodeTop(metadata, address) == topLow
                && decodeTopHigh(metadata, address) == topHigh;
    }

    // ------------------------------------------------------------------------------------------
    // Encode
    // ------------------------------------------------------------------------------------------

    /**
     * The ISAv9 {@code setCapBounds}: replaces the bounds field of {@code metadata} with the encoding
     * of [base, top), rounding base down and top up when they cannot be encoded exactly. The
     * capability's address should become {@code base}. Every other field is kept bit for bit.
     *
     * @param metadata an in-memory metadata word
     * @param base     the requested base
     * @param topLow   low 64 bits of the requested top
     * @param topHigh  bit 64 of the requested top
     * @param out      receives the new word, the bounds it decodes to at address {@code base}, and
     *                 whether they are exactly the requested ones
     * @return {@code out}
     */
    public static BoundsEncoding setBounds(final long metadata, final long base, final long topLow,
                                           final boolean topHigh, final BoundsEncoding out)
    {
        final long packed = encodeBounds(base, topLow, topHigh);
        final long newMetadata = toMemory((toArchitectural(metadata) & ~BOUNDS_FIELD_MASK) | (packed & BOUNDS_FIELD_MASK));
        out.metadata = newMetadata;
        out.exact = (packed & EXACT_FLAG) != 0;
        out.base = decodeBase(newMetadata, base);
        out.top = decodeTop(newMetadata, base);
        out.topHigh = decodeTopHigh(newMetadata, base);
        return out;
    }

    /**
     * {@link #setBounds(long, long, long, boolean, BoundsEncoding)} for [base, base + length), as
     * {@code CSetBounds} computes it (the top is the 65-bit sum, so it never wraps).
     *
     * @param metadata an in-memory metadata word
     * @param base     the requested base
     * @param length   the requested length, unsigned
     * @param out      receives the result
     * @return {@code out}
     */
    public static BoundsEncoding setBoundsLength(final long metadata, final long base, final long length,
                                                 final BoundsEncoding out)
    {
        final long topLow = base + length;
        final boolean topHigh = Long.compareUnsigned(topLow, base) < 0;
        return setBounds(metadata, base, topLow, topHigh, out);
    }

    /**
     * Encodes a whole metadata word for bounds that must be exactly representable, e.g. for a root.
     *
     * @param base        the base
     * @param topLow      low 64 bits of the top
     * @param topHigh     bit 64 of the top
     * @param permissions permissions in CGetPerm numbering
     * @param otype       architectural otype
     * @param flags       the flag bit
     * @return the in-memory word; it decodes to [base, top) at address {@code base}
     * @throws IllegalArgumentException if [base, top) is not exactly representable or top &lt; base
     */
    public static long encode(final long base, final long topLow, final boolean topHigh,
                              final int permissions, final int otype, final int flags)
    {
        if (compare65(base, false, topLow, topHigh) > 0 || (topHigh && topLow != 0))
        {
            throw new IllegalArgumentException("bounds out of range: base 0x" + Long.toHexString(base)
                    + " top " + hex65(topLow, topHigh));
        }
        final long packed = encodeBounds(base, topLow, topHigh);
        if ((packed & EXACT_FLAG) == 0)
        {
            throw new IllegalArgumentException("bounds not exactly representable: [0x" + Long.toHexString(base)
                    + ", " + hex65(topLow, topHigh) + ")");
        }
        long word = toMemory((toArchitectural(NULL_METADATA) & ~BOUNDS_FIELD_MASK) | (packed & BOUNDS_FIELD_MASK));
        word = withPermissions(word, permissions);
        word = withObjectType(word, otype);
        return withFlags(word, flags);
    }

    /**
     * Whether the bounds field of {@code metadata} is exactly what {@code setBounds} produces for the
     * bounds it decodes to at {@code address}, and that encoding is exact: the "derivable" test of
     * {@code CBuildCap}.
     *
     * @param metadata an in-memory metadata word
     * @param address  the capability's address
     * @return whether the bounds encoding could have come out of CSetBounds
     */
    public static boolean isDerivableEncoding(final long metadata, final long address)
    {
        final long base = decodeBase(metadata, address);
        final long topLow = decodeTop(metadata, address);
        final boolean topHigh = decodeTopHigh(metadata, address);
        final long packed = encodeBounds(base, topLow, topHigh);
        return (packed & EXACT_FLAG) != 0
                && (packed & BOUNDS_FIELD_MASK) == (toArchitectural(metadata) & BOUNDS_FIELD_MASK);
    }

    /**
     * {@code CRAM}: the mask a base must be aligned to so that {@code setBounds} with this length is
     * exact, {@code ~0 << (IE ? E + 3 : 0)} for the encoding chosen for [0, length).
     *
     * @param length a length, unsigned
     * @return the alignment mask
     */
    public static long representableAlignmentMask(final long length)
    {
        final long packed = encodeBounds(0L, length, false);
        if (((packed >>> IE_SHIFT) & 1) == 0)
        {
            return -1L;
        }
        final int e = Math.min(rawExponent(packed & BOUNDS_FIELD_MASK), MAX_EXPONENT);
        return -1L << (e + 3);
    }

    /**
     * {@code CRRL}: the length rounded up to the next one {@code setBounds} can encode exactly (from
     * a base aligned to {@link #representableAlignmentMask(long)}). Wraps to 0 for lengths that
     * round up to 2^64, as the architecture's 64-bit result does.
     *
     * @param length a length, unsigned
     * @return the representable length
     */
    public static long representableLength(final long length)
    {
        final long mask = representableAlignmentMask(length);
        return (length + ~mask) & mask;
    }

    // ------------------------------------------------------------------------------------------
    // 65-bit helpers
    // ------------------------------------------------------------------------------------------

    /**
     * Compares two 65-bit unsigned values given as (low 64 bits, bit 64).
     *
     * @param aLow  low bits of a
     * @param aHigh bit 64 of a
     * @param bLow  low bits of b
     * @param bHigh bit 64 of b
     * @return negative, zero or positive as a &lt;, =, &gt; b
     */
    public static int compare65(final long aLow, final boolean aHigh, final long bLow, final boolean bHigh)
    {
        if (aHigh != bHigh)
        {
            return aHigh ? 1 : -1;
        }
        return Long.compareUnsigned(aLow, bLow);
    }

    /**
     * @param low  low 64 bits
     * @param high bit 64
     * @return the 65-bit value in hex, e.g. {@code 0x10000000000000000} for 2^64
     */
    public static String hex65(final long low, final boolean high)
    {
        if (!high)
        {
            return "0x" + Long.toHexString(low);
        }
        final String digits = Long.toHexString(low);
        return "0x1" + "0".repeat(16 - digits.length()) + digits;
    }

    // ------------------------------------------------------------------------------------------
    // Internals (all on the architectural word)
    // ------------------------------------------------------------------------------------------

    static int rawExponent(final long arch)
    {
        if (((arch >>> IE_SHIFT) & 1) == 0)
        {
            return 0;
        }
        // E[5:3] sits in the low bits of the T field, E[2:0] in the low bits of B.
        final int high = (int) (arch >>> T_SHIFT) & 7;
        final int low = (int) arch & 7;
        return (high << 3) | low;
    }

    static int baseMantissa(final long arch)
    {
        final int b = (int) arch & MANTISSA_MASK;
        return ((arch >>> IE_SHIFT) & 1) == 0 ? b : b & ~7;
    }

    static int topMantissa(final long arch)
    {
        final boolean ie = ((arch >>> IE_SHIFT) & 1) != 0;
        final int stored = (int) (arch >>> T_SHIFT) & T_FIELD_MASK;
        final int tLow = ie ? stored & ~7 : stored;
        final int b = baseMantissa(arch);
        // T = B + length. With IE the exponent is chosen so the length's top mantissa bits are 01;
        // without IE they are 00. A carry out of the low 12 bits shows up as T[11:0] < B[11:0].
        final int carry = tLow < (b & T_FIELD_MASK) ? 1 : 0;
        final int lengthMsbs = ie ? 1 : 0;
        final int tHigh = ((b >>> 12) + lengthMsbs + carry) & 3;
        return (tHigh << 12) | tLow;
    }

    /**
     * The upper part (bits E+14 and up) of the decoded base or top: the address's upper part plus a
     * correction of -1, 0 or +1 depending on whether the address and the bound lie on different
     * sides of the representable region's boundary R = B[13:11] - 1. Returned modulo 2^64.
     */
    static long regionBase(final long address, final int e, final int mantissa, final int r3)
    {
        final int a3 = (int) (address >>> (e + MANTISSA_WIDTH - 3)) & 7;
        final int aHi = a3 < r3 ? 1 : 0;
        final int xHi = (mantissa >>> 11) < r3 ? 1 : 0;
        // For E >= 50 the region starts at bit 64 or above: the address's upper part is empty.
        final long aTop = e + MANTISSA_WIDTH < 64 ? address >>> (e + MANTISSA_WIDTH) : 0L;
        return aTop + (xHi - aHi);
    }

    /** Low 64 bits of (region · 2^(E+14)) | (mantissa · 2^E). */
    static long composeLow(final long region, final int mantissa, final int e)
    {
        final long upper = e + MANTISSA_WIDTH < 64 ? region << (e + MANTISSA_WIDTH) : 0L;
        return upper | ((long) mantissa << e);
    }

    /** Bit 64 of (region · 2^(E+14)) | (mantissa · 2^E), the region taken modulo 2^64. */
    static int composeBit64(final long region, final int mantissa, final int e)
    {
        int bit = 0;
        if (e + MANTISSA_WIDTH <= 64)
        {
            bit = (int) (region >>> (64 - MANTISSA_WIDTH - e)) & 1;
        }
        if (e > 64 - MANTISSA_WIDTH)
        {
            bit |= (mantissa >>> (64 - e)) & 1;
        }
        return bit;
    }

    /** Bits [shift, shift + 63] of the 65-bit value (high:low), for 0 &lt; shift &lt; 64. */
    private static long shiftRight65(final long low, final boolean high, final int shift)
    {
        return (low >>> shift) | (high ? 1L << (64 - shift) : 0L);
    }

    /**
     * The core of the ISAv9 {@code setCapBounds} on (base, top). Returns the architectural bounds
     * field (27 bits: IE, T, B) with {@link #EXACT_FLAG} set when nothing was rounded.
     */
    private static long encodeBounds(final long base, final long topLow, final boolean topHigh)
    {
        // length = top - base modulo 2^65, as the architecture computes it.
        final long lengthLow = topLow - base;
        final boolean borrow = Long.compareUnsigned(topLow, base) < 0;
        final boolean lengthHigh = topHigh ^ borrow;

        // E puts the length's most significant bit at mantissa bit 12 (MSBs "01"), i.e.
        // E = 52 - clz(length[64:13]); lengths below 2^13 get E = 0.
        final int e;
        if (lengthHigh)
        {
            e = MAX_EXPONENT;
        }
        else
        {
            e = Math.max(0, 64 - Long.numberOfLeadingZeros(lengthLow) - (MANTISSA_WIDTH - 1));
        }
        final boolean ie = e != 0 || ((lengthLow >>> (MANTISSA_WIDTH - 2)) & 1) != 0;

        if (!ie)
        {
            // Length below 4 KiB: both mantissas hold the low bits verbatim, always exact.
            final long t = topLow & T_FIELD_MASK;
            final long b = base & MANTISSA_MASK;
            return EXACT_FLAG | (t << T_SHIFT) | b;
        }

        // IE: the low three mantissa bits hold the exponent, so the bounds keep bits E+3 and up.
        int shift = e + 3;
        long bIe = (base >>> shift) & IE_MANTISSA_MASK;
        long tIe = shiftRight65(topLow, topHigh, shift) & IE_MANTISSA_MASK;
        final long lostMask = (1L << shift) - 1;
        boolean lostBase = (base & lostMask) != 0;
        boolean lostTop = (topLow & lostMask) != 0;
        if (lostTop)
        {
            // Round top up so the bounds still cover the request; a wrap is undone by decode.
            tIe = (tIe + 1) & IE_MANTISSA_MASK;
        }
        int chosenE = e;
        final long lengthIe = (tIe - bIe) & IE_MANTISSA_MASK;
        if ((lengthIe & (1L << (MANTISSA_WIDTH - 4))) != 0)
        {
            // Rounding carried the length into the next power of two: one more exponent step.
            chosenE = e + 1;
            lostBase |= (bIe & 1) != 0;
            lostTop |= (tIe & 1) != 0;
            shift = e + 4;
            bIe = (base >>> shift) & IE_MANTISSA_MASK;
            tIe = (shiftRight65(topLow, topHigh, shift) + (lostTop ? 1 : 0)) & IE_MANTISSA_MASK;
        }
        // T field: T[11:3] over E[5:3]; B field: B[13:3] over E[2:0].
        final long tField = ((tIe & 0x1FF) << 3) | ((chosenE >>> 3) & 7);
        final long bField = (bIe << 3) | (chosenE & 7);
        final long field = (1L << IE_SHIFT) | (tField << T_SHIFT) | bField;
        return (lostBase || lostTop) ? field : field | EXACT_FLAG;
    }

    /**
     * Mutable result holder for {@link #setBounds(long, long, long, boolean, BoundsEncoding)}, so a
     * caller can reuse one instance. Not thread-safe: confine each instance to one thread.
     */
    public static final class BoundsEncoding
    {
        private long metadata;
        private long base;
        private long top;
        private boolean topHigh;
        private boolean exact;

        /** Creates an empty holder. */
        public BoundsEncoding()
        {
        }

        /** @return the new in-memory metadata word */
        public long metadata()
        {
            return metadata;
        }

        /** @return the base the new word decodes to (at the requested base as address) */
        public long base()
        {
            return base;
        }

        /** @return low 64 bits of the top the new word decodes to */
        public long top()
        {
            return top;
        }

        /** @return bit 64 of the top the new word decodes to */
        public boolean topHigh()
        {
            return topHigh;
        }

        /** @return whether the decoded bounds equal the requested ones */
        public boolean exact()
        {
            return exact;
        }

        /** @return the exponent stored in the new word */
        public int exponent()
        {
            return CheriConcentrate.exponent(metadata);
        }

        @Override
        public String toString()
        {
            return "BoundsEncoding[metadata=0x" + Long.toHexString(metadata) + ", base=0x" + Long.toHexString(base)
                    + ", top=" + hex65(top, topHigh) + ", exact=" + exact + "]";
        }
    }
}
