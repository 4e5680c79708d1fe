package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;

/**
 * Where the store's memory comes from: blocks of the µprocess's own heap, each handed out as a capability bounded to
 * it. The server uses the µprocess's {@code malloc}, so everything it allocates forks with it.
 * <p>
 * Thread safety: confined to the µprocess's thread.
 */
interface KvHeap
{
    /**
     * @param size bytes.
     * @return a capability bounded to a new block of at least {@code size} bytes (its length may be larger).
     * @throws OutOfMemoryException if the heap is full.
     */
    Capability allocate(long size);

    /** @param block a capability {@link #allocate} returned; the block is reused. */
    void free(Capability block);

    /** The heap cannot grow: the server answers {@code -OOM} and changes nothing. */
    final class OutOfMemoryException extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        OutOfMemoryException(final String message)
        {
            super(message, null, false, false);
        }
    }
}
