package dev.ufork.capability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Randomized properties of {@link CheriConcentrate}, each checked over many inputs and against the
 * arbitrary-precision {@link ReferenceConcentrate}.
 *
 * <p>Every test draws from a {@link SplittableRandom} whose seed is printed and included in every
 * failure message; rerun with {@code -Dufork.seed=<seed>} to replay.
 */
class CodecPropertyTest
{
    private static final BigInteger TWO_64 = ReferenceConcentrate.TWO_64;

    /** Seeded randomness shared by the randomized test classes of this package. */
    static final class Seeds
    {
        static final String PROPERTY = "ufork.seed";

        private Seeds()
        {
        }

        /**
         * @param info the running test
         * @return the seed from {@code -Dufork.seed}, else a fresh one; printed either way
         */
        static long seed(final TestInfo info)
        {
            final String given = System.getProperty(PROPERTY);
            final long seed;
            if (given != null && !given.isBlank())
            {
                final String s = given.strip();
                seed = s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
            }
            else
            {
                seed = System.nanoTime() ^ (System.currentTimeMillis() << 20);
            }
            System.out.println(info.getDisplayName() + ": seed " + seed + " (replay: -D" + PROPERTY + "=" + seed + ")");
            return seed;
        }

        /**
         * @param seed the seed in use
         * @param info the running test
         * @param what the failing case
         * @return a failure message that says how to replay
         */
        static Supplier<String> message(final long seed, final TestInfo info, final Supplier<String> what)
        {
            return () -> what.get() + " [seed " + seed + "; replay with -D" + PROPERTY + "=" + seed
                    + " -Dtest=" + info.getTestClass().map(Class::getSimpleName).orElse("?")
                    + "#" + info.getTestMethod().map(m -> m.getName()).orElse("?") + "]";
        }

        /** A length whose bit length is uniform in 0..64, sometimes just around a power of two. */
        static long length(final SplittableRandom rnd)
        {
            final int bits = rnd.nextInt(65);
            if (bits == 0)
            {
                return 0L;
            }
            return switch (rnd.nextInt(4))
            {
                case 0 -> (1L << (bits - 1)) + rnd.nextInt(-2, 3);
                default -> (rnd.nextLong() >>> (64 - bits)) | (1L << (bits - 1));
            };
        }

        /** A base with random alignment, moved down so that base + length &le; 2^64. */
        static long base(final SplittableRandom rnd, final long length)
        {
            long base = rnd.nextLong() & (-1L << rnd.nextInt(64));
            if (rnd.nextInt(8) == 0)
            {
                base = rnd.nextLong();
            }
            final long top = base + length;
            if (Long.compareUnsigned(top, base) < 0 && top != 0L)
            {
                // Overflowed past 2^64: slide down so the top is exactly 2^64.
                base -= top;
            }
            return base;
        }
    }

    private static BigInteger u(final long v)
    {
        return ReferenceConcentrate.unsigned(v);
    }

    private static BigInteger top65(final long low, final boolean high)
    {
        return high ? u(low).add(TWO_64) : u(low);
    }

    /** Uniform-ish in [0, max], with extra weight on the ends where rounding bites. */
    private static BigInteger upTo(final SplittableRandom rnd, final BigInteger max)
    {
        return switch (rnd.nextInt(4))
        {
            case 0 -> BigInteger.ZERO;
            case 1 -> max;
            default -> new BigInteger(max.bitLength() + 16, new java.util.Random(rnd.nextLong()))
                    .mod(max.add(BigInteger.ONE));
        };
    }

    private static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }

    @Test
    void nullDecodesToWholeSpaceAtEveryAddress(final TestInfo info)
    {
        final long seed = Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        assertEquals(0L, Capability.NULL.metadataBits());
        assertEquals(0L, Capability.NULL.addressBits());
        for (int i = 0; i < 20_000; i++)
        {
            final long a = rnd.nextLong();
            assertEquals(0L, CheriConcentrate.decodeBase(0L, a), Seeds.message(seed, info, () -> "base at " + hex(a)));
            assertEquals(0L, CheriConcentrate.decodeTop(0L, a), Seeds.message(seed, info, () -> "top at " + hex(a)));
            assertTrue(CheriConcentrate.decodeTopHigh(0L, a), Seeds.message(seed, info, () -> "top bit 64 at " + hex(a)));
            final Capability c = Capability.fromMemory(a, 0L, false);
            assertEquals(Capability.NULL.withAddress(a), c, Seeds.message(seed, info, () -> "integer cap " + hex(a)));
            assertEquals(-1L, c.length());
        }
    }

    @Test
    void setBoundsCoversRequestAndIsExactIffDecodedEqual(final TestInfo info)
    {
        final long seed = Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        final CheriConcentrate.BoundsEncoding enc = new CheriConcentrate.BoundsEncoding();
        for (int i = 0; i < 200_000; i++)
        {
            final long len = Seeds.length(rnd);
            final long base = Seeds.base(rnd, len);
            CheriConcentrate.setBoundsLength(0L, base, len, enc);
            final BigInteger reqTop = u(base).add(u(len));
            final BigInteger gotTop = top65(enc.top(), enc.topHigh());
            final Supplier<String> what = () -> "base " + hex(base) + " len " + hex(len) + " -> " + enc;
            assertTrue(Long.compareUnsigned(enc.base(), base) <= 0, Seeds.message(seed, info, what));
            assertTrue(gotTop.compareTo(reqTop) >= 0, Seeds.message(seed, info, what));
            assertTrue(gotTop.compareTo(TWO_64) <= 0, Seeds.message(seed, info, what));
            final boolean equal = enc.base() == base && gotTop.equals(reqTop);
            assertEquals(equal, enc.exact(), Seeds.message(seed, info, what));
            // The address (= requested base) is inside the new bounds, so it decodes the same way.
            assertTrue(CheriConcentrate.isRepresentable(enc.metadata(), base, enc.base()), Seeds.message(seed, info, what));
            // Whatever CSetBounds produces, CBuildCap must accept again.
            assertTrue(CheriConcentrate.isDerivableEncoding(enc.metadata(), base), Seeds.message(seed, info, what));
            if (Long.compareUnsigned(len, 4096) < 0)
            {
                assertTrue(enc.exact(), Seeds.message(seed, info, () -> "short length not exact: " + what.get()));
            }
        }
    }

    @Test
    void cramAlignedBaseWithCrrlLengthIsExact(final TestInfo info)
    {
        final long seed = Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        final CheriConcentrate.BoundsEncoding enc = new CheriConcentrate.BoundsEncoding();
        for (int i = 0; i < 200_000; i++)
        {
            final long len = Seeds.length(rnd);
            final long mask = CheriConcentrate.representableAlignmentMask(len);
            final long rl = CheriConcentrate.representableLength(len);
            final Supplier<String> what = () -> "len " + hex(len) + " crrl " + hex(rl) + " cram " + hex(mask);
            assertEquals(ReferenceConcentrate.alignmentMask(len), mask, Seeds.message(seed, info, what));
            if (rl == 0L && len != 0L)
            {
                // Rounds up to 2^64: only [0, 2^64) itself has that length.
                assertTrue(CheriConcentrate.setBounds(0L, 0L, 0L, true, enc).exact(), Seeds.message(seed, info, what));
                continue;
            }
            assertTrue(Long.compareUnsigned(rl, len) >= 0, Seeds.message(seed, info, what));
            assertEquals(rl, rl & mask, Seeds.message(seed, info, what));
            final long base = Seeds.base(rnd, rl) & mask;
            CheriConcentrate.setBoundsLength(0L, base, rl, enc);
            assertTrue(enc.exact(), Seeds.message(seed, info, () -> what.get() + " base " + hex(base) + " -> " + enc));
        }
    }

    @Test
    void setBoundsStaysWithinOriginalBounds(final TestInfo info)
    {
        final long seed = Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        final CheriConcentrate.BoundsEncoding parent = new CheriConcentrate.BoundsEncoding();
        final CheriConcentrate.BoundsEncoding child = new CheriConcentrate.BoundsEncoding();
        for (int i = 0; i < 200_000; i++)
        {
            final long len = Seeds.length(rnd);
            final long base = Seeds.base(rnd, len);
            CheriConcentrate.setBoundsLength(0L, base, len, parent);
            final BigInteger pBase = u(parent.base());
            final BigInteger pTop = top65(parent.top(), parent.topHigh());
            final BigInteger pLen = pTop.subtract(pBase);
            // A sub-range [cBase, cBase + cLen) of the parent's decoded bounds.
            final BigInteger cLen = upTo(rnd, pLen);
            final BigInteger cBase = pBase.add(upTo(rnd, pLen.subtract(cLen)));
            if (cBase.equals(TWO_64))
            {
                continue; // an empty range at 2^64 has no 64-bit address
            }
            final long cb = cBase.longValue();
            final long cl = cLen.longValue();
            if (cLen.equals(TWO_64))
            {
                continue; // only representable as a top, not as a CSetBounds length
            }
            CheriConcentrate.setBoundsLength(parent.metadata(), cb, cl, child);
            final BigInteger cTop = top65(child.top(), child.topHigh());
            final Supplier<String> what = () -> "parent " + parent + " child request [" + cBase.toString(16)
                    + ", +" + cLen.toString(16) + ") -> " + child;
            assertTrue(u(child.base()).compareTo(pBase) >= 0, Seeds.message(seed, info, what));
            assertTrue(cTop.compareTo(pTop) <= 0, Seeds.message(seed, info, what));
        }
    }

    @Test
    void representableWindowKeepsBoundsAndFarAddressesDoNot(final TestInfo info)
    {
        final long seed = Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        final CheriConcentrate.BoundsEncoding enc = new CheriConcentrate.BoundsEncoding();
        for (int i = 0; i < 100_000; i++)
        {
            final long len = Seeds.length(rnd);
            final long base = Seeds.base(rnd, len);
            CheriConcentrate.setBoundsLength(0L, base, len, enc);
            final long meta = enc.metadata();
            final int e = Math.min(CheriConcentrate.exponent(meta), CheriConcentrate.MAX_EXPONENT);
            final long b = enc.base();
            final long t = enc.top();
            if (e >= 50)
            {
                final long a = rnd.nextLong();
                assertTrue(CheriConcentrate.isRepresentable(meta, base, a),
                        Seeds.message(seed, info, () -> "E>=50 must represent all: " + enc + " at " + hex(a)));
                continue;
            }
            final long s = 1L << (e + 14);
            // Near: [b - s/8, t + s/4), computed modulo 2^64 as the hardware does.
            final long below = s >>> 3;
            final long above = s >>> 2;
            final long span = (t - b) + below + above; // < s <= 2^63, so no wrap in the span itself
            final long near = b - below + (span == 0 ? 0 : Long.remainderUnsigned(rnd.nextLong(), span));
            final Supplier<String> whatNear = () -> enc + " E " + e + " near address " + hex(near);
            assertTrue(CheriConcentrate.isRepresentable(meta, base, near), Seeds.message(seed, info, whatNear));
            assertEquals(b, CheriConcentrate.decodeBase(meta, near), Seeds.message(seed, info, whatNear));
            // Far: at least s away from the base in both directions (the window is only s wide).
            final long room = -2 * s; // 2^64 - 2s, the number of far addresses
            final long far = b + s + Long.remainderUnsigned(rnd.nextLong(), room + 1);
            assertFalse(CheriConcentrate.isRepresentable(meta, base, far),
                    Seeds.message(seed, info, () -> enc + " E " + e + " far address " + hex(far)));
        }
    }

    @Test
    void decodeAgreesWithReference(final TestInfo info)
    {
        final long seed = Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++)
        {
            final long meta;
            switch (rnd.nextInt(3))
            {
                case 0 -> meta = rnd.nextLong();
                case 1 ->
                {
                    // A plausible exponent, random mantissas.
                    final int e = rnd.nextInt(0, 56);
                    final long ebt = (1L << 26) | (rnd.nextLong() & 0x3FE3FF8L) | ((e >>> 3) << 14) | (e & 7);
                    meta = (rnd.nextLong() & ~((1L << 27) - 1)) | (ebt ^ (ReferenceConcentrate.NULL_MASK & ((1L << 27) - 1)));
                }
                default ->
                {
                    final long len = Seeds.length(rnd);
                    meta = CheriConcentrate.setBoundsLength(rnd.nextLong(), Seeds.base(rnd, len), len,
                            new CheriConcentrate.BoundsEncoding()).metadata();
                }
            }
            final long a = switch (rnd.nextInt(3))
            {
                case 0 -> rnd.nextLong();
                case 1 -> CheriConcentrate.decodeBase(meta, rnd.nextLong()) + rnd.nextLong(-70_000, 70_000);
                default -> CheriConcentrate.decodeTop(meta, rnd.nextLong()) + (rnd.nextLong() >> rnd.nextInt(64));
            };
            final ReferenceConcentrate.Bounds ref = ReferenceConcentrate.decode(meta, a);
            final Supplier<String> what = () -> "meta " + hex(meta) + " addr " + hex(a) + " ref base "
                    + ref.base().toString(16) + " top " + ref.top().toString(16);
            assertEquals(ref.base().longValue(), CheriConcentrate.decodeBase(meta, a), Seeds.message(seed, info, what));
            assertEquals(ref.topLow(), CheriConcentrate.decodeTop(meta, a), Seeds.message(seed, info, what));
            assertEquals(ref.topHigh(), CheriConcentrate.decodeTopHigh(meta, a), Seeds.message(seed, info, what));
        }
    }

    @Test
    void setBoundsAgreesWithReference(final TestInfo info)
    {
        final long seed = Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        final CheriConcentrate.BoundsEncoding enc = new CheriConcentrate.BoundsEncoding();
        for (int i = 0; i < 200_000; i++)
        {
            final long meta = rnd.nextLong();
            final long base;
            final long topLow;
            final boolean topHigh;
            if (rnd.nextInt(10) == 0)
            {
                // Arbitrary 65-bit pairs, including top < base and top > 2^64: still well defined.
                base = rnd.nextLong();
                topLow = rnd.nextLong();
                topHigh = rnd.nextBoolean();
            }
            else
            {
                final long len = Seeds.length(rnd);
                base = Seeds.base(rnd, len);
                topLow = base + len;
                topHigh = Long.compareUnsigned(topLow, base) < 0;
            }
            CheriConcentrate.setBounds(meta, base, topLow, topHigh, enc);
            final ReferenceConcentrate.Encoding ref = ReferenceConcentrate.setBounds(u(base), top65(topLow, topHigh));
            final long refMeta = ReferenceConcentrate.withBounds(meta, ref);
            final Supplier<String> what = () -> "meta " + hex(meta) + " base " + hex(base) + " top "
                    + top65(topLow, topHigh).toString(16) + " ref " + ref + " got " + enc;
            assertEquals(refMeta, enc.metadata(), Seeds.message(seed, info, what));
            assertEquals(ref.exact(), enc.exact(), Seeds.message(seed, info, what));
            final ReferenceConcentrate.Bounds decoded = ReferenceConcentrate.decode(refMeta, base);
            assertEquals(decoded.base().longValue(), enc.base(), Seeds.message(seed, info, what));
            assertEquals(decoded.topLow(), enc.top(), Seeds.message(seed, info, what));
            assertEquals(decoded.topHigh(), enc.topHigh(), Seeds.message(seed, info, what));
        }
    }

    @Test
    void permAndTypeChangesTouchOnlyTheirFields(final TestInfo info)
    {
        final long seed = Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 50_000; i++)
        {
            final long meta = rnd.nextLong();
            final int perms = rnd.nextInt() & Permissions.ALL;
            final int otype = rnd.nextInt(ObjectType.RESERVED_4, ObjectType.MAX_USER + 1);
            final long a = rnd.nextLong();
            final long m2 = CheriConcentrate.withObjectType(CheriConcentrate.withPermissions(meta, perms), otype);
            final Supplier<String> what = () -> "meta " + hex(meta) + " perms " + perms + " otype " + otype;
            assertEquals(perms, CheriConcentrate.permissions(m2), Seeds.message(seed, info, what));
            assertEquals(otype, CheriConcentrate.objectType(m2), Seeds.message(seed, info, what));
            final long untouched = ~((0xFFFFL << 48) | (0x3FFFFL << 27));
            assertEquals(meta & untouched, m2 & untouched, Seeds.message(seed, info, what));
            assertEquals(CheriConcentrate.decodeBase(meta, a), CheriConcentrate.decodeBase(m2, a), Seeds.message(seed, info, what));
            assertEquals(CheriConcentrate.decodeTop(meta, a), CheriConcentrate.decodeTop(m2, a), Seeds.message(seed, info, what));
            assertEquals(CheriConcentrate.flags(meta), CheriConcentrate.flags(m2), Seeds.message(seed, info, what));
            assertEquals(CheriConcentrate.reserved(meta), CheriConcentrate.reserved(m2), Seeds.message(seed, info, what));
        }
    }
}
