package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

/**
 * The value objects of the keyspace, in µprocess memory. Every value starts with its type; the rest depends on it:
 * <pre>
 *  string  +0 type (0)  +8  length 8 B   +16 bytes
 *  list    +0 type (1)  +8  length 8 B   +16 head node  capability   +32 tail node capability
 *          node: +0 prev capability  +16 next capability  +32 length 8 B  +40 bytes
 *  hash    +0 type (2)  +8  flags 8 B    +16 dict capability  (field sds → value sds; extra = insertion order)
 *  set     +0 type (3)  +8  0            +16 dict capability  (member sds → NULL)
 *  zset    +0 type (4)  +8  0            +16 dict capability  (member sds → NULL; extra = score bits)
 *                                        +32 skiplist capability
 * </pre>
 * A hash remembers insertion order while it is as small as Redis keeps its listpack hashes (flag
 * {@link #HASH_ORDERED}), so HGETALL answers in the same order Redis does.
 * <p>
 * Thread safety: stateless helpers over a {@link Mem}.
 */
final class Values
{
    static final long STRING = 0;
    static final long LIST = 1;
    static final long HASH = 2;
    static final long SET = 3;
    static final long ZSET = 4;

    static final int TYPE = 0;
    static final int LENGTH = 8;
    static final int BYTES = 16;
    static final int HEAD = 16;
    static final int TAIL = 32;
    static final int DICT = 16;
    static final int SKIPLIST = 32;

    static final int NODE_PREV = 0;
    static final int NODE_NEXT = 16;
    static final int NODE_LENGTH = 32;
    static final int NODE_BYTES = 40;

    /** Hash flag: still small enough that Redis would keep it as a listpack, so order is insertion order. */
    static final long HASH_ORDERED = 1;
    /** Redis's hash-max-listpack-entries. */
    static final int HASH_MAX_LISTPACK_ENTRIES = 128;
    /** Redis's hash-max-listpack-value. */
    static final int HASH_MAX_LISTPACK_VALUE = 64;
    /** Redis's set-max-intset-entries. */
    static final int SET_MAX_INTSET_ENTRIES = 512;

    private final Mem mem;
    private final CapabilityMemory memory;

    Values(final Mem mem)
    {
        this.mem = mem;
        this.memory = mem.memory;
    }

    long type(final Capability value)
    {
        return memory.loadLong(value, TYPE);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Strings

    Capability newString(final byte[] bytes)
    {
        final Capability value = mem.heap.allocate(BYTES + (long)bytes.length);
        memory.storeLong(value, TYPE, STRING);
        memory.storeLong(value, LENGTH, bytes.length);
        memory.storeBytes(value, BYTES, bytes, 0, bytes.length);
        return value;
    }

    /**
     * Writes {@code bytes} over a string value in place if it is a string whose block has room for them.
     *
     * @return whether it did.
     */
    boolean overwriteString(final Capability value, final byte[] bytes)
    {
        if (memory.loadLong(value, TYPE) != STRING || value.length() - BYTES < bytes.length)
        {
            return false;
        }
        memory.storeLong(value, LENGTH, bytes.length);
        memory.storeBytes(value, BYTES, bytes, 0, bytes.length);
        return true;
    }

    long stringLength(final Capability value)
    {
        return memory.loadLong(value, LENGTH);
    }

    byte[] stringBytes(final Capability value)
    {
        final int length = (int)memory.loadLong(value, LENGTH);
        final byte[] bytes = new byte[length];
        memory.loadBytes(value, BYTES, bytes, 0, length);
        return bytes;
    }

    byte[] stringRange(final Capability value, final long from, final int length)
    {
        final byte[] bytes = new byte[length];
        memory.loadBytes(value, BYTES + from, bytes, 0, length);
        return bytes;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Lists

    Capability newList()
    {
        final Capability value = mem.allocateZeroed(48);
        memory.storeLong(value, TYPE, LIST);
        return value;
    }

    long listLength(final Capability list)
    {
        return memory.loadLong(list, LENGTH);
    }

    void listPush(final Capability list, final byte[] element, final boolean head)
    {
        final Capability node = mem.heap.allocate(NODE_BYTES + (long)element.length);
        memory.storeLong(node, NODE_LENGTH, element.length);
        memory.storeBytes(node, NODE_BYTES, element, 0, element.length);
        if (head)
        {
            final Capability first = memory.loadCapability(list, HEAD);
            memory.storeCapability(node, NODE_PREV, Capability.NULL);
            memory.storeCapability(node, NODE_NEXT, first);
            if (first.isTagged())
            {
                memory.storeCapability(first, NODE_PREV, node);
            }
            else
            {
                memory.storeCapability(list, TAIL, node);
            }
            memory.storeCapability(list, HEAD, node);
        }
        else
        {
            final Capability last = memory.loadCapability(list, TAIL);
            memory.storeCapability(node, NODE_NEXT, Capability.NULL);
            memory.storeCapability(node, NODE_PREV, last);
            if (last.isTagged())
            {
                memory.storeCapability(last, NODE_NEXT, node);
            }
            else
            {
                memory.storeCapability(list, HEAD, node);
            }
            memory.storeCapability(list, TAIL, node);
        }
        memory.storeLong(list, LENGTH, memory.loadLong(list, LENGTH) + 1);
    }

    /** @return the popped element, or null if the list is empty. */
    byte[] listPop(final Capability list, final boolean head)
    {
        final Capability node = memory.loadCapability(list, head ? HEAD : TAIL);
        if (!node.isTagged())
        {
            return null;
        }
        final byte[] element = nodeBytes(node);
        final Capability neighbour = memory.loadCapability(node, head ? NODE_NEXT : NODE_PREV);
        if (neighbour.isTagged())
        {
            memory.storeCapability(neighbour, head ? NODE_PREV : NODE_NEXT, Capability.NULL);
        }
        else
        {
            memory.storeCapability(list, head ? TAIL : HEAD, Capability.NULL);
        }
        memory.storeCapability(list, head ? HEAD : TAIL, neighbour);
        memory.storeLong(list, LENGTH, memory.loadLong(list, LENGTH) - 1);
        mem.heap.free(node);
        return element;
    }

    byte[] nodeBytes(final Capability node)
    {
        final int length = (int)memory.loadLong(node, NODE_LENGTH);
        final byte[] bytes = new byte[length];
        memory.loadBytes(node, NODE_BYTES, bytes, 0, length);
        return bytes;
    }

    /** @return the node at {@code index} (0-based, in range), walking from the nearer end. */
    Capability listNode(final Capability list, final long index)
    {
        final long length = listLength(list);
        Capability node;
        if (index < length / 2)
        {
            node = memory.loadCapability(list, HEAD);
            for (long i = 0; i < index; i++)
            {
                node = memory.loadCapability(node, NODE_NEXT);
            }
        }
        else
        {
            node = memory.loadCapability(list, TAIL);
            for (long i = length - 1; i > index; i--)
            {
                node = memory.loadCapability(node, NODE_PREV);
            }
        }
        return node;
    }

    Capability nextNode(final Capability node)
    {
        return memory.loadCapability(node, NODE_NEXT);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Hashes, sets, sorted sets

    Capability newHash()
    {
        final Capability value = mem.heap.allocate(32);
        memory.storeLong(value, TYPE, HASH);
        memory.storeLong(value, LENGTH, HASH_ORDERED);
        memory.storeCapability(value, DICT, Dict.create(mem).header());
        return value;
    }

    Capability newSet()
    {
        final Capability value = mem.heap.allocate(32);
        memory.storeLong(value, TYPE, SET);
        memory.storeLong(value, LENGTH, 0);
        memory.storeCapability(value, DICT, Dict.create(mem).header());
        return value;
    }

    Capability newZSet()
    {
        final Capability value = mem.heap.allocate(48);
        memory.storeLong(value, TYPE, ZSET);
        memory.storeLong(value, LENGTH, 0);
        memory.storeCapability(value, DICT, Dict.create(mem).header());
        memory.storeCapability(value, SKIPLIST, SkipList.create(mem).header());
        return value;
    }

    Dict dict(final Capability value)
    {
        return new Dict(mem, memory.loadCapability(value, DICT));
    }

    SkipList skipList(final Capability value)
    {
        return new SkipList(mem, memory.loadCapability(value, SKIPLIST));
    }

    long flags(final Capability value)
    {
        return memory.loadLong(value, LENGTH);
    }

    void setFlags(final Capability value, final long flags)
    {
        memory.storeLong(value, LENGTH, flags);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Freeing

    /** Frees a value and everything it owns. */
    void free(final Capability value)
    {
        final long type = type(value);
        if (type == LIST)
        {
            Capability node = memory.loadCapability(value, HEAD);
            while (node.isTagged())
            {
                final Capability next = memory.loadCapability(node, NODE_NEXT);
                mem.heap.free(node);
                node = next;
            }
        }
        else if (type == HASH || type == SET || type == ZSET)
        {
            if (type == ZSET)
            {
                skipList(value).destroy();
            }
            final Dict dict = dict(value);
            dict.clear(entry ->
            {
                final Capability v = memory.loadCapability(entry, Dict.VALUE);
                if (v.isTagged())
                {
                    mem.heap.free(v);
                }
            });
            dict.destroy();
        }
        mem.heap.free(value);
    }
}
