package dev.ufork.apps;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixAreaDescriptor;

/**
 * The demo's pointer-rich µprocess: a {@link CapabilityHashMap} of N entries whose keys and value bytes are
 * computed from the entry's index, so a forked child can check its whole copy without being told anything but N.
 * <p>
 * The parent first inserts every key (the nodes, which hold capabilities, are allocated one after another), then
 * allocates and fills every value (32 bytes of plain data each, allocated one after another too). So the pages of
 * nodes and buckets hold pointers and the pages of values hold none: a copy-on-pointer-access child that reads the
 * values shares their pages with its parent, while a copy-on-access child copies them.
 * <p>
 * The map's header is kept in capability register {@link #MAP_REGISTER}, which a fork relocates with the rest of the
 * register file: that is how the child finds its copy.
 * <p>
 * Thread safety: stateless; the methods run on the µprocess's own thread. Lifetime: static.
 */
public final class MapWorkload
{
    /** The capability register holding the map's header (c1). */
    public static final int MAP_REGISTER = 1;
    /** Bytes of each value. */
    public static final long VALUE_BYTES = 32;
    /** Bytes per allocation an allocator may add (malloc's header), for sizing the area. */
    static final long ALLOCATION_OVERHEAD = 16;

    private static final long KEY_SEED = 0x0F0F_5EED_1234_5678L;

    /**
     * What a walk found.
     *
     * @param visited entries visited.
     * @param bad     entries whose key, bucket or value was not what the parent stored.
     * @param keySum  the sum of the visited keys (wrapping).
     */
    public record Walk(long visited, long bad, long keySum)
    {
        /**
         * @param entries the entries the parent stored.
         * @return whether exactly those were found, each intact.
         */
        public boolean verified(final long entries)
        {
            return bad == 0 && visited == entries && keySum == expectedKeySum(entries);
        }
    }

    private MapWorkload()
    {
    }

    /**
     * @param index an entry's index.
     * @return its key (distinct for distinct indices: the mix is a bijection).
     */
    public static long keyOf(final long index)
    {
        return CapabilityHashMap.hash(index ^ KEY_SEED);
    }

    /**
     * @param key  a key.
     * @param word a word of its value, 0..3.
     * @return that word's contents.
     */
    public static long valueWord(final long key, final int word)
    {
        return CapabilityHashMap.hash(key + 0x9E3779B97F4A7C15L * (word + 1));
    }

    /**
     * @param entries the entries.
     * @return the sum of their keys, wrapping.
     */
    public static long expectedKeySum(final long entries)
    {
        long sum = 0;
        for (long i = 0; i < entries; i++)
        {
            sum += keyOf(i);
        }
        return sum;
    }

    /**
     * @param entries entries in the map.
     * @return the area a µprocess holding the map gets: a power of two with room for libc's own state, the map and
     *         an allocator's per-block overhead.
     */
    public static long areaFor(final long entries)
    {
        final long buckets = Math.max(16, Long.highestOneBit(Math.max(1, entries))) * CapabilityHashMap.BUCKET_BYTES;
        final long blocks = 2 * entries + 2;
        final long needed = PosixAreaDescriptor.HEAP_START + buckets + CapabilityHashMap.HEADER_BYTES
            + entries * (CapabilityHashMap.NODE_BYTES + VALUE_BYTES) + blocks * ALLOCATION_OVERHEAD
            + (buckets >>> 4);
        return Math.max(64 << 10, Long.highestOneBit(needed - 1) << 1);
    }

    /**
     * Builds the map of {@code entries} entries and puts its header in {@link #MAP_REGISTER}.
     *
     * @param posix     the µprocess's libc.
     * @param allocator where the blocks come from.
     * @param entries   how many entries.
     * @return the map.
     * @throws IllegalStateException if the allocator runs out of room.
     */
    public static CapabilityHashMap build(final Posix posix, final Allocator allocator, final long entries)
    {
        final CapabilityMemory memory = posix.memory();
        final CapabilityHashMap map = CapabilityHashMap.create(memory, allocator, entries);
        for (long i = 0; i < entries; i++)
        {
            map.put(keyOf(i), Capability.NULL, 0);
        }
        for (long i = 0; i < entries; i++)
        {
            final long key = keyOf(i);
            final Capability value = allocator.allocate(VALUE_BYTES);
            if (!value.isTagged())
            {
                throw new IllegalStateException("out of memory allocating value " + i + " of " + entries);
            }
            for (int w = 0; w < VALUE_BYTES / Long.BYTES; w++)
            {
                memory.storeLong(value, (long)w * Long.BYTES, valueWord(key, w));
            }
            map.put(key, value, VALUE_BYTES);
        }
        if (map.size() != entries)
        {
            throw new IllegalStateException("the map holds " + map.size() + " entries, expected " + entries);
        }
        posix.context().setRegister(MAP_REGISTER, map.header());
        return map;
    }

    /**
     * Walks the map found in {@link #MAP_REGISTER}: every bucket, every node, every value's bytes, through
     * capabilities, checking each against what {@link #build} stored.
     *
     * @param posix the µprocess's libc.
     * @return what was found.
     * @throws IllegalArgumentException if the register does not lead to a map.
     */
    public static Walk walk(final Posix posix)
    {
        final CapabilityMemory memory = posix.memory();
        final CapabilityHashMap map = CapabilityHashMap.attach(memory,
            posix.context().register(MAP_REGISTER));
        final long mask = map.bucketCount() - 1;
        final long[] totals = new long[3];
        map.forEach((bucket, key, value, length) ->
        {
            totals[0]++;
            totals[2] += key;
            boolean good = (CapabilityHashMap.hash(key) & mask) == bucket && length == VALUE_BYTES
                && value.isTagged() && value.length() >= VALUE_BYTES;
            for (int w = 0; good && w < VALUE_BYTES / Long.BYTES; w++)
            {
                good = memory.loadLong(value, (long)w * Long.BYTES) == valueWord(key, w);
            }
            if (!good)
            {
                totals[1]++;
            }
        });
        return new Walk(totals[0], totals[1], totals[2]);
    }
}
