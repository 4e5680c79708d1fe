package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

import java.util.SplittableRandom;

/**
 * A chained hash table in µprocess memory, keyed by byte strings: the keyspace, and the fields of hashes, the members
 * of sets and sorted sets. Everything is linked by capabilities, so a fork copies and relocates it like any other
 * data; this class is a flyweight over the header and keeps nothing the memory does not.
 * <pre>
 *  header (48 B)                          entry (64 B)
 *  +0   table  capability → buckets       +0   next   capability → next entry in the chain, or NULL
 *  +16  mask   8 B  buckets − 1           +16  key    capability → sds
 *  +24  used   8 B  entries               +32  value  capability → value, or NULL
 *  +32  slab   capability → the           +48  hash   8 B
 *              {@link EntrySlab} header   +56  extra  8 B  expiry (keyspace) or score bits (sorted sets)
 *  buckets: one capability (16 B) per bucket, NULL when empty
 * </pre>
 * Entries come from an {@link EntrySlab}: the one all dicts share, or for the keyspace one of its own, so that a
 * snapshot can walk the keyspace in memory order ({@link #forEachInMemoryOrder}).
 * The table doubles when it is full and halves when it is under a tenth full (not below 4 buckets); a resize moves
 * every entry at once. Iteration ({@link #scan}) uses Redis's reverse-binary cursor, so an entry present for a whole
 * scan is returned at least once even if the table is resized in between.
 * <p>
 * Thread safety: confined to the µprocess's thread.
 */
final class Dict
{
    static final int HEADER_SIZE = 48;
    static final int ENTRY_SIZE = 64;
    static final int NEXT = 0;
    static final int KEY = 16;
    static final int VALUE = 32;
    static final int HASH = 48;
    static final int EXTRA = 56;

    private static final int TABLE = 0;
    private static final int MASK = 16;
    private static final int USED = 24;
    private static final int SLAB = 32;
    private static final long MIN_BUCKETS = 4;

    private final Mem mem;
    private final CapabilityMemory memory;
    private final Capability header;

    /** Views an existing dict. */
    Dict(final Mem mem, final Capability header)
    {
        this.mem = mem;
        this.memory = mem.memory;
        this.header = header;
    }

    /** @return a new, empty dict whose entries come from the slab that dicts share. */
    static Dict create(final Mem mem)
    {
        return create(mem, mem.sharedEntrySlab());
    }

    /** @return a new, empty dict with an entry slab of its own, so that it can be walked in memory order. */
    static Dict createWithOwnSlab(final Mem mem)
    {
        return create(mem, EntrySlab.create(mem, true));
    }

    private static Dict create(final Mem mem, final Capability slab)
    {
        final Capability header = mem.allocateZeroed(HEADER_SIZE);
        mem.memory.storeCapability(header, TABLE, mem.allocateZeroed(MIN_BUCKETS * 16));
        mem.memory.storeLong(header, MASK, MIN_BUCKETS - 1);
        mem.memory.storeCapability(header, SLAB, slab);
        return new Dict(mem, header);
    }

    private EntrySlab slab()
    {
        return new EntrySlab(mem, memory.loadCapability(header, SLAB));
    }

    /** @return the header capability (what a value object or register holds). */
    Capability header()
    {
        return header;
    }

    /** @return the number of entries. */
    long size()
    {
        return memory.loadLong(header, USED);
    }

    /** @return the number of buckets. */
    long buckets()
    {
        return memory.loadLong(header, MASK) + 1;
    }

    /**
     * @param key  the key.
     * @param hash {@code Mem.hash(key)}.
     * @return its entry, or null.
     */
    Capability find(final byte[] key, final long hash)
    {
        final Capability table = memory.loadCapability(header, TABLE);
        final long mask = memory.loadLong(header, MASK);
        Capability entry = memory.loadCapability(table, (hash & mask) * 16);
        while (entry.isTagged())
        {
            if (memory.loadLong(entry, HASH) == hash && mem.sdsEquals(memory.loadCapability(entry, KEY), key))
            {
                return entry;
            }
            entry = memory.loadCapability(entry, NEXT);
        }
        return null;
    }

    /** @return the entry of {@code key}, or null. */
    Capability find(final byte[] key)
    {
        return find(key, Mem.hash(key));
    }

    /**
     * Adds an entry for a key that is not present, with a NULL value and extra 0. The dict takes the key sds.
     *
     * @return the new entry.
     */
    Capability insert(final Capability keySds, final long hash)
    {
        final long used = memory.loadLong(header, USED);
        if (used >= buckets())
        {
            resize(buckets() * 2);
        }
        final Capability table = memory.loadCapability(header, TABLE);
        final long slot = (hash & memory.loadLong(header, MASK)) * 16;
        final Capability entry = slab().allocate();
        memory.storeCapability(entry, NEXT, memory.loadCapability(table, slot));
        memory.storeCapability(entry, KEY, keySds);
        memory.storeCapability(entry, VALUE, Capability.NULL);
        memory.storeLong(entry, HASH, hash);
        memory.storeLong(entry, EXTRA, 0);
        memory.storeCapability(table, slot, entry);
        memory.storeLong(header, USED, used + 1);
        return entry;
    }

    /**
     * Unlinks the entry of {@code key}. The caller frees what the entry points to, then the entry with
     * {@link #freeEntry}.
     *
     * @return the unlinked entry, or null if the key is absent.
     */
    Capability unlink(final byte[] key, final long hash)
    {
        final Capability table = memory.loadCapability(header, TABLE);
        final long slot = (hash & memory.loadLong(header, MASK)) * 16;
        Capability previous = null;
        Capability entry = memory.loadCapability(table, slot);
        while (entry.isTagged())
        {
            if (memory.loadLong(entry, HASH) == hash && mem.sdsEquals(memory.loadCapability(entry, KEY), key))
            {
                final Capability next = memory.loadCapability(entry, NEXT);
                if (previous == null)
                {
                    memory.storeCapability(table, slot, next);
                }
                else
                {
                    memory.storeCapability(previous, NEXT, next);
                }
                final long used = memory.loadLong(header, USED) - 1;
                memory.storeLong(header, USED, used);
                return entry;
            }
            previous = entry;
            entry = memory.loadCapability(entry, NEXT);
        }
        return null;
    }

    /**
     * Frees an unlinked entry's key and the entry itself (not its value).
     *
     * @throws IllegalStateException if the entry is on the free list (freed, and not handed out again since: its key
     *                               is cleared when it is freed); nothing changes. A stale capability to an entry
     *                               that has been reused is not caught, as with {@code malloc}.
     */
    void freeEntry(final Capability entry)
    {
        freeKey(entry);
        slab().free(entry);
    }

    /** Frees an entry's key; refuses an entry on the free list (see {@link #freeEntry}). */
    private void freeKey(final Capability entry)
    {
        final Capability key = memory.loadCapability(entry, KEY);
        if (!key.isTagged())
        {
            throw new IllegalStateException("entry freed twice: " + entry);
        }
        mem.heap.free(key);
    }

    /** Shrinks the table if it became sparse; call after deletions. */
    void maybeShrink()
    {
        final long buckets = buckets();
        if (buckets > MIN_BUCKETS && memory.loadLong(header, USED) * 10 < buckets)
        {
            resize(Math.max(MIN_BUCKETS, Long.highestOneBit(Math.max(1, memory.loadLong(header, USED))) * 2));
        }
    }

    private void resize(final long newBuckets)
    {
        final Capability oldTable = memory.loadCapability(header, TABLE);
        final long oldBuckets = buckets();
        final Capability newTable = mem.allocateZeroed(newBuckets * 16);
        final long newMask = newBuckets - 1;
        for (long b = 0; b < oldBuckets; b++)
        {
            Capability entry = memory.loadCapability(oldTable, b * 16);
            while (entry.isTagged())
            {
                final Capability next = memory.loadCapability(entry, NEXT);
                final long slot = (memory.loadLong(entry, HASH) & newMask) * 16;
                memory.storeCapability(entry, NEXT, memory.loadCapability(newTable, slot));
                memory.storeCapability(newTable, slot, entry);
                entry = next;
            }
        }
        memory.storeCapability(header, TABLE, newTable);
        memory.storeLong(header, MASK, newMask);
        mem.heap.free(oldTable);
    }

    /** Visits entries. */
    @FunctionalInterface
    interface EntryVisitor
    {
        /** @param entry an entry; must not be unlinked during the visit. */
        void visit(Capability entry);
    }

    /**
     * One step of a cursor scan: visits the entries of the bucket(s) at {@code cursor}.
     *
     * @return the next cursor; 0 when the scan is complete.
     */
    long scan(final long cursor, final EntryVisitor visitor)
    {
        final Capability table = memory.loadCapability(header, TABLE);
        final long mask = memory.loadLong(header, MASK);
        Capability entry = memory.loadCapability(table, (cursor & mask) * 16);
        while (entry.isTagged())
        {
            visitor.visit(entry);
            entry = memory.loadCapability(entry, NEXT);
        }
        // Increment the reversed cursor within the mask: set the unmasked high bits, reverse, add one, reverse.
        long v = cursor | ~mask;
        v = Long.reverse(v);
        v++;
        v = Long.reverse(v);
        return v;
    }

    /** Visits every entry (a full scan). */
    void forEach(final EntryVisitor visitor)
    {
        final Capability table = memory.loadCapability(header, TABLE);
        final long buckets = buckets();
        for (long b = 0; b < buckets; b++)
        {
            Capability entry = memory.loadCapability(table, b * 16);
            while (entry.isTagged())
            {
                final Capability next = memory.loadCapability(entry, NEXT);
                visitor.visit(entry);
                entry = next;
            }
        }
    }

    /**
     * Visits every entry in the order the entries lie in memory: a walk of the whole dict that streams through its
     * slab's blocks, where {@link #forEach} follows the hash order and touches the heap all over.
     *
     * @throws IllegalStateException if the dict shares its slab ({@link #createWithOwnSlab} makes one that does not).
     */
    void forEachInMemoryOrder(final EntryVisitor visitor)
    {
        final EntrySlab slab = slab();
        if (!slab.exclusive())
        {
            throw new IllegalStateException("the dict shares its entry slab: walk it with forEach");
        }
        // A slot is in use exactly when its key is set: a free slot is zero but for its link.
        slab.forEachCarved(slot ->
        {
            if (memory.loadCapability(slot, KEY).isTagged())
            {
                visitor.visit(slot);
            }
        });
    }

    /** @return a random entry, or null if empty (uniform over buckets, then over the chain). */
    Capability random(final SplittableRandom random)
    {
        if (size() == 0)
        {
            return null;
        }
        final Capability table = memory.loadCapability(header, TABLE);
        final long mask = memory.loadLong(header, MASK);
        while (true)
        {
            Capability entry = memory.loadCapability(table, (random.nextLong() & mask) * 16);
            if (!entry.isTagged())
            {
                continue;
            }
            int length = 0;
            for (Capability e = entry; e.isTagged(); e = memory.loadCapability(e, NEXT))
            {
                length++;
            }
            for (int skip = random.nextInt(length); skip > 0; skip--)
            {
                entry = memory.loadCapability(entry, NEXT);
            }
            return entry;
        }
    }

    /** Frees the table and the header (entries must have been freed already, e.g. by {@link #clear}). */
    void destroy()
    {
        mem.heap.free(memory.loadCapability(header, TABLE));
        mem.heap.free(header);
    }

    /**
     * Removes every entry, calling {@code freeValue} on each entry before its key and the entry are freed, and
     * shrinks the table to its minimum. A dict with an entry slab of its own gives the slab's blocks back too, so
     * that what is inserted next is laid out afresh.
     */
    void clear(final EntryVisitor freeValue)
    {
        final EntrySlab slab = slab();
        // A slab of the dict's own goes back whole at the end, so its entries need not go on its free list first.
        final boolean ownSlab = slab.exclusive();
        forEach(entry ->
        {
            freeValue.visit(entry);
            if (ownSlab)
            {
                freeKey(entry);
            }
            else
            {
                freeEntry(entry);
            }
        });
        mem.heap.free(memory.loadCapability(header, TABLE));
        memory.storeCapability(header, TABLE, mem.allocateZeroed(MIN_BUCKETS * 16));
        memory.storeLong(header, MASK, MIN_BUCKETS - 1);
        memory.storeLong(header, USED, 0);
        if (ownSlab)
        {
            slab.releaseAll();
        }
    }
}
