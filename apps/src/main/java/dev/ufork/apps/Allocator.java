package dev.ufork.apps;

import dev.ufork.capability.Capability;

/**
 * Memory for the data structures a µprocess builds in its own area, with C's {@code malloc} contract: a capability
 * bounded to a block of at least {@code size} bytes, 16-byte aligned, or an untagged NULL (with errno ENOMEM) when
 * the heap is full. The demo uses {@code Posix::malloc}, so the map's blocks and the allocator's metadata are all in
 * the µprocess's area and fork with it.
 * <p>
 * Thread safety: an allocator serves the µprocess that made it, on that µprocess's thread.
 */
@FunctionalInterface
public interface Allocator
{
    /**
     * @param size bytes wanted.
     * @return a capability over the new block (its contents are unspecified), or an untagged NULL if there is no
     *         room.
     */
    Capability allocate(long size);
}
