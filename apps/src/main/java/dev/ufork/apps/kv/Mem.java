package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

import java.util.Arrays;

/**
 * The store's view of µprocess memory: allocation, and the byte strings ("sds") everything else is built of. An sds
 * is one block, its length in the first 8 bytes and the bytes after:
 * <pre>
 *  +0  length   8 B
 *  +8  bytes    length B
 * </pre>
 * Thread safety: confined to the µprocess's thread.
 */
final class Mem
{
    /** Bytes before an sds's content. */
    static final int SDS_HEADER = 8;

    final CapabilityMemory memory;
    final KvHeap heap;
    /** The header of the entry slab that dicts share (see {@link EntrySlab}), or null until the first needs it. */
    private Capability sharedEntrySlab;

    Mem(final CapabilityMemory memory, final KvHeap heap)
    {
        this.memory = memory;
        this.heap = heap;
    }

    /** @return the header of the entry slab that dicts without one of their own share; made on first use. */
    Capability sharedEntrySlab()
    {
        if (sharedEntrySlab == null)
        {
            sharedEntrySlab = EntrySlab.create(this, false);
        }
        return sharedEntrySlab;
    }

    /** @return a zeroed block of {@code size} bytes. */
    Capability allocateZeroed(final long size)
    {
        final Capability block = heap.allocate(size);
        memory.fill(block, 0, size, (byte)0);
        return block;
    }

    /** @return a new sds holding {@code bytes[from, from + length)}. */
    Capability newSds(final byte[] bytes, final int from, final int length)
    {
        final Capability block = heap.allocate(SDS_HEADER + (long)length);
        memory.storeLong(block, 0, length);
        memory.storeBytes(block, SDS_HEADER, bytes, from, length);
        return block;
    }

    /** @return a new sds holding {@code bytes}. */
    Capability newSds(final byte[] bytes)
    {
        return newSds(bytes, 0, bytes.length);
    }

    /** @return the length of an sds. */
    long sdsLength(final Capability sds)
    {
        return memory.loadLong(sds, 0);
    }

    /** @return the bytes of an sds. */
    byte[] sds(final Capability sds)
    {
        final int length = (int)memory.loadLong(sds, 0);
        final byte[] bytes = new byte[length];
        memory.loadBytes(sds, SDS_HEADER, bytes, 0, length);
        return bytes;
    }

    /** @return bytes [from, from + length) of an sds's content. */
    byte[] sdsRange(final Capability sds, final long from, final int length)
    {
        final byte[] bytes = new byte[length];
        memory.loadBytes(sds, SDS_HEADER + from, bytes, 0, length);
        return bytes;
    }

    /** @return whether an sds holds exactly {@code bytes}, compared a word at a time. */
    boolean sdsEquals(final Capability sds, final byte[] bytes)
    {
        if (memory.loadLong(sds, 0) != bytes.length)
        {
            return false;
        }
        int i = 0;
        for (; i + 8 <= bytes.length; i += 8)
        {
            if (memory.loadLong(sds, SDS_HEADER + i) != littleEndianLong(bytes, i))
            {
                return false;
            }
        }
        for (; i < bytes.length; i++)
        {
            if (memory.loadByte(sds, SDS_HEADER + i) != bytes[i])
            {
                return false;
            }
        }
        return true;
    }

    /** @return the sign of comparing two sds contents as unsigned bytes (memcmp, then length). */
    int sdsCompare(final Capability a, final Capability b)
    {
        final byte[] x = sds(a);
        final byte[] y = sds(b);
        return Arrays.compareUnsigned(x, y);
    }

    static long littleEndianLong(final byte[] b, final int at)
    {
        return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24
            | (b[at + 4] & 0xFFL) << 32 | (b[at + 5] & 0xFFL) << 40 | (b[at + 6] & 0xFFL) << 48
            | (b[at + 7] & 0xFFL) << 56;
    }

    /**
     * A 64-bit hash of a byte string (FNV-1a over words, then a finalizer), stored in dict entries so that lookups
     * compare keys only when hashes match.
     */
    static long hash(final byte[] bytes)
    {
        long h = 0xcbf29ce484222325L ^ bytes.length;
        int i = 0;
        for (; i + 8 <= bytes.length; i += 8)
        {
            h = (h ^ littleEndianLong(bytes, i)) * 0x100000001b3L;
            h ^= h >>> 29;
        }
        for (; i < bytes.length; i++)
        {
            h = (h ^ (bytes[i] & 0xFF)) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
