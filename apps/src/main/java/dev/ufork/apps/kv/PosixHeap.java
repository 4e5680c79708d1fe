package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.posix.Posix;

/**
 * The store's heap is the µprocess's own {@code malloc}: its blocks, and the allocator's metadata, live in the
 * µprocess's area and fork with it.
 * <p>
 * Thread safety: confined to the µprocess's thread.
 */
final class PosixHeap implements KvHeap
{
    private final Posix posix;

    PosixHeap(final Posix posix)
    {
        this.posix = posix;
    }

    @Override
    public Capability allocate(final long size)
    {
        final Capability block = posix.malloc(size);
        if (!block.isTagged())
        {
            throw new OutOfMemoryException("malloc(" + size + ") failed: errno " + posix.errno());
        }
        return block;
    }

    @Override
    public void free(final Capability block)
    {
        posix.free(block);
    }
}
