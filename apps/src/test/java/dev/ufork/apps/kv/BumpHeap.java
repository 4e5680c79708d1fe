package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;

/**
 * A test heap that hands out consecutive 16-byte-aligned blocks of a region and never reuses them: enough to test
 * the store's structures without depending on the allocator.
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
        final long rounded = Math.max(16, (size + 15) & -16);
        if (next + rounded > region.length())
        {
            throw new OutOfMemoryException("bump heap full");
        }
        final Capability block = region.add(next).setBoundsExact(rounded);
        next += rounded;
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
