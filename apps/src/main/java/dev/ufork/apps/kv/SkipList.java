package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The ordered half of a sorted set: a skip list in µprocess memory ordered by (score, member), with the span of each
 * forward link so that ranks are found in logarithmic time, as Redis's is. Members are the same sds blocks the sorted
 * set's dict holds as keys; the dict owns them.
 * <pre>
 *  header (48 B)                          node (48 + 32 × levels B)
 *  +0   head   capability → head node      +0   member    capability → sds (NULL in the head node)
 *  +16  tail   capability → last node      +16  backward  capability → previous node
 *  +32  length 8 B                         +32  score     8 B (double bits)
 *  +40  level  8 B (levels in use)         +40  levels    8 B
 *                                          +48 + 32 i   forward capability, span 8 B, 8 B unused
 * </pre>
 * Thread safety: confined to the µprocess's thread.
 */
final class SkipList
{
    static final int MAX_LEVEL = 32;

    private static final int HEAD = 0;
    private static final int TAIL = 16;
    private static final int LENGTH = 32;
    private static final int LEVEL = 40;

    static final int MEMBER = 0;
    static final int BACKWARD = 16;
    static final int SCORE = 32;
    private static final int LEVELS = 40;
    private static final int LINKS = 48;
    private static final int LINK = 32;

    private static final SplittableRandom LEVELS_RANDOM = new SplittableRandom(0x5c1b_1157L);

    private final Mem mem;
    private final CapabilityMemory memory;
    private final Capability header;

    SkipList(final Mem mem, final Capability header)
    {
        this.mem = mem;
        this.memory = mem.memory;
        this.header = header;
    }

    static SkipList create(final Mem mem)
    {
        final Capability header = mem.allocateZeroed(48);
        final Capability head = mem.allocateZeroed(LINKS + (long)LINK * MAX_LEVEL);
        mem.memory.storeLong(head, LEVELS, MAX_LEVEL);
        mem.memory.storeCapability(header, HEAD, head);
        mem.memory.storeLong(header, LEVEL, 1);
        return new SkipList(mem, header);
    }

    Capability header()
    {
        return header;
    }

    long length()
    {
        return memory.loadLong(header, LENGTH);
    }

    private Capability forward(final Capability node, final int level)
    {
        return memory.loadCapability(node, LINKS + (long)level * LINK);
    }

    private long span(final Capability node, final int level)
    {
        return memory.loadLong(node, LINKS + (long)level * LINK + 16);
    }

    private void setForward(final Capability node, final int level, final Capability next)
    {
        memory.storeCapability(node, LINKS + (long)level * LINK, next);
    }

    private void setSpan(final Capability node, final int level, final long span)
    {
        memory.storeLong(node, LINKS + (long)level * LINK + 16, span);
    }

    double score(final Capability node)
    {
        return Double.longBitsToDouble(memory.loadLong(node, SCORE));
    }

    Capability member(final Capability node)
    {
        return memory.loadCapability(node, MEMBER);
    }

    /** @return whether (score, member) of {@code node} orders before (score, memberBytes). */
    private boolean before(final Capability node, final double score, final byte[] member)
    {
        final double s = score(node);
        if (s != score)
        {
            return s < score;
        }
        return Arrays.compareUnsigned(mem.sds(member(node)), member) < 0;
    }

    private static int randomLevel()
    {
        int level = 1;
        while (level < MAX_LEVEL && LEVELS_RANDOM.nextInt(4) == 0)
        {
            level++;
        }
        return level;
    }

    /** Inserts a member that is not in the list. */
    void insert(final double score, final Capability memberSds, final byte[] member)
    {
        final Capability[] update = new Capability[MAX_LEVEL];
        final long[] rank = new long[MAX_LEVEL];
        final Capability head = memory.loadCapability(header, HEAD);
        int level = (int)memory.loadLong(header, LEVEL);
        Capability x = head;
        for (int i = level - 1; i >= 0; i--)
        {
            rank[i] = i == level - 1 ? 0 : rank[i + 1];
            Capability next = forward(x, i);
            while (next.isTagged() && before(next, score, member))
            {
                rank[i] += span(x, i);
                x = next;
                next = forward(x, i);
            }
            update[i] = x;
        }
        final int newLevel = randomLevel();
        final long length = length();
        if (newLevel > level)
        {
            for (int i = level; i < newLevel; i++)
            {
                rank[i] = 0;
                update[i] = head;
                setSpan(head, i, length);
            }
            level = newLevel;
            memory.storeLong(header, LEVEL, level);
        }
        final Capability node = mem.heap.allocate(LINKS + (long)LINK * newLevel);
        memory.storeCapability(node, MEMBER, memberSds);
        memory.storeLong(node, SCORE, Double.doubleToRawLongBits(score));
        memory.storeLong(node, LEVELS, newLevel);
        for (int i = 0; i < newLevel; i++)
        {
            setForward(node, i, forward(update[i], i));
            setForward(update[i], i, node);
            setSpan(node, i, span(update[i], i) - (rank[0] - rank[i]));
            setSpan(update[i], i, (rank[0] - rank[i]) + 1);
        }
        for (int i = newLevel; i < level; i++)
        {
            setSpan(update[i], i, span(update[i], i) + 1);
        }
        memory.storeCapability(node, BACKWARD, update[0] == head ? Capability.NULL : update[0]);
        final Capability after = forward(node, 0);
        if (after.isTagged())
        {
            memory.storeCapability(after, BACKWARD, node);
        }
        else
        {
            memory.storeCapability(header, TAIL, node);
        }
        memory.storeLong(header, LENGTH, length + 1);
    }

    /**
     * Removes (score, member); the member's sds is not freed (the dict owns it).
     *
     * @return whether it was there.
     */
    boolean delete(final double score, final byte[] member)
    {
        final Capability[] update = new Capability[MAX_LEVEL];
        final Capability head = memory.loadCapability(header, HEAD);
        final int level = (int)memory.loadLong(header, LEVEL);
        Capability x = head;
        for (int i = level - 1; i >= 0; i--)
        {
            Capability next = forward(x, i);
            while (next.isTagged() && before(next, score, member))
            {
                x = next;
                next = forward(x, i);
            }
            update[i] = x;
        }
        final Capability target = forward(x, 0);
        if (!target.isTagged() || score(target) != score || !mem.sdsEquals(member(target), member))
        {
            return false;
        }
        unlink(target, update, level);
        mem.heap.free(target);
        return true;
    }

    private void unlink(final Capability node, final Capability[] update, final int level)
    {
        for (int i = 0; i < level; i++)
        {
            if (forward(update[i], i).isTagged() && sameNode(forward(update[i], i), node))
            {
                setSpan(update[i], i, span(update[i], i) + span(node, i) - 1);
                setForward(update[i], i, forward(node, i));
            }
            else
            {
                setSpan(update[i], i, span(update[i], i) - 1);
            }
        }
        final Capability after = forward(node, 0);
        final Capability back = memory.loadCapability(node, BACKWARD);
        if (after.isTagged())
        {
            memory.storeCapability(after, BACKWARD, back);
        }
        else
        {
            memory.storeCapability(header, TAIL, back);
        }
        final Capability head = memory.loadCapability(header, HEAD);
        int newLevel = level;
        while (newLevel > 1 && !forward(head, newLevel - 1).isTagged())
        {
            newLevel--;
        }
        memory.storeLong(header, LEVEL, newLevel);
        memory.storeLong(header, LENGTH, length() - 1);
    }

    private static boolean sameNode(final Capability a, final Capability b)
    {
        return a.address() == b.address();
    }

    /** @return the node at 1-based {@code rank}, or null. */
    Capability byRank(final long rank)
    {
        if (rank < 1 || rank > length())
        {
            return null;
        }
        Capability x = memory.loadCapability(header, HEAD);
        long traversed = 0;
        for (int i = (int)memory.loadLong(header, LEVEL) - 1; i >= 0; i--)
        {
            Capability next = forward(x, i);
            while (next.isTagged() && traversed + span(x, i) <= rank)
            {
                traversed += span(x, i);
                x = next;
                next = forward(x, i);
            }
            if (traversed == rank)
            {
                return x;
            }
        }
        return null;
    }

    /** @return the first node whose score is at least {@code min} (or above it if {@code exclusive}), or null. */
    Capability firstInRange(final double min, final boolean exclusive)
    {
        Capability x = memory.loadCapability(header, HEAD);
        for (int i = (int)memory.loadLong(header, LEVEL) - 1; i >= 0; i--)
        {
            Capability next = forward(x, i);
            while (next.isTagged() && (exclusive ? score(next) <= min : score(next) < min))
            {
                x = next;
                next = forward(x, i);
            }
        }
        final Capability next = forward(x, 0);
        return next.isTagged() ? next : null;
    }

    /** @return the next node in order, or an untagged capability at the end. */
    Capability next(final Capability node)
    {
        return forward(node, 0);
    }

    /** @return the previous node, or an untagged capability at the start. */
    Capability previous(final Capability node)
    {
        return memory.loadCapability(node, BACKWARD);
    }

    /** @return the first node, or null. */
    Capability first()
    {
        final Capability node = forward(memory.loadCapability(header, HEAD), 0);
        return node.isTagged() ? node : null;
    }

    /** @return the last node, or null. */
    Capability last()
    {
        final Capability node = memory.loadCapability(header, TAIL);
        return node.isTagged() ? node : null;
    }

    /** Frees every node and the header (not the member sds blocks). */
    void destroy()
    {
        Capability node = memory.loadCapability(header, HEAD);
        while (node.isTagged())
        {
            final Capability next = forward(node, 0);
            mem.heap.free(node);
            node = next;
        }
        mem.heap.free(header);
    }
}
