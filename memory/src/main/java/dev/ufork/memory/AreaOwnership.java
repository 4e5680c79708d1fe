package dev.ufork.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Which thread, if any, has an area of the space to itself: one 8-byte owner word per 64 KiB chunk, in its own
 * {@code MAP_NORESERVE} reservation (1/8192 of the space). Zero means shared; otherwise the owner's
 * {@link Thread#threadId()}.
 * <p>
 * Why: a store into shared memory must take a page lock so that it cannot interleave with another thread's
 * capability store (see {@link PageLocks}). A µprocess usually has one thread, and its area is touched by no other;
 * confining the area to that thread ({@link Area#confineTo(Thread)}) lets its stores skip the lock, while any other
 * thread that tries to store into it, or to load a capability from it, gets a {@link WrongThreadException}, as with
 * a confined FFM arena. Data loads stay open to all threads: bytes are not secret.
 * <p>
 * Marking costs one word per 64 KiB (16 K words for a 1 GiB area), so confining an area is cheap even at fork.
 * <p>
 * Thread safety: owner words are read with plain loads. Changing an area's owner requires that no thread other
 * than the caller is accessing the area (e.g. before the µprocess starts or after it stopped).
 */
final class AreaOwnership
{
    /** log2 of the chunk size: ownership is tracked per 64 KiB. */
    static final int CHUNK_SHIFT = 16;
    /** Bytes per ownership chunk. */
    static final long CHUNK_SIZE = 1L << CHUNK_SHIFT;
    /** The owner word of a shared chunk. */
    static final long SHARED = 0;

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG;

    private final MemorySegment owners;

    AreaOwnership(final MemorySegment owners)
    {
        this.owners = owners;
    }

    static long bytesFor(final long spaceSize)
    {
        return Geometry.alignUp(Geometry.alignUp(spaceSize, CHUNK_SIZE) >>> (CHUNK_SHIFT - 3), Geometry.PAGE_SIZE);
    }

    long ownerOf(final long address)
    {
        return owners.get(WORD, (address >>> CHUNK_SHIFT) << 3);
    }

    void assign(final long base, final long size, final long owner)
    {
        for (long chunk = base >>> CHUNK_SHIFT; chunk < (base + size) >>> CHUNK_SHIFT; chunk++)
        {
            owners.set(WORD, chunk << 3, owner);
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
     * @param address an address.
     * @return whether the current thread owns its chunk.
     */
    boolean ownedByCurrentThread(final long address)
    {
        return ownerOf(address) == Thread.currentThread().threadId();
    }

    static WrongThreadException wrongThread(final long address, final long owner)
    {
        return new WrongThreadException("address 0x" + Long.toHexString(address) + " is in an area confined to thread "
            + owner + ", not to the current thread " + Thread.currentThread().threadId());
    }
}
