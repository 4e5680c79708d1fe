package dev.ufork.apps;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.kernel.Errno;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixAreaDescriptor;

/**
 * The simplest {@link Allocator}: blocks are carved one after another from the µprocess's heap
 * ({@link PosixAreaDescriptor#HEAP_START} up to the end of its area) and never freed. Each block is 16-byte aligned
 * and bounded exactly to its length; a large block's length and base are rounded as CHERI Concentrate needs for
 * exact bounds ({@link Capability#representableLength}, {@link Capability#representableAlignmentMask}).
 * <p>
 * The cursor lives in the heap's first 16 bytes, in the µprocess's memory, so a forked child allocating with its own
 * {@code BumpAllocator} continues from where its parent was, in its own copy. A zeroed cursor means an empty heap.
 * A stand-in until libc's malloc: it and this share nothing, so a µprocess uses one or the other.
 * <p>
 * Thread safety: confined to its µprocess's thread. Lifetime: that of the µprocess's area.
 */
public final class BumpAllocator implements Allocator
{
    /** Alignment of every block, a capability's size. */
    public static final long ALIGNMENT = 16;
    /** Where the cursor lives: the first heap granule. */
    private static final long CURSOR = PosixAreaDescriptor.HEAP_START;
    /** Where the first block goes. */
    private static final long FIRST_BLOCK = CURSOR + ALIGNMENT;

    private final Posix posix;
    private final CapabilityMemory memory;
    private final Capability area;

    /**
     * @param posix the libc of the µprocess whose heap this allocates from.
     */
    public BumpAllocator(final Posix posix)
    {
        this.posix = posix;
        this.memory = posix.memory();
        this.area = posix.area();
    }

    @Override
    public Capability allocate(final long size)
    {
        if (size <= 0 || size > area.length())
        {
            return outOfMemory();
        }
        final long length = Capability.representableLength((size + ALIGNMENT - 1) & -ALIGNMENT);
        final long mask = Capability.representableAlignmentMask(length) & -ALIGNMENT;
        final long cursor = Math.max(FIRST_BLOCK, memory.loadLong(area, CURSOR));
        final long address = (area.base() + cursor + ~mask) & mask;
        final long end = address - area.base() + length;
        if (length == 0 || end > area.length())
        {
            return outOfMemory();
        }
        memory.storeLong(area, CURSOR, end);
        return area.withAddress(address).setBoundsExact(length);
    }

    /** @return bytes handed out so far, alignment padding included. */
    public long used()
    {
        return Math.max(FIRST_BLOCK, memory.loadLong(area, CURSOR)) - FIRST_BLOCK;
    }

    private Capability outOfMemory()
    {
        posix.setErrno(Errno.ENOMEM.code());
        return Capability.NULL;
    }
}
