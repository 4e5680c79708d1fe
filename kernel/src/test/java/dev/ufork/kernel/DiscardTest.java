package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.Permissions;
import dev.ufork.memory.Geometry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ProcessContext#discard}: discarded pages read as zero without tags and go back to the OS, neighbours are
 * untouched, and in every copy mode only the caller's view changes: a child that shares the pages keeps the old
 * contents (its capabilities relocated), a parent whose pages the child shares is never touched, and a grandchild
 * reading through the discarding µprocess keeps its view too.
 */
class DiscardTest
{
    private static final long PAGE = Geometry.PAGE_SIZE;
    /** The pages the tests write: 4 pages from here (an offset from the area base). */
    private static final long FIRST = 16 * PAGE;
    private static final int PAGES = 4;

    private Kernel kernel;

    @BeforeEach
    void setUp()
    {
        kernel = TestPrograms.boot(64L << 20, 1 << 20, CopyMode.COPA);
    }

    @AfterEach
    void tearDown()
    {
        kernel.close();
    }

    /** Fills page i of the test range with a pattern and, in its first granule, a capability to page i + 1. */
    private static void fill(final ProcessContext ctx)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        for (int i = 0; i < PAGES; i++)
        {
            final long page = FIRST + i * PAGE;
            for (long at = 16; at < PAGE; at += 8)
            {
                memory.storeLong(area, page + at, pattern(i, at));
            }
            memory.storeCapability(area, page, area.add(FIRST + ((i + 1) % PAGES) * PAGE).setBoundsExact(PAGE));
        }
    }

    private static long pattern(final int page, final long at)
    {
        return (page + 1) * 0x1000_0001L ^ at;
    }

    /** Checks page i holds its pattern and a capability to page i + 1 of this µprocess's own area. */
    private static void checkFilled(final ProcessContext ctx, final int i)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        final long page = FIRST + i * PAGE;
        for (long at = 16; at < PAGE; at += 8)
        {
            if (memory.loadLong(area, page + at) != pattern(i, at))
            {
                throw new AssertionError("page " + i + " +" + at + " holds " + memory.loadLong(area, page + at));
            }
        }
        final Capability link = memory.loadCapability(area, page);
        assertTrue(link.isTagged(), "page " + i + " lost its capability");
        assertEquals(area.base() + FIRST + ((i + 1) % PAGES) * PAGE, link.base(), "page " + i + " link");
        assertEquals(PAGE, link.length());
    }

    /** Checks page i reads as zero with no tag. */
    private static void checkZero(final ProcessContext ctx, final int i)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        final long page = FIRST + i * PAGE;
        for (long at = 0; at < PAGE; at += 8)
        {
            if (memory.loadLong(area, page + at) != 0)
            {
                throw new AssertionError("discarded page " + i + " +" + at + " holds " + memory.loadLong(area,
                    page + at));
            }
        }
        for (long at = 0; at < PAGE; at += 16)
        {
            assertFalse(memory.loadCapability(area, page + at).isTagged(), "tag left in discarded page " + i);
        }
    }

    private static Capability pages(final ProcessContext ctx, final int first, final int count)
    {
        return ctx.area().add(FIRST + first * PAGE).setBoundsExact(count * PAGE);
    }

    @Test
    void shouldZeroPrivatePagesAndGiveThemBack()
    {
        TestPrograms.runClean(kernel, 1 << 20, "private", ctx ->
        {
            fill(ctx);
            final long base = ctx.area().base();
            assertTrue(kernel.space().isResident(base + FIRST + PAGE));
            ctx.discard(pages(ctx, 1, 2), 2 * PAGE);
            // Before reading them: a read maps the zero page, which counts as resident.
            assertFalse(kernel.space().isResident(base + FIRST + PAGE), "discarded page still resident");
            assertFalse(kernel.space().isResident(base + FIRST + 2 * PAGE), "discarded page still resident");
            checkFilled(ctx, 0);
            checkZero(ctx, 1);
            checkZero(ctx, 2);
            checkFilled(ctx, 3);
            // The memory is usable again, and a discard of nothing does nothing.
            ctx.memory().storeLong(ctx.area(), FIRST + PAGE + 8, 99);
            assertEquals(99, ctx.memory().loadLong(ctx.area(), FIRST + PAGE + 8));
            ctx.discard(pages(ctx, 0, 1), 0);
            checkFilled(ctx, 0);
        });
    }

    /** A program that checks the test pages hold what {@link #fill} wrote, after a SIGUSR1 if asked to wait. */
    private static Program reader(final AtomicReference<Throwable> failure, final boolean waitForSignal)
    {
        return TestPrograms.guarded(failure, c ->
        {
            if (waitForSignal)
            {
                assertEquals(Errno.EINTR, assertThrows(ErrnoException.class, c::pause).errno());
            }
            for (int i = 0; i < PAGES; i++)
            {
                checkFilled(c, i);
            }
        });
    }

    private static void awaitClean(final ProcessContext ctx, final int pid, final AtomicReference<Throwable> failure)
    {
        final int status = ctx.waitpid(pid, 0).status();
        if (failure.get() != null)
        {
            throw new AssertionError(failure.get());
        }
        assertEquals(WaitStatus.exited(0), status);
    }

    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldLeaveTheChildItsViewWhenTheParentDiscards(final CopyMode mode)
    {
        TestPrograms.runClean(kernel, 1 << 20, mode.name(), ctx ->
        {
            fill(ctx);
            ctx.sigaction(Signal.SIGUSR1, SignalAction.handle((c, s) ->
            {
            }));
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            // One child reads whenever it gets to run, the other only after the discard: both see the fork instant.
            final int early = ctx.fork(reader(failure, false), mode);
            final int late = ctx.fork(reader(failure, true), mode);
            ctx.discard(pages(ctx, 0, PAGES), PAGES * PAGE);
            for (int i = 0; i < PAGES; i++)
            {
                checkZero(ctx, i);
            }
            ctx.kill(late, Signal.SIGUSR1);
            awaitClean(ctx, early, failure);
            awaitClean(ctx, late, failure);
        });
    }

    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldNotTouchTheParentWhenTheChildDiscards(final CopyMode mode)
    {
        TestPrograms.runClean(kernel, 1 << 20, mode.name(), ctx ->
        {
            fill(ctx);
            ctx.sigaction(Signal.SIGUSR1, SignalAction.handle((c, s) ->
            {
            }));
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final int child = ctx.fork(TestPrograms.guarded(failure, c ->
            {
                // A grandchild forked before the discard reads the pages through the child (COA, COPA), after it.
                final int grandchild = c.fork(reader(failure, true), mode);
                c.discard(pages(c, 1, 2), 2 * PAGE);
                checkFilled(c, 0);
                checkZero(c, 1);
                checkZero(c, 2);
                checkFilled(c, 3);
                // A discarded page is private now: writing it must not reach the parent or the grandchild either.
                c.memory().storeLong(c.area(), FIRST + PAGE + 16, -1);
                c.kill(grandchild, Signal.SIGUSR1);
                awaitClean(c, grandchild, failure);
            }), mode);
            awaitClean(ctx, child, failure);
            for (int i = 0; i < PAGES; i++)
            {
                checkFilled(ctx, i);
            }
        });
    }

    @Test
    void shouldRefuseBadRanges()
    {
        TestPrograms.runClean(kernel, 1 << 20, "bad ranges", ctx ->
        {
            fill(ctx);
            final Capability range = pages(ctx, 0, PAGES);
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> ctx.discard(range.add(8), PAGE))
                .errno());
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> ctx.discard(range, PAGE + 1))
                .errno());
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> ctx.discard(range, -PAGE))
                .errno());
            assertEquals(Errno.EFAULT, assertThrows(ErrnoException.class,
                () -> ctx.discard(range, (PAGES + 1) * PAGE)).errno());
            assertEquals(Errno.EFAULT, assertThrows(ErrnoException.class,
                () -> ctx.discard(range.withTagCleared(), PAGE)).errno());
            assertEquals(Errno.EFAULT, assertThrows(ErrnoException.class,
                () -> ctx.discard(range.andPermissions(Permissions.DATA_READ), PAGE)).errno());
            for (int i = 0; i < PAGES; i++)
            {
                checkFilled(ctx, i);
            }
        });
    }
}
