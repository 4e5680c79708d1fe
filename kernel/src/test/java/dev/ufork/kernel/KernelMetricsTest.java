package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.memory.Geometry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.kernel.ProcessSync.armWakeUp;
import static dev.ufork.kernel.ProcessSync.await;
import static dev.ufork.kernel.ProcessSync.awaitWakeUp;
import static dev.ufork.kernel.ProcessSync.page;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's counters, against situations built to move them by exact amounts: forks, page copies by cause in
 * each copy mode (PARENT_WRITE, CHILD_WRITE, CHILD_CAPABILITY_LOAD, ACCESS, EAGER, SOURCE_EXIT), capabilities
 * relocated, and per-µprocess private and proportional memory.
 * <p>
 * The counters are the kernel's, not the µprocess's, so each scenario runs alone in a fresh kernel, and µprocesses
 * take turns (one pauses while the other acts), so every delta belongs to the step that is checked.
 */
class KernelMetricsTest extends KernelTestBase
{
    private static final long PAGE = Geometry.PAGE_SIZE;
    /** Capabilities in the register file that point into the area: AREA and ENTRIES (the entries are the kernel's). */
    private static final int REGISTER_FILE_CAPABILITIES = 2;
    /** Capabilities on page 1, each pointing into page 2. */
    private static final int K = 8;
    /** Where the pages' data values are: clear of the capabilities at the start of pages 6 and 7. */
    private static final long DATA = 32;
    /**
     * The pages {@link #touchPages} leaves resident: the register file and pages 1..7. Eager copies skip the others,
     * which read zero on both sides.
     */
    private static final int TOUCHED_PAGES = 8;


    /** The counters at one instant. */
    private record Counters(Map<PageCopyCause, Long> copies, long relocated, long forks)
    {
        static Counters of(final Kernel kernel)
        {
            final Map<PageCopyCause, Long> copies = new EnumMap<>(PageCopyCause.class);
            for (final PageCopyCause cause : PageCopyCause.values())
            {
                copies.put(cause, kernel.metrics().pageCopies(cause));
            }
            return new Counters(copies, kernel.metrics().capabilitiesRelocated(), kernel.metrics().forks());
        }
    }

    /**
     * Runs {@code op} and checks that it copied exactly {@code pages} pages for {@code cause} (none if it is null),
     * nothing for any other cause, and relocated exactly {@code relocated} capabilities.
     */
    private void step(final String what, final PageCopyCause cause, final int pages, final long relocated,
        final Runnable op)
    {
        final Counters before = Counters.of(kernel);
        op.run();
        final Counters after = Counters.of(kernel);
        for (final PageCopyCause c : PageCopyCause.values())
        {
            assertEquals(c == cause ? pages : 0, after.copies().get(c) - before.copies().get(c),
                what + ": pages copied for " + c);
        }
        assertEquals(relocated, after.relocated() - before.relocated(), what + ": capabilities relocated");
    }

    /** @return {@code copa} under COPA, {@code coa} under COA, null (no copy) under COPY. */
    private static PageCopyCause lazy(final CopyMode mode, final PageCopyCause copa, final PageCopyCause coa)
    {
        return switch (mode)
        {
            case COPY -> null;
            case COPA -> copa;
            case COA -> coa;
        };
    }

    /**
     * Fills pages 1..7: page 1 holds {@link #K} capabilities into page 2, pages 6 and 7 one each (at offset 0), and
     * pages 2..7 the value {@code 1000 + page} at {@link #DATA}.
     */
    private static void touchPages(final ProcessContext ctx)
    {
        final CapabilityMemory memory = ctx.memory();
        for (int p = 2; p <= 7; p++)
        {
            memory.storeLong(page(ctx, p), DATA, 1000 + p);
        }
        final Capability target = page(ctx, 2);
        for (int i = 0; i < K; i++)
        {
            memory.storeCapability(page(ctx, 1), 16L * i, target.add(16L * i).setBoundsExact(16));
        }
        memory.storeCapability(page(ctx, 6), 0, target);
        memory.storeCapability(page(ctx, 7), 0, target);
    }

    // ------------------------------------------------------------------------------------------------------------
    // page copies and relocations by cause

    /**
     * One fork, then one access at a time by the child and then by the parent, each checked for exactly the copies
     * (and relocations) its cause predicts in this mode: COPY copies everything at the fork (but the pages nobody
     * ever touched, which read zero on both sides) and never again; COPA
     * copies on writes by either side and on the child's capability loads (also a data load of a capability's
     * bytes), not on plain data reads nor the parent's capability loads; COA copies on any access, and a parent's
     * write is still a PARENT_WRITE. A page copied once is never copied again.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldCountEachPageCopyUnderItsCauseInEveryCopyMode(final CopyMode mode)
    {
        final String context = mode + " page copies";
        final int pid = kernel.spawn(AREA, child(ctx ->
        {
            touchPages(ctx);
            armWakeUp(ctx);
            final CapabilityMemory memory = ctx.memory();
            final int[] child = new int[1];
            // Up to the child running its program: under COA and COPA the child copies its register page itself,
            // before its program runs, and that copy belongs to the fork.
            step(context + ": fork", PageCopyCause.EAGER, mode == CopyMode.COPY ? TOUCHED_PAGES : 1,
                REGISTER_FILE_CAPABILITIES + (mode == CopyMode.COPY ? K + 2 : 0), () ->
            {
                child[0] = ctx.fork(child(c ->
                {
                    // Say it runs, then wait until the parent has checked the fork's counts.
                    c.kill(c.getppid(), Signal.SIGUSR1);
                    awaitWakeUp(c);
                    final CapabilityMemory m = c.memory();
                    step(context + ": child reads data", lazy(mode, null, PageCopyCause.ACCESS), 1, 0,
                        () -> assertEquals(1002, m.loadLong(page(c, 2), DATA)));
                    step(context + ": child loads a capability", lazy(mode, PageCopyCause.CHILD_CAPABILITY_LOAD,
                        PageCopyCause.ACCESS), 1, mode == CopyMode.COPY ? 0 : K,
                        () -> assertEquals(page(c, 2).base(), m.loadCapability(page(c, 1), 0).base()));
                    step(context + ": child writes", lazy(mode, PageCopyCause.CHILD_WRITE, PageCopyCause.CHILD_WRITE),
                        1, 0, () -> m.storeLong(page(c, 3), 0, 1));
                    step(context + ": child reads a capability's bytes as data", lazy(mode,
                        PageCopyCause.CHILD_CAPABILITY_LOAD, PageCopyCause.ACCESS), 1, mode == CopyMode.COPY ? 0 : 1,
                        () -> assertEquals(page(c, 2).address(), m.loadLong(page(c, 6), 0)));
                    step(context + ": child touches its copies again", null, 0, 0, () ->
                    {
                        m.storeLong(page(c, 3), 8, 2);
                        m.loadLong(page(c, 2), 16);
                        m.loadCapability(page(c, 1), 16);
                    });
                    c.kill(c.getppid(), Signal.SIGUSR1);
                    while (true)
                    {
                        awaitWakeUp(c);
                    }
                }), mode);
                awaitWakeUp(ctx);
            });
            assertEquals(1, kernel.metrics().forks(), context);
            ctx.kill(child[0], Signal.SIGUSR1);
            // The child's turn; then the parent's.
            awaitWakeUp(ctx);
            step(context + ": parent writes a shared page", lazy(mode, PageCopyCause.PARENT_WRITE,
                PageCopyCause.PARENT_WRITE), 1, 0, () -> memory.storeLong(page(ctx, 4), 0, 1));
            step(context + ": parent writes a page the child has copied", null, 0, 0,
                () -> memory.storeLong(page(ctx, 3), 16, 1));
            step(context + ": parent writes that page again", null, 0, 0, () -> memory.storeLong(page(ctx, 4), 8, 1));
            step(context + ": parent reads data", lazy(mode, null, PageCopyCause.ACCESS), 1, 0,
                () -> assertEquals(1005, memory.loadLong(page(ctx, 5), DATA)));
            step(context + ": parent loads a capability the child has copied", null, 0, 0,
                () -> memory.loadCapability(page(ctx, 1), 0));
            step(context + ": parent loads a capability", lazy(mode, null, PageCopyCause.ACCESS), 1,
                mode == CopyMode.COA ? 1 : 0, () -> memory.loadCapability(page(ctx, 7), 0));
            step(context + ": parent reads a page the child has read", null, 0, 0, () -> memory.loadLong(page(ctx, 2),
                8));
            step(context + ": kill and reap", null, 0, 0, () ->
            {
                ctx.kill(child[0], Signal.SIGTERM);
                assertEquals(WaitStatus.signaled(Signal.SIGTERM), ctx.waitpid(child[0], 0).status());
            });
        }));
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, pid, context), failure, context);
        ProcessSync.rethrow(failure, context);
    }

    /**
     * A source reaped while its child still shares pages: the child gets every page it has not copied yet, each
     * touched one counted once as SOURCE_EXIT with its capabilities relocated (the never-touched ones are zero on
     * both sides, and are not copied), and its image is intact afterwards.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldCountSourceExitCopiesWhenTheParentIsReapedFirst(final CopyMode mode)
    {
        final String context = mode + " source exit";
        final CompletableFuture<Integer> childPid = new CompletableFuture<>();
        final CompletableFuture<Integer> sum = new CompletableFuture<>();
        final int parent = kernel.spawn(AREA, child(ctx ->
        {
            touchPages(ctx);
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                c.memory().storeLong(page(c, 3), DATA, 3);
                c.kill(c.getppid(), Signal.SIGUSR1);
                awaitWakeUp(c);
                final CapabilityMemory m = c.memory();
                int total = 0;
                for (int p = 2; p <= 7; p++)
                {
                    total += (int)m.loadLong(page(c, p), DATA);
                }
                for (int i = 0; i < K; i++)
                {
                    assertEquals(page(c, 2).base() + 16L * i, m.loadCapability(page(c, 1), 16L * i).base());
                }
                assertEquals(page(c, 2).base(), m.loadCapability(page(c, 7), 0).base());
                assertEquals(1, c.getppid());
                sum.complete(total);
            }), mode);
            // The child's write, then the test thread's go-ahead to exit.
            awaitWakeUp(ctx);
            childPid.complete(child);
            awaitWakeUp(ctx);
        }));
        final int child = await(childPid, context + ": fork and the child's write");
        final Counters before = Counters.of(kernel);
        kernel.signal(parent, Signal.SIGUSR1);
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, parent, context), failure, context);
        final Counters after = Counters.of(kernel);
        // The register page and page 3 are the child's own already, and untouched pages are not copied.
        final long expected = mode == CopyMode.COPY ? 0 : TOUCHED_PAGES - 2;
        for (final PageCopyCause c : PageCopyCause.values())
        {
            assertEquals(c == PageCopyCause.SOURCE_EXIT ? expected : 0, after.copies().get(c) - before.copies().get(c),
                context + ": pages copied for " + c + " by the parent's reaping");
        }
        assertEquals(mode == CopyMode.COPY ? 0 : K + 2, after.relocated() - before.relocated(),
            context + ": capabilities relocated");
        kernel.signal(child, Signal.SIGUSR1);
        assertEquals(1002 + 3 + 1004 + 1005 + 1006 + 1007, await(sum, context + ": the child's image").intValue());
        TestPrograms.awaitLiveProcesses(kernel, 1, context);
        ProcessSync.rethrow(failure, context);
        final Counters end = Counters.of(kernel);
        assertEquals(after.copies(), end.copies(), context + ": the orphan had nothing left to copy");
    }

    // ------------------------------------------------------------------------------------------------------------
    // memory per µprocess

    /**
     * A parent with {@code N} touched pages and {@code k} children that have not written: each of them is charged its
     * own register page plus {@code N/(k+1)} of the shared pages; once one child writes a page, that page is its
     * own and the others split it {@code k} ways. The proportional sizes add up to what is resident.
     */
    @ParameterizedTest
    @EnumSource(value = CopyMode.class, names = {"COPA", "COA"})
    void shouldChargeSharedPagesProportionallyToTheirSharers(final CopyMode mode)
    {
        final int touched = 12;
        final int children = 3;
        final String context = mode + " proportional memory";
        final CompletableFuture<List<Integer>> forked = new CompletableFuture<>();
        final CompletableFuture<Void> written = new CompletableFuture<>();
        final int parent = kernel.spawn(AREA, child(ctx ->
        {
            for (int p = 1; p <= touched; p++)
            {
                ctx.memory().storeLong(page(ctx, p), 0, p);
            }
            armWakeUp(ctx);
            final List<Integer> pids = new ArrayList<>();
            for (int i = 0; i < children; i++)
            {
                pids.add(ctx.fork(child(c ->
                {
                    c.kill(c.getppid(), Signal.SIGUSR1);
                    awaitWakeUp(c);
                    c.memory().storeLong(page(c, 1), 8, 1);
                    written.complete(null);
                    awaitWakeUp(c);
                }), mode));
                // A child copies its register page as it starts, before its program runs: count once it says it runs.
                awaitWakeUp(ctx);
            }
            forked.complete(pids);
            awaitWakeUp(ctx);
            for (final int pid : pids)
            {
                ctx.kill(pid, Signal.SIGKILL);
                ctx.waitpid(pid, 0);
            }
        }));
        final List<Integer> pids = await(forked, context + ": forks");
        final KernelMetrics metrics = kernel.metrics();
        final double shared = (double)touched * PAGE / (children + 1);
        assertEquals((touched + 1) * PAGE, metrics.privateBytes(parent), context + ": the parent's private bytes");
        assertClose(PAGE + shared, metrics.proportionalBytes(parent), context + ": the parent's share");
        long total = metrics.proportionalBytes(parent);
        for (final int pid : pids)
        {
            assertEquals(PAGE, metrics.privateBytes(pid), context + ": child " + pid + "'s private bytes");
            assertClose(PAGE + shared, metrics.proportionalBytes(pid), context + ": child " + pid + "'s share");
            total += metrics.proportionalBytes(pid);
        }
        assertClose((touched + 1 + children) * PAGE, total, context + ": the shares add up to what is resident");

        // The first child writes page 1: it is its own now, and the other three split it.
        kernel.signal(pids.get(0), Signal.SIGUSR1);
        await(written, context + ": the child's write");
        final double rest = (double)(touched - 1) * PAGE / (children + 1);
        assertEquals(2 * PAGE, metrics.privateBytes(pids.get(0)), context + ": the writer's private bytes");
        assertClose(2 * PAGE + rest, metrics.proportionalBytes(pids.get(0)), context + ": the writer's share");
        assertClose(PAGE + rest + (double)PAGE / children, metrics.proportionalBytes(parent),
            context + ": the parent's share");
        assertClose(PAGE + rest + (double)PAGE / children, metrics.proportionalBytes(pids.get(1)),
            context + ": another child's share");

        kernel.signal(parent, Signal.SIGUSR1);
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, parent, context), failure, context);
        ProcessSync.rethrow(failure, context);
        assertEquals(children, metrics.forks());
    }

    private static void assertClose(final double expected, final long actual, final String what)
    {
        assertTrue(Math.abs(expected - actual) <= 1, what + ": expected " + expected + " bytes, was " + actual);
    }
}
