package dev.ufork.memory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A contiguous, aligned range of the address space owned by one µprocess or by the kernel: {@code [base, base +
 * size)}, page-aligned, from {@link AddressSpace#allocate}. It stays valid until {@link AddressSpace#free(Area)}.
 * <p>
 * Thread safety: the range is immutable; {@link #isLive()} and the reported usage are safe to read from any thread.
 */
public final class Area
{
    private final AddressSpace space;
    private final long base;
    private final long size;
    private final long residentAtAllocation;
    private final AtomicBoolean live = new AtomicBoolean(true);
    private volatile long usedBytes;

    Area(final AddressSpace space, final long base, final long size, final long residentAtAllocation)
    {
        this.space = space;
        this.base = base;
        this.size = size;
        this.residentAtAllocation = residentAtAllocation;
    }

    /** @return the first address of the area. */
    public long base()
    {
        return base;
    }

    /** @return the size of the area in bytes, a multiple of the page size. */
    public long size()
    {
        return size;
    }

    /** @return one past the last address of the area. */
    public long top()
    {
        return base + size;
    }

    /**
     * @param address an address.
     * @return whether it lies in the area.
     */
    public boolean contains(final long address)
    {
        return address >= base && address < base + size;
    }

    /** @return whether the area has not been freed. */
    public boolean isLive()
    {
        return live.get();
    }

    /** @return the space that owns the area. */
    public AddressSpace space()
    {
        return space;
    }

    /**
     * Records how many bytes of the area its owner is using (e.g. a µprocess's heap top), for accounting.
     *
     * @param bytes bytes in use, between 0 and {@link #size()}.
     */
    public void reportUsed(final long bytes)
    {
        if (bytes < 0 || bytes > size)
        {
            throw new IllegalArgumentException("used bytes " + bytes + " outside [0, " + size + "]");
        }
        usedBytes = bytes;
    }

    /**
     * @return reserved (the size), committed (resident pages, measured now) and used bytes of this area.
     */
    public MemoryUsage usage()
    {
        return new MemoryUsage(size, space.residentBytes(base, size), usedBytes);
    }

    /**
     * Confines the area to one thread: from now on only {@code owner} may store into it or load capabilities from
     * it, and its stores skip the page locks; any other thread that tries gets a {@link WrongThreadException}.
     * Data loads stay open to every thread.
     * <p>
     * Call it only while no other thread is accessing the area (e.g. before its µprocess starts). The area's base
     * and size must be multiples of 64 KiB, the granularity of ownership; allocate with that alignment.
     *
     * @param owner the thread that will have the area to itself.
     * @throws IllegalStateException if the area is freed or not 64 KiB-aligned and -sized.
     */
    public void confineTo(final Thread owner)
    {
        requireChunkAligned();
        space.ownership().assign(base, size, owner.threadId());
    }

    /**
     * Makes a confined area shared again: any thread may access it, and stores lock pages. Call it only while no
     * other thread is accessing the area.
     *
     * @throws IllegalStateException if the area is freed or not 64 KiB-aligned and -sized.
     */
    public void share()
    {
        requireChunkAligned();
        space.ownership().assign(base, size, AreaOwnership.SHARED);
    }

    /** @return the id ({@link Thread#threadId()}) of the thread the area is confined to, or 0 if it is shared. */
    public long ownerThreadId()
    {
        return space.ownership().ownerOf(base);
    }

    private void requireChunkAligned()
    {
        if (!live.get())
        {
            throw new IllegalStateException(this + " is freed");
        }
        if (((base | size) & (AreaOwnership.CHUNK_SIZE - 1)) != 0)
        {
            throw new IllegalStateException(this + " is not aligned and sized to 64 KiB, the unit of confinement");
        }
    }

    /**
     * @return at most how many bytes of the area were resident when it was allocated: 0 for fresh memory, what its
     *         warm extent counted for reused memory.
     */
    long residentAtAllocation()
    {
        return residentAtAllocation;
    }

    /** @return whether this call freed the area (false if it was already freed). */
    boolean kill()
    {
        return live.compareAndSet(true, false);
    }

    @Override
    public String toString()
    {
        return "Area[0x" + Long.toHexString(base) + ", 0x" + Long.toHexString(base + size) + ")"
            + (live.get() ? "" : " (freed)");
    }
}
