package dev.ufork.capability;

import java.math.BigInteger;

/**
 * A slow, arbitrary-precision model of 128-bit CHERI Concentrate (ISAv9), written directly from the
 * formulas of the specification, to cross-check {@link CheriConcentrate}.
 *
 * <p>It works on whole numbers instead of bit fields: the decoded bounds are
 * {@code (a_top + c)·2^(E+14) + M·2^E mod 2^65}, rounding in {@code setBounds} is floor and ceiling
 * division by {@code 2^(E+3)}, and the exponent is derived from the length's bit length. Only the
 * packing of the fields into the metadata word is shared knowledge with the production code.
 */
final class ReferenceConcentrate
{
    static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
    static final BigInteger TWO_65 = BigInteger.ONE.shiftLeft(65);
    static final long NULL_MASK = 0x00001ffffc018004L;

    private static final int MW = 14;
    private static final int MAX_E = 52;

    private ReferenceConcentrate()
    {
    }

    /** Decoded bounds: base in [0, 2^64), top in [0, 2^65). */
    record Bounds(BigInteger base, BigInteger top)
    {
        long topLow()
        {
            return top.longValue();
        }

        boolean topHigh()
        {
            return top.testBit(64);
        }
    }

    /** The bounds fields as the encoder chose them. */
    record Encoding(boolean ie, int e, int b, int t, boolean exact)
    {
        /** The 27 architectural bounds bits (IE, T[11:0] field, B[13:0] field). */
        long boundsField()
        {
            if (!ie)
            {
                return ((long) (t % (1 << 12)) << 14) + (b % (1 << 14));
            }
            final long tField = (long) ((t / 8) % (1 << 9)) * 8 + (e / 8);
            final long bField = (long) ((b / 8) % (1 << 11)) * 8 + (e % 8);
            return (1L << 26) + (tField << 14) + bField;
        }
    }

    static BigInteger unsigned(final long v)
    {
        return new BigInteger(Long.toUnsignedString(v));
    }

    static BigInteger pow2(final int n)
    {
        return BigInteger.ONE.shiftLeft(n);
    }

    /** Bits hi..lo of {@code word}, as a number. */
    private static int field(final long word, final int hi, final int lo)
    {
        return unsigned(word).shiftRight(lo).mod(pow2(hi - lo + 1)).intValueExact();
    }

    /**
     * Decode as the specification states it.
     *
     * @param memoryWord the in-memory metadata word
     * @param address    the address
     * @return base and 65-bit top
     */
    static Bounds decode(final long memoryWord, final long address)
    {
        final long arch = memoryWord ^ NULL_MASK;
        final boolean ie = field(arch, 26, 26) == 1;
        final int storedE;
        final int b;
        final int tLow;
        if (ie)
        {
            storedE = field(arch, 16, 14) * 8 + field(arch, 2, 0);
            b = field(arch, 13, 3) * 8;
            tLow = field(arch, 25, 17) * 8;
        }
        else
        {
            storedE = 0;
            b = field(arch, 13, 0);
            tLow = field(arch, 25, 14);
        }
        final int e = Math.min(storedE, MAX_E);
        // T[13:12] = B[13:12] + carry + L_msb (mod 4).
        final int carry = tLow < b % 4096 ? 1 : 0;
        final int t = ((b / 4096 + carry + (ie ? 1 : 0)) % 4) * 4096 + tLow;

        final BigInteger a = unsigned(address);
        final BigInteger s = pow2(e + MW);
        final BigInteger aTop = a.divide(s);
        final int a3 = a.divide(pow2(e + MW - 3)).mod(BigInteger.valueOf(8)).intValueExact();
        final int b3 = b / 2048;
        final int t3 = t / 2048;
        final int r = Math.floorMod(b3 - 1, 8);
        final int aHi = a3 < r ? 1 : 0;
        final int cb = (b3 < r ? 1 : 0) - aHi;
        final int ct = (t3 < r ? 1 : 0) - aHi;

        final BigInteger base65 = aTop.add(BigInteger.valueOf(cb)).multiply(s)
                .add(BigInteger.valueOf(b).shiftLeft(e)).mod(TWO_65);
        BigInteger top = aTop.add(BigInteger.valueOf(ct)).multiply(s)
                .add(BigInteger.valueOf(t).shiftLeft(e)).mod(TWO_65);
        if (e < MAX_E - 1)
        {
            final int top2 = top.shiftRight(63).intValueExact();
            final int base2 = base65.testBit(63) ? 1 : 0;
            if (Math.floorMod(top2 - base2, 4) > 1)
            {
                top = top.flipBit(64);
            }
        }
        return new Bounds(base65.mod(TWO_64), top);
    }

    private static BigInteger ceilDiv(final BigInteger x, final BigInteger d)
    {
        final BigInteger[] qr = x.divideAndRemainder(d);
        return qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
    }

    /**
     * CSetBounds' encoder, from the prose: E from the length's bit length, floor/ceil rounding at
     * 2^(E+3), one E+1 retry when the rounded length reaches 2^10 granules.
     *
     * @param base base in [0, 2^64)
     * @param top  top in [0, 2^65)
     * @return the chosen fields
     */
    static Encoding setBounds(final BigInteger base, final BigInteger top)
    {
        final BigInteger length = top.subtract(base).mod(TWO_65);
        final int e = Math.max(0, length.bitLength() - (MW - 1));
        final boolean ie = e != 0 || length.testBit(MW - 2);
        if (!ie)
        {
            return new Encoding(false, 0, base.mod(pow2(MW)).intValueExact(),
                    top.mod(pow2(MW)).intValueExact(), true);
        }
        int chosen = e;
        BigInteger g = pow2(chosen + 3);
        BigInteger lo = base.divide(g);
        BigInteger hi = ceilDiv(top, g);
        if (hi.subtract(lo).mod(pow2(11)).compareTo(pow2(10)) >= 0)
        {
            chosen = e + 1;
            g = pow2(chosen + 3);
            lo = base.divide(g);
            hi = ceilDiv(top, g);
        }
        final boolean exact = base.mod(g).signum() == 0 && top.mod(g).signum() == 0;
        final int bm = lo.mod(pow2(11)).intValueExact() * 8;
        final int tm = hi.mod(pow2(11)).intValueExact() * 8;
        return new Encoding(true, chosen, bm, tm, exact);
    }

    /**
     * @param memoryWord a word whose non-bounds fields are kept
     * @param enc        the bounds encoding
     * @return the in-memory word with the bounds field replaced
     */
    static long withBounds(final long memoryWord, final Encoding enc)
    {
        final long arch = memoryWord ^ NULL_MASK;
        final long kept = arch - (arch & ((1L << 27) - 1));
        return (kept | enc.boundsField()) ^ NULL_MASK;
    }

    /**
     * CRAM per the Sail getRepresentableAlignmentMask: the encoder's choice for [0, length).
     *
     * @param length unsigned length
     * @return the mask
     */
    static long alignmentMask(final long length)
    {
        final Encoding enc = setBounds(BigInteger.ZERO, unsigned(length));
        if (!enc.ie())
        {
            return -1L;
        }
        return TWO_64.subtract(pow2(Math.min(enc.e(), MAX_E) + 3)).longValue();
    }
}
