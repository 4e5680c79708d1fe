package dev.ufork.capability;

import dev.ufork.memory.TaggedMemory;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * A plain reference model of {@link CapabilityMemory} over one window of an address space: a {@code byte[]} for the
 * bytes, a {@code boolean[]} for the granule tags and, per tagged granule, the capability value stored there. The
 * rules of {@code /work/shared/docs/cheri.md} §2.1–2.4, §2.6, §3.1 and §5.5–5.6 are written out as directly as
 * possible, with no shared code and no cleverness: checks in ISAv9 priority order (TAG, SEAL, PERMIT_LOAD /
 * PERMIT_STORE, PERMIT_STORE_CAP, PERMIT_STORE_LOCAL_CAP, LENGTH, ALIGNMENT), bounds in 65-bit arithmetic, copies
 * as snapshot-then-write.
 * <p>
 * The model assumes that every tagged authority lies inside the window, so that any access it allows lands in the
 * window; an access outside the window is a bug in the test and throws {@link AssertionError}.
 * <p>
 * Not thread-safe: one test thread owns it.
 */
final class ModelMemory
{
    static final int GRANULE = 16;
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private final long base;
    private final byte[] bytes;
    private final boolean[] tags;
    private final Capability[] caps;

    /** What the model predicts a refused access reports. */
    record Fault(FaultCause cause, Capability authority, long address, long size)
    {
        @Override
        public String toString()
        {
            return cause + " fault, " + size + " bytes at 0x" + Long.toHexString(address) + " through " + authority;
        }
    }

    /**
     * @param windowBase first address of the window, granule-aligned.
     * @param windowSize bytes, a multiple of the granule.
     */
    ModelMemory(final long windowBase, final int windowSize)
    {
        if (windowBase % GRANULE != 0 || windowSize % GRANULE != 0 || windowSize <= 0)
        {
            throw new IllegalArgumentException("window must be granule-aligned");
        }
        this.base = windowBase;
        this.bytes = new byte[windowSize];
        this.tags = new boolean[windowSize / GRANULE];
        this.caps = new Capability[windowSize / GRANULE];
    }

    long windowEnd()
    {
        return base + bytes.length;
    }

    // ----------------------------------------------------------------------------------------------------------
    // The rules.

    static boolean has(final Capability c, final Permission p)
    {
        return (c.permissions() & p.mask()) != 0;
    }

    static boolean isGlobal(final Capability value)
    {
        return has(value, Permission.GLOBAL);
    }

    static BigInteger unsigned(final long v)
    {
        return new BigInteger(Long.toUnsignedString(v));
    }

    /** @return the 65-bit top. */
    static BigInteger top(final Capability c)
    {
        return unsigned(c.top()).add(c.isTopMax() ? TWO_64 : BigInteger.ZERO);
    }

    /** @return whether every byte of {@code [address, address + size)} lies in {@code [base, top)}, exactly. */
    static boolean inBounds(final Capability c, final long address, final long size)
    {
        final BigInteger a = unsigned(address);
        return a.compareTo(unsigned(c.base())) >= 0 && a.add(BigInteger.valueOf(size)).compareTo(top(c)) <= 0;
    }

    /** The checks every dereference starts with: tag, then seal. */
    private static FaultCause tagAndSeal(final Capability c)
    {
        if (!c.isTagged())
        {
            return FaultCause.TAG;
        }
        if (c.isSealed())
        {
            return FaultCause.SEAL;
        }
        return null;
    }

    /** @return the fault a data load of {@code size} bytes at {@code c.address() + offset} takes, or null. */
    static Fault loadFault(final Capability c, final long offset, final long size)
    {
        return dataFault(c, offset, size, Permission.LOAD, FaultCause.PERMIT_LOAD);
    }

    /** @return the fault a data store of {@code size} bytes at {@code c.address() + offset} takes, or null. */
    static Fault storeFault(final Capability c, final long offset, final long size)
    {
        return dataFault(c, offset, size, Permission.STORE, FaultCause.PERMIT_STORE);
    }

    private static Fault dataFault(final Capability c, final long offset, final long size, final Permission needed,
        final FaultCause missing)
    {
        final long address = c.address() + offset;
        FaultCause cause = tagAndSeal(c);
        if (cause == null && !has(c, needed))
        {
            cause = missing;
        }
        if (cause == null && !inBounds(c, address, size))
        {
            cause = FaultCause.LENGTH;
        }
        return cause == null ? null : new Fault(cause, c, address, size);
    }

    /** @return the fault a capability load at {@code c.address() + offset} takes, or null. */
    static Fault capabilityLoadFault(final Capability c, final long offset)
    {
        final Fault data = loadFault(c, offset, GRANULE);
        if (data != null)
        {
            return data;
        }
        final long address = c.address() + offset;
        return address % GRANULE != 0 ? new Fault(FaultCause.ALIGNMENT, c, address, GRANULE) : null;
    }

    /** @return the fault storing {@code value} at {@code c.address() + offset} takes, or null. */
    static Fault capabilityStoreFault(final Capability c, final long offset, final Capability value)
    {
        final long address = c.address() + offset;
        FaultCause cause = tagAndSeal(c);
        if (cause == null && !has(c, Permission.STORE))
        {
            cause = FaultCause.PERMIT_STORE;
        }
        if (cause == null && value.isTagged() && !has(c, Permission.STORE_CAP))
        {
            cause = FaultCause.PERMIT_STORE_CAP;
        }
        if (cause == null && value.isTagged() && !isGlobal(value) && !has(c, Permission.STORE_LOCAL_CAP))
        {
            cause = FaultCause.PERMIT_STORE_LOCAL_CAP;
        }
        if (cause == null && !inBounds(c, address, GRANULE))
        {
            cause = FaultCause.LENGTH;
        }
        if (cause == null && address % GRANULE != 0)
        {
            cause = FaultCause.ALIGNMENT;
        }
        return cause == null ? null : new Fault(cause, c, address, GRANULE);
    }

    /** @return whether tags may move from {@code from} to {@code to} (§3.1: same alignment and LOAD_CAP). */
    static boolean tagsTravel(final Capability src, final long from, final long to)
    {
        return has(src, Permission.LOAD_CAP) && Math.floorMod(from - to, GRANULE) == 0;
    }

    /**
     * The fault of {@code copy(dst, dstOffset, src, srcOffset, length)}, or null. The source is checked first, as a
     * data load; then the destination as a data store, where a tag that would land needs STORE_CAP, and
     * STORE_LOCAL_CAP too if its capability lacks GLOBAL. Those two outrank LENGTH, as in {@link FaultCause}; the
     * landing fault names the destination granule the first offending tag would land in, and is 16 bytes.
     */
    Fault copyFault(final Capability dst, final long dstOffset, final Capability src, final long srcOffset,
        final long length)
    {
        final Fault source = loadFault(src, srcOffset, length);
        if (source != null)
        {
            return source;
        }
        final long from = src.address() + srcOffset;
        final long to = dst.address() + dstOffset;
        final FaultCause basic = tagAndSeal(dst);
        if (basic != null)
        {
            return new Fault(basic, dst, to, length);
        }
        if (!has(dst, Permission.STORE))
        {
            return new Fault(FaultCause.PERMIT_STORE, dst, to, length);
        }
        if (tagsTravel(src, from, to))
        {
            for (long g = alignUp(from); g + GRANULE <= from + length; g += GRANULE)
            {
                if (!tag(g))
                {
                    continue;
                }
                final long landing = to + (g - from);
                if (!has(dst, Permission.STORE_CAP))
                {
                    return new Fault(FaultCause.PERMIT_STORE_CAP, dst, landing, GRANULE);
                }
                if (!isGlobal(capability(g)) && !has(dst, Permission.STORE_LOCAL_CAP))
                {
                    return new Fault(FaultCause.PERMIT_STORE_LOCAL_CAP, dst, landing, GRANULE);
                }
            }
        }
        if (!inBounds(dst, to, length))
        {
            return new Fault(FaultCause.LENGTH, dst, to, length);
        }
        return null;
    }

    static long alignUp(final long address)
    {
        return Math.ceilDiv(address, GRANULE) * GRANULE;
    }

    // ----------------------------------------------------------------------------------------------------------
    // Effects of accesses that were allowed.

    private int index(final long address, final long length)
    {
        if (address < base || length < 0 || address + length > windowEnd())
        {
            throw new AssertionError("model: access of " + length + " bytes at 0x" + Long.toHexString(address)
                + " outside the window [0x" + Long.toHexString(base) + ", 0x" + Long.toHexString(windowEnd()) + ")");
        }
        return (int)(address - base);
    }

    private void clearTags(final int from, final int length)
    {
        if (length == 0)
        {
            return;
        }
        for (int g = from / GRANULE; g <= (from + length - 1) / GRANULE; g++)
        {
            tags[g] = false;
            caps[g] = null;
        }
    }

    /** A data store: the bytes land and every granule they overlap loses its tag. */
    void store(final long address, final byte[] data)
    {
        final int at = index(address, data.length);
        clearTags(at, data.length);
        System.arraycopy(data, 0, bytes, at, data.length);
    }

    void fill(final long address, final int length, final byte value)
    {
        final int at = index(address, length);
        clearTags(at, length);
        Arrays.fill(bytes, at, at + length, value);
    }

    /** A capability store: both words, little-endian, and the value's tag. */
    void storeCapability(final long address, final Capability value)
    {
        final int at = index(address, GRANULE);
        if (at % GRANULE != 0)
        {
            throw new AssertionError("model: misaligned capability store");
        }
        putLong(at, value.address());
        putLong(at + 8, value.metadataBits());
        tags[at / GRANULE] = value.isTagged();
        caps[at / GRANULE] = value.isTagged() ? value : null;
    }

    /**
     * memmove: read the whole source (bytes, tags), then write. A destination granule fully covered takes its
     * source granule's tag when {@code travel}; every other overlapped destination granule loses its tag.
     */
    void copy(final long from, final long to, final int length, final boolean travel)
    {
        final int src = index(from, length);
        final int dst = index(to, length);
        if (length == 0)
        {
            return;
        }
        final byte[] snapshotBytes = Arrays.copyOfRange(bytes, src, src + length);
        final boolean[] snapshotTags = tags.clone();
        final Capability[] snapshotCaps = caps.clone();
        System.arraycopy(snapshotBytes, 0, bytes, dst, length);
        for (int g = dst / GRANULE; g <= (dst + length - 1) / GRANULE; g++)
        {
            final int start = g * GRANULE;
            final boolean full = start >= dst && start + GRANULE <= dst + length;
            if (travel && full)
            {
                final int sg = (start - dst + src) / GRANULE;
                tags[g] = snapshotTags[sg];
                caps[g] = snapshotCaps[sg];
            }
            else
            {
                tags[g] = false;
                caps[g] = null;
            }
        }
    }

    private void putLong(final int at, final long v)
    {
        for (int i = 0; i < 8; i++)
        {
            bytes[at + i] = (byte)(v >>> (8 * i));
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Reads.

    byte[] read(final long address, final int length)
    {
        final int at = index(address, length);
        return Arrays.copyOfRange(bytes, at, at + length);
    }

    /** @return the little-endian value of {@code size} (1..8) bytes at {@code address}, zero-extended. */
    long readUnsigned(final long address, final int size)
    {
        final int at = index(address, size);
        long v = 0;
        for (int i = size - 1; i >= 0; i--)
        {
            v = (v << 8) | (bytes[at + i] & 0xFF);
        }
        return v;
    }

    boolean tag(final long address)
    {
        return tags[index(address, 1) / GRANULE];
    }

    /** @return the capability stored in the tagged granule holding {@code address}, else null. */
    Capability capability(final long address)
    {
        return caps[index(address, 1) / GRANULE];
    }

    /**
     * @param memory the real memory.
     * @param from   first address to compare (clipped to the window).
     * @param to     end of the range (clipped to the window).
     * @return a description of the first byte or granule tag that differs, or null if none does.
     */
    String firstDifference(final TaggedMemory memory, final long from, final long to)
    {
        final long lo = Math.max(from, base) & -GRANULE;
        final long hi = Math.min(to, windowEnd());
        if (lo >= hi)
        {
            return null;
        }
        final int length = (int)(hi - lo);
        final byte[] actual = new byte[length];
        memory.loadBytes(lo, actual, 0, length);
        final int at = (int)(lo - base);
        final int mismatch = Arrays.mismatch(actual, 0, length, bytes, at, at + length);
        if (mismatch >= 0)
        {
            return "byte at 0x" + Long.toHexString(lo + mismatch) + " is 0x"
                + Integer.toHexString(actual[mismatch] & 0xFF) + ", model says 0x"
                + Integer.toHexString(bytes[at + mismatch] & 0xFF);
        }
        for (long g = lo; g < hi; g += GRANULE)
        {
            final boolean want = tags[(int)(g - base) / GRANULE];
            if (memory.isTagged(g) != want)
            {
                return "tag of granule 0x" + Long.toHexString(g) + " is " + !want + ", model says " + want;
            }
        }
        return null;
    }

    /** @return a description of the first difference anywhere in the window, or null. */
    String firstDifference(final TaggedMemory memory)
    {
        return firstDifference(memory, base, windowEnd());
    }
}
