package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.kernel.CopyMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A parent builds a malloc'ed linked list and binary search tree, then forks: the child finds them through a
 * register, walks them at its new address (every node's capability relocated into its own area), rewrites them,
 * frees nodes and mallocs new ones, while the parent checks that its own copy and its allocator are untouched, in
 * every copy mode.
 * <p>
 * Node layouts, 48 bytes each: list {@code [value][pad][next capability][payload capability]}, tree
 * {@code [key][pad][left capability][right capability]}.
 */
class MallocForkTest
{
    private static final int LIST_NODES = 3000;
    private static final int TREE_KEYS = 1500;
    private static final long SEED = 0x7EE5_0001L;

    /** The roots block: list head at 0, tree root at 16. */
    private static final int ROOTS_REGISTER = 1;

    private static Capability list(final Posix posix)
    {
        return posix.memory().loadCapability(posix.context().register(ROOTS_REGISTER), 0);
    }

    private static Capability tree(final Posix posix)
    {
        return posix.memory().loadCapability(posix.context().register(ROOTS_REGISTER), 16);
    }

    private static void build(final Posix posix, final long[] keys)
    {
        final CapabilityMemory memory = posix.memory();
        final Capability roots = posix.calloc(2, 16);
        posix.context().setRegister(ROOTS_REGISTER, roots);
        Capability head = Capability.NULL;
        for (int i = LIST_NODES - 1; i >= 0; i--)
        {
            final Capability node = posix.malloc(48);
            memory.storeLong(node, 0, i * 3L);
            memory.storeCapability(node, 16, head);
            // Every fifth node owns a payload block of its own.
            memory.storeCapability(node, 32, i % 5 == 0 ? payload(posix, i) : Capability.NULL);
            head = node;
        }
        memory.storeCapability(roots, 0, head);
        for (final long key : keys)
        {
            insert(posix, key);
        }
    }

    private static Capability payload(final Posix posix, final int i)
    {
        final Capability p = posix.malloc(100 + i % 300);
        posix.memory().storeLong(p, 0, i);
        posix.memory().storeLong(p, p.length() - 8, -i);
        return p;
    }

    /** Walks the list: values {@code value(i)} in order, every node and payload inside this µprocess's area. */
    private static int walkList(final Posix posix, final java.util.function.IntToLongFunction value)
    {
        final CapabilityMemory memory = posix.memory();
        final Capability area = posix.area();
        Capability node = list(posix);
        int i = 0;
        while (node.isTagged())
        {
            assertInArea(area, node);
            assertEquals(value.applyAsLong(i), memory.loadLong(node, 0), "list node " + i);
            final Capability payload = memory.loadCapability(node, 32);
            if (payload.isTagged())
            {
                assertInArea(area, payload);
                final long tag = memory.loadLong(payload, 0);
                assertEquals(-tag, memory.loadLong(payload, payload.length() - 8), "payload of node " + i);
            }
            node = memory.loadCapability(node, 16);
            i++;
        }
        return i;
    }

    private static void assertInArea(final Capability area, final Capability p)
    {
        assertTrue(p.base() >= area.base() && p.top() <= area.top(), p + " is outside " + area);
    }

    private static void insert(final Posix posix, final long key)
    {
        final CapabilityMemory memory = posix.memory();
        final Capability node = posix.calloc(1, 48);
        memory.storeLong(node, 0, key);
        final Capability roots = posix.context().register(ROOTS_REGISTER);
        Capability parent = roots;
        long slot = 16;
        Capability at = memory.loadCapability(parent, slot);
        while (at.isTagged())
        {
            parent = at;
            slot = key < memory.loadLong(at, 0) ? 16 : 32;
            at = memory.loadCapability(at, slot);
        }
        memory.storeCapability(parent, slot, node);
    }

    private static void inOrder(final Posix posix, final Capability node, final List<Long> out)
    {
        if (!node.isTagged())
        {
            return;
        }
        assertInArea(posix.area(), node);
        inOrder(posix, posix.memory().loadCapability(node, 16), out);
        out.add(posix.memory().loadLong(node, 0));
        inOrder(posix, posix.memory().loadCapability(node, 32), out);
    }

    private static List<Long> keys(final Posix posix)
    {
        final List<Long> out = new ArrayList<>();
        inOrder(posix, tree(posix), out);
        return out;
    }

    /** The child's work: rewrite, free and reallocate list nodes and tree nodes at its own address. */
    private static int child(final Posix c, final TreeSet<Long> expectedKeys, final SplittableRandom random)
    {
        final CapabilityMemory memory = c.memory();
        assertEquals(LIST_NODES, walkList(c, i -> i * 3L));
        assertEquals(new ArrayList<>(expectedKeys), keys(c));
        // Free every other list node (with its payload), doubling the survivors' values.
        Capability node = list(c);
        int survivors = 0;
        while (node.isTagged())
        {
            memory.storeLong(node, 0, memory.loadLong(node, 0) * 2);
            final Capability next = memory.loadCapability(node, 16);
            if (next.isTagged())
            {
                memory.storeCapability(node, 16, memory.loadCapability(next, 16));
                c.free(memory.loadCapability(next, 32));
                c.free(next);
            }
            survivors++;
            node = memory.loadCapability(node, 16);
        }
        // New nodes at the front, from memory the frees gave back.
        for (int i = 0; i < 500; i++)
        {
            final Capability fresh = c.malloc(48);
            memory.storeLong(fresh, 0, -1);
            memory.storeCapability(fresh, 16, list(c));
            memory.storeCapability(fresh, 32, Capability.NULL);
            memory.storeCapability(c.context().register(ROOTS_REGISTER), 0, fresh);
        }
        final int total = walkList(c, i -> i < 500 ? -1 : (i - 500) * 2L * 3L * 2L);
        assertEquals(500 + survivors, total);
        // The tree gets more keys.
        for (int i = 0; i < 300; i++)
        {
            final long key = random.nextLong(1_000_000);
            if (expectedKeys.add(key))
            {
                insert(c, key);
            }
        }
        assertEquals(new ArrayList<>(expectedKeys), keys(c));
        c.heap().check();
        return 0;
    }

    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldLetTheChildUseAndFreeTheParentsStructuresWithoutTouchingTheParent(final CopyMode mode,
        @TempDir final Path root)
    {
        try (PosixSystem system = PosixTestSupport.boot(root, mode))
        {
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final SplittableRandom random = new SplittableRandom(SEED + mode.ordinal());
            final TreeSet<Long> keys = new TreeSet<>();
            while (keys.size() < TREE_KEYS)
            {
                keys.add(random.nextLong(1_000_000));
            }
            final long[] shuffled = keys.stream().mapToLong(Long::longValue).toArray();
            for (int i = shuffled.length - 1; i > 0; i--)
            {
                final int j = random.nextInt(i + 1);
                final long t = shuffled[i];
                shuffled[i] = shuffled[j];
                shuffled[j] = t;
            }
            final int status = PosixTestSupport.run(system, failure, posix ->
            {
                build(posix, shuffled);
                final Malloc.HeapReport before = posix.heap().check();
                final TreeSet<Long> childKeys = new TreeSet<>(keys);
                final SplittableRandom childRandom = random.split();
                final int child = posix.fork(PosixTestSupport.guarded(failure, c -> child(c, childKeys,
                    childRandom)), mode);
                assertTrue(child > 0, "fork failed: errno " + posix.errno());
                // While the child works: the parent's copy is unchanged and its allocator works.
                assertEquals(LIST_NODES, walkList(posix, i -> i * 3L));
                final List<Capability> scratch = new ArrayList<>();
                for (int i = 0; i < 200; i++)
                {
                    scratch.add(posix.malloc(48 + i));
                }
                for (final Capability p : scratch)
                {
                    posix.free(p);
                }
                final int[] childStatus = new int[1];
                assertEquals(child, posix.waitpid(child, childStatus, 0));
                assertEquals(0, childStatus[0], "child wait status");
                assertEquals(LIST_NODES, walkList(posix, i -> i * 3L));
                assertEquals(new ArrayList<>(keys), keys(posix));
                final Malloc.HeapReport after = posix.heap().check();
                assertEquals(before.chunksInUse(), after.chunksInUse());
                assertEquals(before.bytesInUse(), after.bytesInUse());
                return 0;
            });
            assertEquals(0, status, mode + ": wait status");
        }
    }
}
