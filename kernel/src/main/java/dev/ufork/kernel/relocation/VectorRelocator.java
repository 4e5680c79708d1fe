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

import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static dev.ufork.memory.Geometry.TAG_WORDS_PER_PAGE;

/**
 * The dense vector relocator ({@code jdk.incubator.vector}, {@link LongVector}s of the platform's preferred width:
 * two granules per 256-bit vector with AVX2, four per 512-bit one with AVX-512; see {@link #WIDTH_PROPERTY}). For each
 * vector-sized block of a page it loads the block and builds a lane mask: tagged (from the tag word), and a
 * lane-wise fast test (address in the area and far enough from its ends, exponent small enough, see
 * {@link #relocatePage}). It adds the delta under that mask and stores the whole block back: masked stores are slow
 * on AVX2 (machine-baselines §3c), and rewriting unchanged bytes of pages the caller holds exclusively is harmless.
 * The inner loop has no call and no branch that depends on the data: tagged lanes that fail the vector test are only
 * noted in a bit set, and after each 32 granules they go through the shared scalar per-granule path (full fast test,
 * then the decode/clamp/re-encode slow path), so the result is bit-identical to {@link ScalarRelocator}'s.
 * <p>
 * It reads every byte of a page with any tag, so it only wins where tags are dense; {@link AdaptiveRelocator} picks
 * between this and {@link ScalarRelocator} per page. Tag words that are zero (1 KiB) are skipped.
 * <p>
 * Needs {@code --add-modules jdk.incubator.vector} at run time. Thread safety: stateless; see the {@link Relocator}
 * precondition.
 */
public final class VectorRelocator implements Relocator
{
    /**
     * System property that sets the vector width in bits (128, 256 or 512), for measuring and testing one width on a
     * machine whose preferred width is another; by default the platform's preferred width (256 with AVX2, 512 with
     * AVX-512), at least 128.
     */
    public static final String WIDTH_PROPERTY = "ufork.relocation.vectorBits";
    private static final VectorSpecies<Long> SPECIES = species(System.getProperty(WIDTH_PROPERTY));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int LANES = SPECIES.length();
    /** Granules per vector: lanes {address0, metadata0, address1, metadata1, ...}. */
    private static final int GRANULES_PER_VECTOR = LANES / 2;
    private static final long VECTOR_BYTES = (long)LANES * Long.BYTES;
    /** Half a tag word: 32 granules, whose 64 lanes' bits fit one long. */
    private static final int HALF_GRANULES = 32;
    private static final long HALF_BYTES = HALF_GRANULES * GRANULE_SIZE;
    private static final int VECTORS_PER_HALF = (int)(HALF_BYTES / VECTOR_BYTES);
    /** Brings each granule's metadata word into its address lane. */
    private static final VectorShuffle<Long> SWAP = VectorShuffle.fromOp(SPECIES, i -> i ^ 1);
    /** Spreads a half's 32 tag bits to the address lanes: granule i's bit goes to lane bit 2i. */
    private static final long ADDRESS_LANES = 0x5555_5555_5555_5555L;
    /** Exponent bits of the in-memory metadata word: E[5:3] in T[2:0] (bits 14..16), E[2:0] in B[2:0] (bits 0..2). */
    private static final long EXPONENT_BITS = 0x1C007L;
    private static final long EXPONENT_TEST_MASK = EXPONENT_BITS | RelocationCore.IE_BIT;
    /** Turns the in-memory bits under {@link #EXPONENT_TEST_MASK} into the architectural ones. */
    private static final long EXPONENT_TEST_XOR = CheriConcentrate.NULL_XOR_MASK & EXPONENT_TEST_MASK;
    /** The largest exponent the vector test accepts: E[5:3] must be zero, so E[2:0] alone is compared. */
    private static final int MAX_VECTOR_EXPONENT = 7;

    /** Creates the relocator; it holds no state, so one instance may serve every fork. */
    public VectorRelocator()
    {
    }

    /** @return the width of the vectors this relocator uses, in bits: 128, 256 or 512. */
    public static int bits()
    {
        return SPECIES.vectorBitSize();
    }

    private static VectorSpecies<Long> species(final String bits)
    {
        if (bits == null || bits.isBlank())
        {
            return LongVector.SPECIES_PREFERRED.length() >= 2 ? LongVector.SPECIES_PREFERRED : LongVector.SPECIES_128;
        }
        return switch (bits.strip())
        {
            case "128" -> LongVector.SPECIES_128;
            case "256" -> LongVector.SPECIES_256;
            case "512" -> LongVector.SPECIES_512;
            default -> throw new IllegalArgumentException(WIDTH_PROPERTY + " must be 128, 256 or 512: " + bits);
        };
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
        // No scratch: a page copy should allocate nothing, and the slow path that needs one is rare.
        return relocatePage(data, tags, srcPage, dstPage, window, null);
    }

    /**
     * The largest exponent {@code K} the vector test accepts for this window, or -1 if it accepts none. The test asks
     * for an address at least {@code 2^(K+14)} from both ends of the area, which makes it a subset of
     * {@code RelocationCore#isFast} for every exponent up to {@code K}; so {@code K} is kept to at most the window's
     * fast exponent limit, to 7, and low enough that this margin is at most 1/32 of the area (0 in areas below
     * 512 KiB).
     */
    static int vectorExponent(final RelocationWindow window)
    {
        final int eLimit = window.fastExponentLimit();
        if (eLimit < 0)
        {
            return -1;
        }
        final int sizeLog = 63 - Long.numberOfLeadingZeros(window.size());
        return Math.max(0, Math.min(Math.min(eLimit, MAX_VECTOR_EXPONENT),
            sizeLog - RelocationWindow.MANTISSA_WIDTH - 5));
    }

    /**
     * Relocates one page from {@code srcPage} into {@code dstPage} (the same page for in-place relocation). With
     * distinct pages every byte is copied, and the destination's tag words must already equal the source's.
     * <p>
     * The lane-wise fast test, for {@code K = vectorExponent(window)} and margin {@code M = 2^(K+14)}: the granule
     * is tagged, its address lies in {@code [fromBase + M, fromTop - M]} (one subtract and one signed compare, the
     * bias folding the unsigned range test into it), and its exponent is at most {@code K}: IE clear (exponent 0), or
     * E[5:3] zero and E[2:0] at most K, which is one masked compare of the metadata word swapped into the address
     * lane (with IE under the mask, a set IE adds 2^26 and a clear one leaves less than 2^17). Every lane that
     * passes also passes {@code RelocationCore#isFast}, whose result is then "add the delta to the address word";
     * tagged lanes that fail it (larger exponents, near the ends, outside the area) take the scalar per-granule
     * path, which applies the full test and, failing that, the slow path.
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
        final int k = vectorExponent(window);
        final long margin = 1L << (Math.max(k, 0) + RelocationWindow.MANTISSA_WIDTH);
        // y = address - (fromBase + M) + 2^63 is below MIN + (size - 2M) + 1 exactly when M <= offset <= size - M;
        // with no exponent allowed, or an area too small for the margin, no lane passes.
        final long span = size - 2 * margin;
        final LongVector bias = LongVector.broadcast(SPECIES, fromBase + margin + Long.MIN_VALUE);
        final LongVector limit = LongVector.broadcast(SPECIES,
            k < 0 || span < 0 ? Long.MIN_VALUE : Long.MIN_VALUE + span + 1);
        final LongVector exponentLimit = LongVector.broadcast(SPECIES, RelocationCore.IE_BIT + Math.max(k, 0) + 1);
        final LongVector deltas = LongVector.broadcast(SPECIES, delta);
        final long firstWord = RelocationCore.firstTagWord(srcPage);
        final boolean copying = srcPage != dstPage;
        // Page-sized views: with a constant size and offsets bounded by the loops, C2 drops the bounds checks.
        final MemorySegment src = data.asSlice(srcPage, PAGE_SIZE);
        final MemorySegment dst = copying ? data.asSlice(dstPage, PAGE_SIZE) : src;
        long count = 0;
        for (int half = 0; half < 2 * TAG_WORDS_PER_PAGE; half++)
        {
            final long halfBits = (tags.tagWord(firstWord + (half >>> 1)) >>> ((half & 1) * HALF_GRANULES))
                & 0xFFFF_FFFFL;
            final long halfOffset = half * HALF_BYTES;
            if (halfBits == 0)
            {
                if (copying)
                {
                    MemorySegment.copy(data, srcPage + halfOffset, data, dstPage + halfOffset, HALF_BYTES);
                }
                continue;
            }
            // Lane bit (LANES * v + lane) is lane `lane` of vector v; tagged lanes are the address lanes of tagged
            // granules. No vector is carried from one iteration to the next: C2 would box it.
            final long taggedLanes = Long.expand(halfBits, ADDRESS_LANES);
            long passing = 0;
            for (int v = 0; v < VECTORS_PER_HALF; v++)
            {
                final long offset = halfOffset + v * VECTOR_BYTES;
                final LongVector words = LongVector.fromMemorySegment(SPECIES, src, offset, ORDER);
                final VectorMask<Long> inRange = words.sub(bias).compare(VectorOperators.LT, limit);
                final VectorMask<Long> smallExponent = words.rearrange(SWAP).lanewise(VectorOperators.XOR,
                    EXPONENT_TEST_XOR).and(EXPONENT_TEST_MASK).compare(VectorOperators.LT, exponentLimit);
                final VectorMask<Long> passes = inRange.and(smallExponent);
                final VectorMask<Long> tagged = VectorMask.fromLong(SPECIES, taggedLanes >>> (v * LANES));
                words.add(deltas, tagged.and(passes)).intoMemorySegment(dst, offset, ORDER);
                passing |= passes.toLong() << (v * LANES);
            }
            long others = taggedLanes & ~passing;
            count += Long.bitCount(halfBits) - Long.bitCount(others);
            // Lane bit b is the address word at byte offset 8 * b of the half.
            final long halfAddress = dstPage + halfOffset;
            while (others != 0)
            {
                final long granule = halfAddress + ((long)Long.numberOfTrailingZeros(others) << 3);
                others &= others - 1;
                count += RelocationCore.relocateGranule(data, tags, granule, fromBase, size, delta, eLimit, window,
                    scratch);
            }
        }
        return count;
    }

    @Override
    public String toString()
    {
        return "VectorRelocator[" + SPECIES + "]";
    }
}
