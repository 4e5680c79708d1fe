package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

/**
 * Where dict entries come from: blocks of the heap that hold entries and nothing else, carved {@link Dict#ENTRY_SIZE}
 * bytes at a time in address order, with freed entries kept on a free list for the next ones. A flyweight over a
 * header in µprocess memory, like {@link Dict}; a fork copies the slab with the rest.
 * <p>
 * Why: entries are the keyspace's pointers (each holds capabilities to the next entry, its key and its value), while
 * keys and values are plain bytes. A BGSAVE child copies every page it loads a capability from (copy-on-pointer-
 * access) and reads plain bytes in place: with entries and strings interleaved on the same pages it copied the whole
 * keyspace, with entries on pages of their own it copies the entry pages only. And a slab that holds one dict's
 * entries alone ({@link #EXCLUSIVE}) can be walked block by block, each block in address order
 * ({@link #forEachCarved}), which a snapshot streams through, where the hash order of the table jumps about the heap.
 * <pre>
 *  header (48 B)                                      block (64 KiB)
 *  +0   free       capability → first free entry       +0    capability → the previous block, or NULL (one slot)
 *  +16  block      capability → newest block, or NULL  +64   entries, carved in address order
 *  +32  carved     8 B  bytes of the newest block used
 *  +40  exclusive  8 B  1 if one dict has the slab to itself
 * </pre>
 * A free entry is zero but for its +0, the capability to the next free entry. Blocks go back to the heap only when
 * a dict that has the slab to itself is cleared ({@link #releaseAll}); otherwise the entries of a dict that shrank
 * wait on the free list for its next inserts, as a size-class allocator would keep them.
 * <p>
 * Thread safety: confined to the µprocess's thread. Lifetime: that of the header, which lives as long as the dicts
 * that use it.
 */
final class EntrySlab
{
    /** Bytes of a block: a link slot and 1023 entries. */
    static final long BLOCK_SIZE = 64 << 10;

    private static final int HEADER_SIZE = 48;
    private static final int FREE = 0;
    private static final int BLOCK = 16;
    private static final int CARVED = 32;
    private static final int EXCLUSIVE = 40;
    private static final int PREVIOUS_BLOCK = 0;

    private final Mem mem;
    private final CapabilityMemory memory;
    private final Capability header;

    /** Views an existing slab. */
    EntrySlab(final Mem mem, final Capability header)
    {
        this.mem = mem;
        this.memory = mem.memory;
        this.header = header;
    }

    /**
     * @param exclusive whether one dict will have the slab to itself (then it can be walked, {@link #forEachCarved}).
     * @return the header of a new, empty slab.
     */
    static Capability create(final Mem mem, final boolean exclusive)
    {
        final Capability header = mem.allocateZeroed(HEADER_SIZE);
        mem.memory.storeLong(header, EXCLUSIVE, exclusive ? 1 : 0);
        return header;
    }

    /** @return whether one dict has the slab to itself. */
    boolean exclusive()
    {
        return memory.loadLong(header, EXCLUSIVE) != 0;
    }

    /**
     * @return a capability bounded to a new entry's {@link Dict#ENTRY_SIZE} bytes, whose contents (tags included)
     *         are unspecified: the caller writes every granule.
     * @throws KvHeap.OutOfMemoryException if the heap is full.
     */
    Capability allocate()
    {
        final Capability free = memory.loadCapability(header, FREE);
        if (free.isTagged())
        {
            memory.storeCapability(header, FREE, memory.loadCapability(free, 0));
            return free;
        }
        Capability block = memory.loadCapability(header, BLOCK);
        long carved = memory.loadLong(header, CARVED);
        if (!block.isTagged() || carved == BLOCK_SIZE)
        {
            final Capability fresh = mem.heap.allocate(BLOCK_SIZE);
            memory.fill(fresh, 0, Dict.ENTRY_SIZE, (byte)0);
            memory.storeCapability(fresh, PREVIOUS_BLOCK, block);
            memory.storeCapability(header, BLOCK, fresh);
            block = fresh;
            carved = Dict.ENTRY_SIZE;
        }
        memory.storeLong(header, CARVED, carved + Dict.ENTRY_SIZE);
        return block.add(carved).setBoundsExact(Dict.ENTRY_SIZE);
    }

    /**
     * Puts an entry on the free list. Its bytes are cleared first, so that it keeps no capability to what it pointed
     * to.
     *
     * @param entry a capability {@link #allocate} returned.
     * @throws IllegalArgumentException if {@code entry} is not bounded to one entry.
     */
    void free(final Capability entry)
    {
        if (!entry.isTagged() || entry.length() != Dict.ENTRY_SIZE || entry.address() != entry.base())
        {
            throw new IllegalArgumentException("not an entry of a slab: " + entry);
        }
        memory.fill(entry, 0, Dict.ENTRY_SIZE, (byte)0);
        memory.storeCapability(entry, 0, memory.loadCapability(header, FREE));
        memory.storeCapability(header, FREE, entry);
    }

    /**
     * Gives every block back to the heap and empties the slab, for a dict that has it to itself and has just freed all
     * its entries (FLUSHALL): its next entries are carved afresh, in the order they are made, instead of coming off a
     * free list in the order the old ones happened to be freed, so that a memory-order walk streams again.
     *
     * @throws IllegalStateException if the slab is shared; nothing changes.
     */
    void releaseAll()
    {
        if (!exclusive())
        {
            throw new IllegalStateException("a shared entry slab cannot be released: other dicts use it");
        }
        Capability block = memory.loadCapability(header, BLOCK);
        memory.storeCapability(header, FREE, Capability.NULL);
        memory.storeCapability(header, BLOCK, Capability.NULL);
        memory.storeLong(header, CARVED, 0);
        while (block.isTagged())
        {
            final Capability previous = memory.loadCapability(block, PREVIOUS_BLOCK);
            mem.heap.free(block);
            block = previous;
        }
    }

    /**
     * Visits every entry slot carved so far, in use or free, newest block first and each block in address order.
     *
     * @param slot called with a capability bounded to each slot.
     */
    void forEachCarved(final Dict.EntryVisitor slot)
    {
        Capability block = memory.loadCapability(header, BLOCK);
        long end = memory.loadLong(header, CARVED);
        while (block.isTagged())
        {
            for (long at = Dict.ENTRY_SIZE; at < end; at += Dict.ENTRY_SIZE)
            {
                slot.visit(block.add(at).setBoundsExact(Dict.ENTRY_SIZE));
            }
            block = memory.loadCapability(block, PREVIOUS_BLOCK);
            end = BLOCK_SIZE;
        }
    }
}
