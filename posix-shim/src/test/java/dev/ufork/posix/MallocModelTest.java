package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.IsolationLevel;
import dev.ufork.kernel.KernelConfig;
import dev.ufork.memory.AddressSpaceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random malloc, calloc, realloc, aligned_alloc and free against a reference model of the live blocks, whose
 * capabilities live in a table in the µprocess's own memory (as a C program's pointers would): after every call the
 * block it touched holds what the model says, and every few hundred calls every block does, no two live blocks
 * overlap, every block's bounds are exactly its request's representable length, and the heap's invariants hold
 * (boundary tags, free lists, bitmaps). The fork variant forks half-way, and parent and child go on with their own
 * random calls on their own copies, each checked against its own copy of the model.
 * <p>
 * Seeded: the seed is in every failure message; replay one with {@code -Dufork.seed=N}.
 */
class MallocModelTest
{
    private static final int SLOTS = 400;
    private static final int OPERATIONS = 4000;
    private static final int FULL_CHECK_EVERY = 400;

    private static long seed(final long fallback)
    {
        final String override = System.getProperty("ufork.seed");
        return override == null || override.isBlank() ? fallback : Long.parseLong(override.trim());
    }

    private static PosixSystem boot(final CopyMode mode, final Path root)
    {
        final KernelConfig kernel = new KernelConfig(AddressSpaceConfig.ofSize(256L << 20), mode, 16 << 20,
            IsolationLevel.ADVERSARIAL);
        return PosixSystem.boot(PosixConfig.of(kernel, root));
    }

    /**
     * What one µprocess believes about its blocks: per table slot, the block's offset from the area base (−1 if the
     * slot is empty), its length, the stamp its bytes were written with, and the offset of the block whose
     * capability it holds at +16 (−1 if none).
     */
    private static final class Model
    {
        final long[] offset = new long[SLOTS];
        final long[] length = new long[SLOTS];
        final long[] stamp = new long[SLOTS];
        final long[] pointsTo = new long[SLOTS];

        Model()
        {
            Arrays.fill(offset, -1);
        }

        Model copy()
        {
            final Model m = new Model();
            System.arraycopy(offset, 0, m.offset, 0, SLOTS);
            System.arraycopy(length, 0, m.length, 0, SLOTS);
            System.arraycopy(stamp, 0, m.stamp, 0, SLOTS);
            System.arraycopy(pointsTo, 0, m.pointsTo, 0, SLOTS);
            return m;
        }
    }

    /** One µprocess's run of random calls. */
    private static final class Runner
    {
        private final Posix posix;
        private final CapabilityMemory memory;
        private final Capability table;
        private final Model model;
        private final SplittableRandom random;
        private final long base;
        private long nextStamp;

        Runner(final Posix posix, final Capability table, final Model model, final SplittableRandom random,
            final long firstStamp)
        {
            this.posix = posix;
            this.memory = posix.memory();
            this.table = table;
            this.model = model;
            this.random = random;
            this.base = posix.area().base();
            this.nextStamp = firstStamp;
        }

        long size()
        {
            final int kind = random.nextInt(100);
            if (kind < 70)
            {
                return random.nextLong(257);
            }
            if (kind < 90)
            {
                return 257 + random.nextLong(4096 - 257);
            }
            if (kind < 98)
            {
                return 4096 + random.nextLong(32 << 10);
            }
            return (32 << 10) + random.nextLong(200_000);
        }

        void run(final int operations)
        {
            for (int i = 0; i < operations; i++)
            {
                step(i);
                if (i % FULL_CHECK_EVERY == FULL_CHECK_EVERY - 1)
                {
                    checkAll();
                }
            }
            checkAll();
        }

        private void step(final int i)
        {
            final int slot = random.nextInt(SLOTS);
            final Capability p = memory.loadCapability(table, slot * 16L);
            if (model.offset[slot] < 0)
            {
                assertTrue(!p.isTagged(), "op " + i + ": empty slot " + slot + " holds " + p);
                final long n = size();
                final int how = random.nextInt(4);
                final Capability q;
                long alignment = 16;
                switch (how)
                {
                    case 0 -> q = posix.malloc(n);
                    case 1 ->
                    {
                        final long count = 1 + random.nextLong(8);
                        q = posix.calloc(count, n / count);
                        assertZero(q, "op " + i + ": calloc");
                    }
                    case 2 ->
                    {
                        alignment = 1L << (4 + random.nextInt(9));
                        q = posix.aligned_alloc(alignment, n);
                    }
                    default -> q = posix.realloc(Capability.NULL, n);
                }
                final long asked = how == 1 ? q.length() : n;
                checkFresh(q, asked, alignment, "op " + i + ": allocation " + how + " of " + n);
                fill(slot, q);
            }
            else
            {
                check(slot, p, model.length[slot], "op " + i + ": before");
                if (random.nextInt(3) == 0)
                {
                    final long n = size();
                    final Capability q = posix.realloc(p, n);
                    if (n == 0)
                    {
                        assertTrue(!q.isTagged(), "op " + i + ": realloc to 0 returned " + q);
                        empty(slot);
                        return;
                    }
                    checkFresh(q, n, 16, "op " + i + ": realloc of " + p + " to " + n);
                    // The prefix survives, the capability at +16 with its tag.
                    final long kept = Math.min(model.length[slot], q.length());
                    model.offset[slot] = q.address() - base;
                    check(slot, q, kept, "op " + i + ": after realloc");
                    fill(slot, q);
                }
                else
                {
                    posix.free(p);
                    empty(slot);
                }
            }
        }

        private void empty(final int slot)
        {
            model.offset[slot] = -1;
            memory.storeCapability(table, slot * 16L, Capability.NULL);
        }

        private void checkFresh(final Capability q, final long asked, final long alignment, final String what)
        {
            assertTrue(q.isTagged(), what + " failed: errno " + posix.errno());
            assertEquals(q.base(), q.address(), what);
            assertEquals(Capability.representableLength(asked), q.length(), what + ": length");
            assertEquals(0, q.address() % alignment, what + ": alignment");
        }

        private void assertZero(final Capability q, final String what)
        {
            for (long at = 0; at + 8 <= q.length(); at += 8)
            {
                if (memory.loadLong(q, at) != 0)
                {
                    throw new AssertionError(what + ": byte " + at + " of " + q + " is not zero");
                }
            }
        }

        /** Writes the slot's pattern: bytes at the start and the end, and a capability to the block at +16. */
        private void fill(final int slot, final Capability q)
        {
            final long stamp = nextStamp++;
            model.offset[slot] = q.address() - base;
            model.length[slot] = q.length();
            model.stamp[slot] = stamp;
            model.pointsTo[slot] = -1;
            forEachPatternByte(q.length(), at -> memory.storeByte(q, at, patternByte(stamp, at)));
            if (q.length() >= 32)
            {
                memory.storeCapability(q, 16, q);
                model.pointsTo[slot] = model.offset[slot];
            }
            memory.storeCapability(table, slot * 16L, q);
        }

        /** Checks the first {@code upTo} bytes of the slot's pattern in {@code p}. */
        private void check(final int slot, final Capability p, final long upTo, final String what)
        {
            assertTrue(p.isTagged(), what + ": slot " + slot + " lost its tag");
            assertEquals(model.offset[slot], p.address() - base, what + ": slot " + slot + " moved");
            final long stamp = model.stamp[slot];
            forEachPatternByte(model.length[slot], at ->
            {
                if (at < upTo && memory.loadByte(p, at) != patternByte(stamp, at))
                {
                    throw new AssertionError(what + ": slot " + slot + " byte " + at + " of " + p);
                }
            });
            if (model.pointsTo[slot] >= 0 && upTo >= 32)
            {
                final Capability inner = memory.loadCapability(p, 16);
                assertTrue(inner.isTagged(), what + ": slot " + slot + " lost the capability inside");
                assertEquals(model.pointsTo[slot], inner.base() - base, what + ": slot " + slot + " inner base");
            }
        }

        /** Every live block holds its pattern; none overlap; the heap's invariants hold. */
        void checkAll()
        {
            int live = 0;
            final long[][] ranges = new long[SLOTS][];
            for (int slot = 0; slot < SLOTS; slot++)
            {
                final Capability p = memory.loadCapability(table, slot * 16L);
                if (model.offset[slot] >= 0)
                {
                    check(slot, p, model.length[slot], "full check");
                    assertEquals(model.length[slot], p.length());
                    ranges[live++] = new long[] {p.base(), p.top()};
                }
            }
            final long[][] sorted = Arrays.copyOf(ranges, live);
            Arrays.sort(sorted, (a, b) -> Long.compare(a[0], b[0]));
            for (int i = 1; i < live; i++)
            {
                assertTrue(sorted[i - 1][1] <= sorted[i][0], "blocks overlap: [0x" + Long.toHexString(sorted[i - 1][0])
                    + ", 0x" + Long.toHexString(sorted[i - 1][1]) + ") and 0x" + Long.toHexString(sorted[i][0]));
            }
            // Plus the table itself.
            assertEquals(live + 1, posix.heap().check().chunksInUse());
        }

        void freeAll()
        {
            for (int slot = 0; slot < SLOTS; slot++)
            {
                if (model.offset[slot] >= 0)
                {
                    posix.free(memory.loadCapability(table, slot * 16L));
                    empty(slot);
                }
            }
            assertEquals(1, posix.heap().check().chunksInUse());
        }
    }

    @FunctionalInterface
    private interface ByteVisitor
    {
        void at(long offset);
    }

    private static void forEachPatternByte(final long length, final ByteVisitor visitor)
    {
        for (long at = 0; at < Math.min(length, 16); at++)
        {
            visitor.at(at);
        }
        for (long at = 32; at < Math.min(length, 96); at++)
        {
            visitor.at(at);
        }
        for (long at = Math.max(96, length - 64); at < length; at++)
        {
            visitor.at(at);
        }
    }

    private static byte patternByte(final long stamp, final long at)
    {
        return (byte)((stamp * 0x9E3779B97F4A7C15L + at * 0x632BE59BD9B4E019L) >>> 56);
    }

    private static void runModel(final CopyMode mode, final long seed, final boolean fork, final Path root)
    {
        final String context = "seed=" + seed + " mode=" + mode + " (replay with -Dufork.seed=" + seed + ")";
        try (PosixSystem system = boot(mode, root))
        {
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final int status = PosixTestSupport.run(system, failure, posix ->
            {
                final Capability table = posix.calloc(SLOTS, 16);
                final Model model = new Model();
                final Runner parent = new Runner(posix, table, model, new SplittableRandom(seed), 0);
                parent.run(OPERATIONS / 2);
                if (!fork)
                {
                    parent.run(OPERATIONS / 2);
                    parent.freeAll();
                    return 0;
                }
                final Model childModel = model.copy();
                final long parentBase = posix.area().base();
                final int child = posix.fork(PosixTestSupport.guarded(failure, c ->
                {
                    // The table's capability, like every pointer, is where the child's memory says.
                    final Capability childTable = c.area().withAddress(c.area().base() + table.address() - parentBase)
                        .setBoundsExact(table.length());
                    final Runner runner = new Runner(c, childTable, childModel,
                        new SplittableRandom(seed ^ 0x5DEECE66DL), 1L << 40);
                    runner.checkAll();
                    runner.run(OPERATIONS / 2);
                    runner.freeAll();
                    return 0;
                }), mode);
                assertTrue(child > 0, "fork failed: errno " + posix.errno());
                parent.run(OPERATIONS / 2);
                final int[] childStatus = new int[1];
                assertEquals(child, posix.waitpid(child, childStatus, 0));
                assertEquals(0, childStatus[0], "child wait status");
                parent.checkAll();
                parent.freeAll();
                return 0;
            });
            assertEquals(0, status, context + ": wait status");
        }
        catch (final AssertionError | RuntimeException e)
        {
            throw new AssertionError(context + ": " + e.getMessage(), e);
        }
    }

    @Test
    void shouldMatchTheModel(@TempDir final Path root)
    {
        runModel(CopyMode.COPA, seed(0x5EED_0001L), false, root);
    }

    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldMatchTheModelInParentAndChildAfterAFork(final CopyMode mode, @TempDir final Path root)
    {
        runModel(mode, seed(0x5EED_0002L + mode.ordinal()), true, root);
    }
}
