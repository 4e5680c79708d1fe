package dev.ufork.memory;

import dev.ufork.memory.os.NativeMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One reserved, flat address space: a single {@link MemorySegment} that holds the kernel's data and every
 * µprocess, with a tag bit per 16-byte granule on the side. Addresses are byte offsets into it.
 * <p>
 * The space is reserved with one {@code mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE)} and never
 * zero-filled by us: the kernel supplies zero pages on first touch, so a 64 GiB space costs nothing until used. The
 * tag bitmap (1/128 of the space) and the page summary (1/32768) are reserved the same way. {@link #close()} unmaps
 * all three; any later access throws {@link IllegalStateException} rather than touching unmapped memory.
 * <p>
 * Areas ({@link #allocate}) are contiguous, aligned ranges anywhere in the space, as many as fit; freeing one
 * clears its tags and either keeps its memory warm for reuse or gives it back to the OS (see
 * {@link AddressSpaceConfig#warmRetainBytes()}).
 * <p>
 * Thread safety: safe for concurrent use. Lifetime: until {@link #close()}; closing while other threads still
 * access the space makes their accesses fail with {@link IllegalStateException}.
 */
public final class AddressSpace implements AutoCloseable
{
    private final AddressSpaceConfig config;
    private final Arena arena;
    private final MemorySegment data;
    private final MemorySegment tagSegment;
    private final MemorySegment summarySegment;
    private final AreaOwnership ownership;
    private final TaggedMemory memory;
    private final AreaAllocator allocator;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AddressSpace(final AddressSpaceConfig config)
    {
        this.config = config;
        this.arena = Arena.ofShared();
        try
        {
            final long size = config.sizeBytes();
            this.data = NativeMemory.reserve(size, arena);
            this.tagSegment = NativeMemory.reserve(TagBitmap.tagBytesFor(size), arena);
            this.summarySegment = NativeMemory.reserve(TagBitmap.summaryBytesFor(size), arena);
            final TagBitmap tags = new TagBitmap(tagSegment, summarySegment, size);
            this.ownership = new AreaOwnership(NativeMemory.reserve(AreaOwnership.bytesFor(size), arena), size);
            this.memory = new TaggedMemory(data, tags, new PageLocks(config.lockStripes()), ownership);
            this.allocator = new AreaAllocator(this, config.guardBytes(), size, config.warmRetainBytes());
        }
        catch (final RuntimeException | Error e)
        {
            arena.close();
            throw e;
        }
    }

    /**
     * Reserves a space.
     *
     * @param config size and policies.
     * @return the new space; close it to give the reservation back.
     * @throws NativeMemoryException if the kernel refuses the reservation.
     */
    public static AddressSpace reserve(final AddressSpaceConfig config)
    {
        return new AddressSpace(config);
    }

    /**
     * Reserves a space of {@code sizeBytes} with default policies.
     *
     * @param sizeBytes bytes to reserve.
     * @return the new space.
     */
    public static AddressSpace reserve(final long sizeBytes)
    {
        return new AddressSpace(AddressSpaceConfig.ofSize(sizeBytes));
    }

    /** @return the configuration the space was built with. */
    public AddressSpaceConfig config()
    {
        return config;
    }

    /** @return bytes in the space. */
    public long size()
    {
        return data.byteSize();
    }

    /** @return the tagged memory of the whole space (unchecked; for the kernel and the capability layer). */
    public TaggedMemory memory()
    {
        return memory;
    }

    /**
     * Allocates a zeroed area aligned to a page.
     *
     * @param size bytes, rounded up to whole pages.
     * @return the area.
     * @throws AddressSpaceExhaustedException if no free range is large enough.
     */
    public Area allocate(final long size)
    {
        return allocate(size, Geometry.PAGE_SIZE, AreaInit.ZEROED);
    }

    /**
     * Allocates an area.
     *
     * @param size      bytes, rounded up to whole pages; at most the space's size.
     * @param alignment a power of two; the base is a multiple of it (and always of the page size).
     * @param init      what its bytes must hold; its tags are always clear.
     * @return the area.
     * @throws IllegalArgumentException       for a non-positive or oversized size or a bad alignment.
     * @throws AddressSpaceExhaustedException if no free range is large enough; nothing is allocated (warm memory of
     *                                        freed areas may have been given back to the OS in the attempt).
     */
    public Area allocate(final long size, final long alignment, final AreaInit init)
    {
        if (size <= 0 || size > size())
        {
            throw new IllegalArgumentException("area size " + size + " outside (0, " + size() + "]");
        }
        if (!Geometry.isPowerOfTwo(alignment))
        {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        if (init == null)
        {
            throw new NullPointerException("init");
        }
        ensureOpen();
        return allocator.allocate(Geometry.alignUp(size, Geometry.PAGE_SIZE),
            Math.max(alignment, Geometry.PAGE_SIZE), init);
    }

    /**
     * Frees an area: clears its tags, then keeps its memory warm for reuse or gives it back to the OS.
     *
     * @param area a live area of this space.
     * @throws InvalidAreaException if the area is already freed or belongs to another space; nothing changes.
     */
    public void free(final Area area)
    {
        ensureOpen();
        allocator.free(area, -1);
    }

    /**
     * Frees an area whose owner knows how much of it it can have made resident, so that accounting for a huge,
     * hardly written area need not measure it (see {@link AddressSpaceConfig#warmRetainBytes()}).
     *
     * @param area    a live area of this space.
     * @param written at least the bytes of pages written since the area was allocated (an over-estimate is safe,
     *                an under-estimate is not); the pages that were resident at allocation are added to it.
     * @throws InvalidAreaException if the area is already freed or belongs to another space; nothing changes.
     */
    public void free(final Area area, final long written)
    {
        if (written < 0)
        {
            throw new IllegalArgumentException("written bytes must not be negative: " + written);
        }
        ensureOpen();
        allocator.free(area, written);
    }

    /** Gives the memory of every freed-but-warm area back to the OS now. */
    public void trim()
    {
        ensureOpen();
        allocator.releaseAllWarm();
    }

    /**
     * @return reserved bytes (the whole space), committed bytes (resident pages of live and warm areas plus the
     *         tag metadata) and used bytes (sum of live areas).
     */
    public MemoryUsage usage()
    {
        ensureOpen();
        long committed = NativeMemory.residentPages(tagSegment, 0, tagSegment.byteSize(), Geometry.PAGE_SIZE)
            + NativeMemory.residentPages(summarySegment, 0, summarySegment.byteSize(), Geometry.PAGE_SIZE);
        committed *= Geometry.PAGE_SIZE;
        committed += residentBytes(0, size());
        return new MemoryUsage(size(), committed, allocator.liveBytes());
    }

    /** @return number of live areas. */
    public long liveAreas()
    {
        return allocator.liveAreas();
    }

    /** @return bytes of freed areas kept resident for reuse. */
    public long warmBytes()
    {
        return allocator.warmBytes();
    }

    AreaOwnership ownership()
    {
        return ownership;
    }

    /**
     * @param address an address in the space.
     * @return whether the page holding it is backed by physical memory now ({@code mincore}).
     */
    public boolean isResident(final long address)
    {
        ensureOpen();
        return residentBytes(address & -Geometry.PAGE_SIZE, Geometry.PAGE_SIZE) != 0;
    }

    /**
     * @param base   a page-aligned address in the space.
     * @param length bytes from there, rounded up to whole pages.
     * @return bit {@code i} set iff page {@code i} of the range is backed by physical memory now ({@code mincore}).
     */
    public BitSet residentPages(final long base, final long length)
    {
        ensureOpen();
        Objects.checkFromIndexSize(base, length, size());
        return NativeMemory.residency(data, base, length, Geometry.PAGE_SIZE);
    }

    long residentBytes(final long base, final long length)
    {
        return NativeMemory.residentPages(data, base, length, Geometry.PAGE_SIZE) * Geometry.PAGE_SIZE;
    }

    void releasePages(final long base, final long length)
    {
        NativeMemory.release(data, base, length);
    }

    private void ensureOpen()
    {
        if (closed.get())
        {
            throw new IllegalStateException("address space is closed");
        }
    }

    /** @return whether {@link #close()} has run. */
    public boolean isClosed()
    {
        return closed.get();
    }

    /**
     * Unmaps the space, its tags and its summary. Idempotent.
     */
    @Override
    public void close()
    {
        if (closed.compareAndSet(false, true))
        {
            arena.close();
        }
    }

    @Override
    public String toString()
    {
        return "AddressSpace[" + size() + " bytes" + (closed.get() ? ", closed" : "") + "]";
    }
}
