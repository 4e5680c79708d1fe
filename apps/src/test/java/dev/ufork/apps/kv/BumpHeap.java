package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;

/**
 * A test heap that hands out consecutive blocks of a region (16-byte aligned, or more where exact bounds need it)
 * and never reuses them: enough to test the store's structures without depending on the allocator.
 */
final class BumpHeap implements KvHeap
{
    private final Capability region;
    private long next;

    BumpHeap(final Capability region, final long start)
    {
        this.region = region;
        this.next = start;
    }

    @Override
    public Capability allocate(final long size)
    {
        // Padded and aligned so that the bounds are exactly representable, as malloc does (a large block at an
        // unaligned address could not be bounded exactly).
        final long rounded = Capability.representableLength(Math.max(16, (size + 15) & -16));
        final long mask = Capability.representableAlignmentMask(rounded);
        final long start = (region.base() + next + ~mask) & mask;
        if (start - region.base() + rounded > region.length())
        {
            throw new OutOfMemoryException("bump heap full");
        }
        final Capability block = region.withAddress(start).setBoundsExact(rounded);
        next = start - region.base() + rounded;
        return block;
    }

    @Override
    public void free(final Capability block)
    {
        if (!block.isTagged())
        {
            throw new IllegalArgumentException("free of an untagged capability");
        }
    }
}
