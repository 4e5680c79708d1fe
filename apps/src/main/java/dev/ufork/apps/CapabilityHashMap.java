package dev.ufork.apps;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

/**
 * A chained hash map from {@code long} keys to values, living in a µprocess's memory and linked by capabilities,
 * as a C program's map would be by pointers: a fork copies it and relocates every link, and a child walks its copy
 * with the same code. Memory comes from an {@link Allocator}; nothing is freed (the map only grows).
 * <pre>
 *  header (32 B)   +0  buckets   capability over the bucket array
 *                  +16 count     number of buckets, a power of two
 *                  +24 size      number of entries
 *  buckets         count × 16 B  capability to the first node of each chain, or NULL
 *  node (48 B)     +0  next      capability to the next node of the chain, or NULL
 *                  +16 value     capability to the value's bytes, or NULL
 *                  +32 key
 *                  +40 length    bytes of the value
 * </pre>
 * <p>
 * Thread safety: confined to the thread of the µprocess whose memory it is in. Lifetime: that of the memory; an
 * instance is only a view (capabilities and cached bounds) and can be re-attached from {@link #header()}.
 */
public final class CapabilityHashMap
{
    /** Bytes of the header. */
    public static final long HEADER_BYTES = 32;
    /** Bytes of one node. */
    public static final long NODE_BYTES = 48;
    /** Bytes of one bucket: a capability. */
    public static final long BUCKET_BYTES = 16;

    private static final long BUCKETS = 0;
    private static final long COUNT = 16;
    private static final long SIZE = 24;
    private static final long NEXT = 0;
    private static final long VALUE = 16;
    private static final long KEY = 32;
    private static final long LENGTH = 40;

    /** Visits one entry. */
    @FunctionalInterface
    public interface Visitor
    {
        /**
         * @param bucket the bucket whose chain holds the entry.
         * @param key    the key.
         * @param value  the value's capability (NULL if none).
         * @param length the value's length in bytes.
         */
        void visit(long bucket, long key, Capability value, long length);
    }

    private final CapabilityMemory memory;
    private final Allocator allocator;
    private final Capability header;
    private final Capability buckets;
    private final long mask;

    private CapabilityHashMap(final CapabilityMemory memory, final Allocator allocator, final Capability header)
    {
        this.memory = memory;
        this.allocator = allocator;
        this.header = header;
        this.buckets = memory.loadCapability(header, BUCKETS);
        this.mask = memory.loadLong(header, COUNT) - 1;
        if (!buckets.isTagged() || Long.bitCount(mask + 1) != 1 || buckets.length() < (mask + 1) * BUCKET_BYTES)
        {
            throw new IllegalArgumentException("not a map header: " + header);
        }
    }

    /**
     * Allocates an empty map.
     *
     * @param memory    the µprocess's memory.
     * @param allocator where its blocks come from.
     * @param expected  the number of entries expected; the bucket count is the largest power of two not above it
     *                  (at least 16), so chains average one to two nodes.
     * @return the map.
     * @throws IllegalStateException if the allocator has no room.
     */
    public static CapabilityHashMap create(final CapabilityMemory memory, final Allocator allocator,
        final long expected)
    {
        final long count = Math.max(16, Long.highestOneBit(Math.max(1, expected)));
        final Capability header = allocateOrThrow(allocator, HEADER_BYTES, "the map header");
        final Capability buckets = allocateOrThrow(allocator, count * BUCKET_BYTES, count + " buckets");
        // An allocator's blocks hold whatever was there: every bucket must start as an untagged NULL.
        memory.fill(buckets, 0, count * BUCKET_BYTES, (byte)0);
        memory.storeCapability(header, BUCKETS, buckets);
        memory.storeLong(header, COUNT, count);
        memory.storeLong(header, SIZE, 0);
        return new CapabilityHashMap(memory, allocator, header);
    }

    /**
     * A read-only view of an existing map (a forked child's copy, say): {@link #put} is refused.
     *
     * @param memory the µprocess's memory.
     * @param header the map's header capability.
     * @return the view.
     * @throws IllegalArgumentException if {@code header} does not lead to a map.
     */
    public static CapabilityHashMap attach(final CapabilityMemory memory, final Capability header)
    {
        return new CapabilityHashMap(memory, null, header);
    }

    private static Capability allocateOrThrow(final Allocator allocator, final long size, final String what)
    {
        final Capability block = allocator.allocate(size);
        if (!block.isTagged())
        {
            throw new IllegalStateException("out of memory allocating " + what + " (" + size + " bytes)");
        }
        return block;
    }

    /**
     * @param key a key.
     * @return its hash: a bijective 64-bit mix (the finalizer of SplitMix64), so sequential keys spread.
     */
    public static long hash(final long key)
    {
        long z = key;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** @return the capability to the header, from which {@link #attach} finds the map again. */
    public Capability header()
    {
        return header;
    }

    /** @return the number of entries. */
    public long size()
    {
        return memory.loadLong(header, SIZE);
    }

    /** @return the number of buckets. */
    public long bucketCount()
    {
        return mask + 1;
    }

    /**
     * Maps {@code key} to {@code value}, replacing any earlier value.
     *
     * @param key    the key.
     * @param value  a capability to the value's bytes (or NULL).
     * @param length the value's length in bytes.
     * @return whether the key is new.
     * @throws IllegalStateException         if the allocator has no room for a new node.
     * @throws UnsupportedOperationException on an {@link #attach attached} view.
     */
    public boolean put(final long key, final Capability value, final long length)
    {
        if (allocator == null)
        {
            throw new UnsupportedOperationException("an attached map is read-only");
        }
        final long slot = (hash(key) & mask) * BUCKET_BYTES;
        final Capability first = memory.loadCapability(buckets, slot);
        for (Capability node = first; node.isTagged(); node = memory.loadCapability(node, NEXT))
        {
            if (memory.loadLong(node, KEY) == key)
            {
                memory.storeCapability(node, VALUE, value);
                memory.storeLong(node, LENGTH, length);
                return false;
            }
        }
        final Capability node = allocateOrThrow(allocator, NODE_BYTES, "a node after " + size() + " entries");
        memory.storeCapability(node, NEXT, first);
        memory.storeCapability(node, VALUE, value);
        memory.storeLong(node, KEY, key);
        memory.storeLong(node, LENGTH, length);
        memory.storeCapability(buckets, slot, node);
        memory.storeLong(header, SIZE, memory.loadLong(header, SIZE) + 1);
        return true;
    }

    /**
     * @param key a key.
     * @return the capability to its value, or an untagged NULL if the key is absent.
     */
    public Capability get(final long key)
    {
        for (Capability node = memory.loadCapability(buckets, (hash(key) & mask) * BUCKET_BYTES); node.isTagged();
            node = memory.loadCapability(node, NEXT))
        {
            if (memory.loadLong(node, KEY) == key)
            {
                return memory.loadCapability(node, VALUE);
            }
        }
        return Capability.NULL;
    }

    /**
     * Visits every entry, bucket by bucket, following the chains' capabilities.
     *
     * @param visitor what to do with each.
     */
    public void forEach(final Visitor visitor)
    {
        final long count = mask + 1;
        for (long bucket = 0; bucket < count; bucket++)
        {
            for (Capability node = memory.loadCapability(buckets, bucket * BUCKET_BYTES); node.isTagged();
                node = memory.loadCapability(node, NEXT))
            {
                visitor.visit(bucket, memory.loadLong(node, KEY), memory.loadCapability(node, VALUE),
                    memory.loadLong(node, LENGTH));
            }
        }
    }
}
