package dev.ufork.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Which thread, if any, has an area of the space to itself. Zero means shared; otherwise the owner's
 * {@link Thread#threadId()}.
 * <p>
 * Why: a store into shared memory must take a page lock so that it cannot interleave with another thread's
 * capability store (see {@link PageLocks}). A µprocess usually has one thread, and its area is touched by no other;
 * confining the area to that thread ({@link Area#confineTo(Thread)}) lets its stores skip the lock, while any other
 * thread that tries to store into it, or to load a capability from it, gets a {@link WrongThreadException}, as with
 * a confined FFM arena. Data loads stay open to all threads: bytes are not secret.
 * <p>
 * <b>Three levels</b>, so that confining an area costs a bounded number of words whatever its size: an owner word
 * per 64 KiB chunk, per 16 MiB block and per 4 GiB block, each level in its own {@code MAP_NORESERVE} range. An
 * area's range is cut into the largest aligned blocks that it covers whole (a 1 GiB area aligned to its size is 64
 * block words, a 64 GiB one 16) and chunks at its unaligned ends, at most 2 × 255 words per finer level; an address's
 * owner is the first non-zero word on its way from chunk to 4 GiB block. Areas never overlap and each sets and clears
 * exactly the words its own range cuts into, so at most one word on that way belongs to a live area. A store into an
 * area smaller than 16 MiB (and every area's ends) finds its owner in the chunk word, as before; one into a larger
 * area reads one or two more words, on the same few cache lines for the whole area.
 * <p>
 * Thread safety: owner words are read with plain loads. Changing an area's owner requires that no thread other
 * than the caller is accessing the area (e.g. before the µprocess starts or after it stopped).
 */
final class AreaOwnership
{
    /** log2 of the chunk size: the finest unit of ownership, 64 KiB. */
    static final int CHUNK_SHIFT = 16;
    /** Bytes per ownership chunk. */
    static final long CHUNK_SIZE = 1L << CHUNK_SHIFT;
    /** log2 of the middle level's block: 16 MiB. */
    static final int BLOCK_SHIFT = 24;
    /** log2 of the top level's block: 4 GiB. */
    static final int SUPER_SHIFT = 32;
    /** The owner word of a shared chunk. */
    static final long SHARED = 0;

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG;

    private final MemorySegment chunks;
    private final MemorySegment blocks;
    private final MemorySegment supers;

    /** @param owners a zeroed range of {@link #bytesFor(long)} bytes. */
    AreaOwnership(final MemorySegment owners, final long spaceSize)
    {
        final long chunkBytes = levelBytes(spaceSize, CHUNK_SHIFT);
        final long blockBytes = levelBytes(spaceSize, BLOCK_SHIFT);
        this.chunks = owners.asSlice(0, chunkBytes);
        this.blocks = owners.asSlice(chunkBytes, blockBytes);
        this.supers = owners.asSlice(chunkBytes + blockBytes, levelBytes(spaceSize, SUPER_SHIFT));
    }

    static long bytesFor(final long spaceSize)
    {
        return levelBytes(spaceSize, CHUNK_SHIFT) + levelBytes(spaceSize, BLOCK_SHIFT)
            + levelBytes(spaceSize, SUPER_SHIFT);
    }

    private static long levelBytes(final long spaceSize, final int shift)
    {
        return Geometry.alignUp(Geometry.alignUp(spaceSize, 1L << shift) >>> (shift - 3), Geometry.PAGE_SIZE);
    }

    long ownerOf(final long address)
    {
        final long owner = chunks.get(WORD, (address >>> CHUNK_SHIFT) << 3);
        return owner != SHARED ? owner : coarseOwnerOf(address);
    }

    /** The owner recorded for the 16 MiB or 4 GiB block holding {@code address} (areas of 16 MiB and more). */
    private long coarseOwnerOf(final long address)
    {
        final long owner = blocks.get(WORD, (address >>> BLOCK_SHIFT) << 3);
        return owner != SHARED ? owner : supers.get(WORD, (address >>> SUPER_SHIFT) << 3);
    }

    /**
     * Sets the owner of every address in {@code [base, base + size)}, both multiples of {@link #CHUNK_SIZE}; undo
     * with the same range and {@link #SHARED}. Writes at most about a thousand words, whatever the size.
     */
    void assign(final long base, final long size, final long owner)
    {
        final long end = base + size;
        long at = base;
        while (at < end)
        {
            if ((at & ((1L << SUPER_SHIFT) - 1)) == 0 && end - at >= 1L << SUPER_SHIFT)
            {
                supers.set(WORD, (at >>> SUPER_SHIFT) << 3, owner);
                at += 1L << SUPER_SHIFT;
            }
            else if ((at & ((1L << BLOCK_SHIFT) - 1)) == 0 && end - at >= 1L << BLOCK_SHIFT)
            {
                blocks.set(WORD, (at >>> BLOCK_SHIFT) << 3, owner);
                at += 1L << BLOCK_SHIFT;
            }
            else
            {
                chunks.set(WORD, (at >>> CHUNK_SHIFT) << 3, owner);
                at += CHUNK_SIZE;
            }
        }
    }

    /**
     * @param address an address whose chunk the current thread wants to store into.
     * @return {@code true} if the chunk is shared (the store must lock), {@code false} if the current thread owns it.
     * @throws WrongThreadException if another thread owns it.
     */
    boolean mustLock(final long address)
    {
        final long owner = ownerOf(address);
        if (owner == SHARED)
        {
            return true;
        }
        if (owner != Thread.currentThread().threadId())
        {
            throw wrongThread(address, owner);
        }
        return false;
    }

    /**
     * The confined store's check: one load and a compare for areas under 16 MiB.
     *
     * @param address an address.
     * @return whether the current thread owns its chunk.
     */
    boolean ownedByCurrentThread(final long address)
    {
        final long owner = chunks.get(WORD, (address >>> CHUNK_SHIFT) << 3);
        final long current = Thread.currentThread().threadId();
        return owner == current || owner == SHARED && coarseOwnerOf(address) == current;
    }

    static WrongThreadException wrongThread(final long address, final long owner)
    {
        return new WrongThreadException("address 0x" + Long.toHexString(address) + " is in an area confined to thread "
            + owner + ", not to the current thread " + Thread.currentThread().threadId());
    }
}
