package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Races the copy-on-write engine on purpose: a parent rewrites the very pages its children are reading (and faulting
 * in) at that moment, forks again while they run, and children fork grandchildren that read through two levels of
 * sharing. Every child knows the value its pages held at its fork and checks each read against it, so a torn page,
 * a parent write leaking into a child, or a lost child write shows up as a wrong value.
 * <p>
 * Each page holds one value in all of its 512 words, written word by word, so a read that overlaps a parent's
 * rewrite sees a mixture. One granule per page holds a capability to the page itself, which every child loads back:
 * it must point into the child's own copy.
 */
class ForkConcurrencyTest
{
    private static final long AREA = 256 << 10;
    private static final int PAGES = 8;
    /** Page 1: page 0 holds the register file. */
    private static final long FIRST = 4096;
    private static final int ROUNDS = 80;
    private static final int READS = 64;

    /** Writes {@code value} into every word of page {@code page} but the first granule, which holds a self-pointer. */
    private static void fillPage(final ProcessContext ctx, final int page, final long value)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        final long at = FIRST + (long)page * 4096;
        memory.storeCapability(area, at, area.withAddress(area.base() + at).setBoundsExact(4096));
        for (long off = 16; off < 4096; off += 8)
        {
            memory.storeLong(area, at + off, value);
        }
    }

    /** Checks a page as the child sees it: every word {@code value}, the self-pointer into the child's copy. */
    private static void checkPage(final ProcessContext ctx, final int page, final long value, final boolean loadCap)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        final long at = FIRST + (long)page * 4096;
        // Word by word, as a program reads: each load goes through the sharing check on its own.
        for (long off = 16; off < 4096; off += 8)
        {
            final long word = memory.loadLong(area, at + off);
            if (word != value)
            {
                throw new AssertionError("µprocess " + ctx.getpid() + " page " + page + " offset " + off
                    + ": 0x" + Long.toHexString(word) + ", expected 0x" + Long.toHexString(value));
            }
        }
        if (loadCap)
        {
            final Capability self = memory.loadCapability(area, at);
            if (!self.isTagged() || self.base() != area.base() + at || self.length() != 4096)
            {
                throw new AssertionError("µprocess " + ctx.getpid() + " page " + page + " self-pointer " + self
                    + " not into its own copy at 0x" + Long.toHexString(area.base() + at));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = CopyMode.class, names = {"COPA", "COA", "COPY"})
    void parentRewritingPagesWhileChildrenReadThemNeverLeaksOrTears(final CopyMode mode)
    {
        final long seed = TestPrograms.seed(0xC0CC_0001L + mode.ordinal());
        final String context = mode + " " + TestPrograms.replay(seed);
        try (Kernel kernel = TestPrograms.boot(64L << 20, AREA, mode))
        {
            TestPrograms.runClean(kernel, AREA, context, ctx ->
            {
                final java.util.SplittableRandom random = TestPrograms.random(seed);
                final AtomicReference<Throwable> childFailure = new AtomicReference<>();
                final long[] values = new long[PAGES];
                for (int page = 0; page < PAGES; page++)
                {
                    values[page] = random.nextLong();
                    fillPage(ctx, page, values[page]);
                }
                final List<Integer> children = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++)
                {
                    final long[] atFork = values.clone();
                    final boolean grandchild = round % 4 == 0;
                    // Test plumbing, not program state: lets the parent start writing while the child is reading.
                    final CountDownLatch reading = new CountDownLatch(1);
                    final CountDownLatch written = new CountDownLatch(1);
                    children.add(ctx.fork(TestPrograms.guarded(childFailure, c ->
                    {
                        int grand = -1;
                        for (int read = 0; read < READS || written.getCount() != 0; read++)
                        {
                            if (read == PAGES)
                            {
                                reading.countDown();
                            }
                            final int page = read % PAGES;
                            checkPage(c, page, atFork[page], read % 5 == 0);
                            if (grandchild && read == READS / 2)
                            {
                                // A grandchild reads through two levels of sharing while both ancestors write.
                                final long[] atGrandFork = atFork.clone();
                                grand = c.fork(TestPrograms.guarded(childFailure, g ->
                                {
                                    for (int r = 0; r < READS; r++)
                                    {
                                        checkPage(g, r % PAGES, atGrandFork[r % PAGES], r % 7 == 0);
                                    }
                                }), mode);
                            }
                            if (read % 9 == 0)
                            {
                                // The child's own write must stay its own.
                                fillPage(c, (page + 3) % PAGES, ~atFork[(page + 3) % PAGES]);
                                atFork[(page + 3) % PAGES] = ~atFork[(page + 3) % PAGES];
                            }
                        }
                        if (grand > 0)
                        {
                            assertEquals(WaitStatus.exited(0), c.waitpid(grand, 0).status());
                        }
                    }), mode));
                    // The parent rewrites pages while the child reads them in place (COPA) or faults them in.
                    while (reading.getCount() != 0 && childFailure.get() == null)
                    {
                        Thread.onSpinWait();
                    }
                    for (int w = 0; w < PAGES; w++)
                    {
                        final int page = random.nextInt(PAGES);
                        values[page] = random.nextLong();
                        fillPage(ctx, page, values[page]);
                    }
                    written.countDown();
                    while (children.size() > 3)
                    {
                        final WaitResult result = ctx.waitpid(children.remove(0), 0);
                        if (childFailure.get() != null)
                        {
                            throw new AssertionError(childFailure.get());
                        }
                        assertEquals(WaitStatus.exited(0), result.status(), "child " + result.pid());
                    }
                }
                for (final int child : children)
                {
                    assertEquals(WaitStatus.exited(0), ctx.waitpid(child, 0).status(), "child " + child);
                }
                if (childFailure.get() != null)
                {
                    throw new AssertionError(childFailure.get());
                }
                for (int page = 0; page < PAGES; page++)
                {
                    checkPage(ctx, page, values[page], true);
                }
            });
        }
    }
}
