package dev.ufork.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

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
 * exactly the words its own range cuts into (and the chunk words below, see next), so every non-zero word on that
 * way is the same live area's.
 * <p>
 * <b>Chunk words filled on first use.</b> So that the confined store reads one word in every area, the owner's
 * first store into a chunk of an area recorded in the coarser levels copies the owner into the chunk word, and
 * marks the chunk's 16 MiB block as holding such copies (a bit per block). Whoever changes the block's (or its
 * 4 GiB block's) owner zeroes the chunk words of the marked blocks first, so the cost of confining and releasing
 * follows the blocks the owner used, not the area's size.
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

    // Words are always 8-byte aligned, but read and written through the unaligned layout: the aligned one adds an
    // alignment check (a branch and a deoptimization point) to every access, which the store and capability-load
    // paths must not carry. An aligned 8-byte access is one instruction either way. Atomic updates need the aligned
    // layout.
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final VarHandle ATOMIC_WORD = ValueLayout.JAVA_LONG.varHandle();
    /** Chunk words per 16 MiB block. */
    private static final long CHUNKS_PER_BLOCK = 1L << (BLOCK_SHIFT - CHUNK_SHIFT);

    private final MemorySegment chunks;
    private final MemorySegment blocks;
    private final MemorySegment supers;
    /** A bit per 16 MiB block: some of its chunk words were filled on first use. */
    private final MemorySegment filled;

    /** @param owners a zeroed range of {@link #bytesFor(long)} bytes. */
    AreaOwnership(final MemorySegment owners, final long spaceSize)
    {
        final long chunkBytes = levelBytes(spaceSize, CHUNK_SHIFT);
        final long blockBytes = levelBytes(spaceSize, BLOCK_SHIFT);
        this.chunks = owners.asSlice(0, chunkBytes);
        this.blocks = owners.asSlice(chunkBytes, blockBytes);
        final long superBytes = levelBytes(spaceSize, SUPER_SHIFT);
        this.supers = owners.asSlice(chunkBytes + blockBytes, superBytes);
        this.filled = owners.asSlice(chunkBytes + blockBytes + superBytes, levelBytes(spaceSize, BLOCK_SHIFT + 6));
    }

    static long bytesFor(final long spaceSize)
    {
        return levelBytes(spaceSize, CHUNK_SHIFT) + levelBytes(spaceSize, BLOCK_SHIFT)
            + levelBytes(spaceSize, SUPER_SHIFT) + levelBytes(spaceSize, BLOCK_SHIFT + 6);
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
     * with the same range and {@link #SHARED}. Writes at most about a thousand words, plus 256 per 16 MiB block in
     * which the previous owner stored.
     */
    void assign(final long base, final long size, final long owner)
    {
        final long end = base + size;
        // The 16 MiB blocks the range covers whole are the ones recorded in the coarser levels.
        clearFilledChunks((base + (1L << BLOCK_SHIFT) - 1) >>> BLOCK_SHIFT, end >>> BLOCK_SHIFT);
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
     * Zeroes the chunk words filled on first use in the blocks {@code [first, end)}, all of one area, and forgets
     * that they were: one read per 64 blocks, and 256 words per marked block.
     */
    private void clearFilledChunks(final long first, final long end)
    {
        long block = first;
        while (block < end)
        {
            final long stop = Math.min(end, (block | 63) + 1);
            final long offset = (block >>> 6) << 3;
            // Bits [block, stop) of this word: stop - block of them, from bit (block & 63).
            final long mask = (stop - block == 64 ? -1L : (1L << (stop - block)) - 1) << block;
            long marked = filled.get(WORD, offset) & mask;
            if (marked != 0)
            {
                ATOMIC_WORD.getAndBitwiseAnd(filled, offset, ~marked);
                while (marked != 0)
                {
                    final long at = (block & -64L) + Long.numberOfTrailingZeros(marked);
                    chunks.asSlice((at * CHUNKS_PER_BLOCK) << 3, CHUNKS_PER_BLOCK << 3).fill((byte)0);
                    marked &= marked - 1;
                }
            }
            block = stop;
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
     * The confined store's check: one load and a compare (after the owner's first store into the chunk).
     *
     * @param address an address.
     * @return whether the current thread owns its chunk.
     */
    boolean ownedByCurrentThread(final long address)
    {
        final long offset = (address >>> CHUNK_SHIFT) << 3;
        final long owner = chunks.get(WORD, offset);
        final long current = Thread.currentThread().threadId();
        return owner == current || owner == SHARED && claimChunk(address, offset, current);
    }

    /**
     * The owner's first store into a chunk of an area recorded in the coarser levels: copies the owner into the
     * chunk word, so that later stores read one word, after marking the block so that a change of owner clears it.
     *
     * @return whether the current thread owns the chunk.
     */
    private boolean claimChunk(final long address, final long offset, final long current)
    {
        if (coarseOwnerOf(address) != current)
        {
            return false;
        }
        final long block = address >>> BLOCK_SHIFT;
        final long filledOffset = (block >>> 6) << 3;
        if ((filled.get(WORD, filledOffset) & (1L << block)) == 0)
        {
            ATOMIC_WORD.getAndBitwiseOr(filled, filledOffset, 1L << block);
        }
        chunks.set(WORD, offset, current);
        return true;
    }

    static WrongThreadException wrongThread(final long address, final long owner)
    {
        return new WrongThreadException("address 0x" + Long.toHexString(address) + " is in an area confined to thread "
            + owner + ", not to the current thread " + Thread.currentThread().threadId());
    }
}
