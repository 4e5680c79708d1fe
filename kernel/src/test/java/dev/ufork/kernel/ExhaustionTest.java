package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.Geometry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.kernel.ProcessSync.armWakeUp;
import static dev.ufork.kernel.ProcessSync.assertErrno;
import static dev.ufork.kernel.ProcessSync.await;
import static dev.ufork.kernel.ProcessSync.awaitWakeUp;
import static dev.ufork.kernel.ProcessSync.page;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad requests and running out: {@code waitpid} without children, for a non-child or with bad options; fork in a
 * full address space (ENOMEM with nothing changed, and forks work again once memory is freed); spawn with a size that
 * cannot be; and closing a kernel whose µprocesses are still running.
 */
class ExhaustionTest extends KernelTestBase
{
    /** Room for seven 256 KiB areas above the guard, the kernel's entry area and init. */
    private static final long SMALL_SPACE = 2L << 20;


    // ------------------------------------------------------------------------------------------------------------
    // waitpid

    @Test
    void shouldFailWaitpidWithEchildWithoutChildrenOrForAPidThatIsNotAChild()
    {
        final CompletableFuture<Void> siblingReady = new CompletableFuture<>();
        final int sibling = kernel.spawn(AREA, child(ctx ->
        {
            armWakeUp(ctx);
            siblingReady.complete(null);
            awaitWakeUp(ctx);
        }));
        await(siblingReady, "the sibling");
        final CompletableFuture<Integer> grandchild = new CompletableFuture<>();
        runClean("ECHILD", ctx ->
        {
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(-1, 0), "no children, blocking");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(-1, ProcessContext.WNOHANG), "no children, WNOHANG");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(ctx.getpid(), 0), "itself");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(1, 0), "init");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(99_999, 0), "a pid nobody has");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(sibling, 0), "a sibling");
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                grandchild.complete(c.fork(child(ProcessSync::awaitWakeUp)));
                awaitWakeUp(c);
                c.waitpid(-1, 0);
            }));
            final int g = await(grandchild, "the grandchild's pid");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(g, 0), "a grandchild");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(g, ProcessContext.WNOHANG), "a grandchild, WNOHANG");
            ctx.kill(g, Signal.SIGUSR1);
            ctx.kill(child, Signal.SIGUSR1);
            assertEquals(new WaitResult(child, WaitStatus.exited(0)), ctx.waitpid(-1, 0));
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(child, 0), "a reaped child");
        });
        kernel.signal(sibling, Signal.SIGUSR1);
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, sibling, "sibling"), failure, "sibling");
    }

    @Test
    void shouldRefuseUnknownWaitOptionsAndProcessGroupsWithEinvalAndChangeNothing()
    {
        runClean("EINVAL", ctx ->
        {
            // Options are checked before children: EINVAL even with none.
            assertErrno(Errno.EINVAL, () -> ctx.waitpid(-1, 2), "WUNTRACED without children");
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                awaitWakeUp(c);
                c.exit(17);
            }));
            ctx.kill(child, Signal.SIGUSR1);
            // WUNTRACED, WCONTINUED, WNOWAIT, __WALL, nonsense, and WNOHANG mixed with any of them.
            for (final int options : new int[] {2, 8, 0x0100_0000, 0x4000_0000, -1, ProcessContext.WNOHANG | 2})
            {
                assertErrno(Errno.EINVAL, () -> ctx.waitpid(child, options), "options 0x" + Integer.toHexString(
                    options));
            }
            for (final int pid : new int[] {0, -2, Integer.MIN_VALUE})
            {
                assertErrno(Errno.EINVAL, () -> ctx.waitpid(pid, 0), "process group pid " + pid);
            }
            // None of those reaped the child or lost its status.
            assertEquals(new WaitResult(child, WaitStatus.exited(17)), ctx.waitpid(child, 0));
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // a full address space

    /** Nodes of a list in pages 2..4: value {@code i * 7 + 3} at +0, the next node's capability at +16. */
    private static final int NODES = (int)(3 * Geometry.PAGE_SIZE / 32);

    private static void buildList(final ProcessContext ctx)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        Capability next = Capability.NULL;
        for (int i = NODES - 1; i >= 0; i--)
        {
            final Capability node = area.withAddress(area.base() + 2L * Geometry.PAGE_SIZE + i * 32L)
                .setBoundsExact(32);
            memory.storeLong(node, 0, i * 7L + 3);
            memory.storeCapability(node, 16, next);
            next = node;
        }
        ctx.setRegister(1, next);
    }

    private static void checkList(final ProcessContext ctx, final String who)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        Capability node = ctx.register(1);
        int i = 0;
        while (node.isTagged())
        {
            assertTrue(node.base() >= area.base() && node.base() < area.base() + area.length(),
                who + ": node " + i + " outside the area: " + node);
            assertEquals(i * 7L + 3, memory.loadLong(node, 0), who + ": node " + i);
            node = memory.loadCapability(node, 16);
            i++;
        }
        assertEquals(NODES, i, who + ": list length");
    }

    /** Everything a failed fork must leave as it was. */
    private record Snapshot(long checksum, long usedBytes, long liveAreas, long liveProcesses, long forks,
        long pageCopies, long relocated)
    {
        static Snapshot of(final Kernel kernel, final ProcessContext ctx)
        {
            final AddressSpace space = kernel.space();
            final Capability area = ctx.area();
            long copies = 0;
            for (final PageCopyCause cause : PageCopyCause.values())
            {
                copies += kernel.metrics().pageCopies(cause);
            }
            return new Snapshot(TestPrograms.checksum(space, area.base(), area.length()), space.usage().usedBytes(),
                space.liveAreas(), kernel.metrics().liveProcesses(), kernel.metrics().forks(), copies,
                kernel.metrics().capabilitiesRelocated());
        }
    }

    /**
     * Forks until the space is full: the fork that finds no room fails with ENOMEM and changes nothing (the parent's
     * bytes and tags, the space's used bytes and areas, the process count, the counters), the parent and the
     * children forked before keep working with their images, and once a child is reaped forks work again. When all
     * are reaped the space is back to where it started.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldFailForkWithEnomemWhenTheSpaceIsFullAndLeaveEverythingIntact(final CopyMode mode)
    {
        kernel.close();
        kernel = TestPrograms.boot(SMALL_SPACE, AREA, mode);
        final AddressSpace space = kernel.space();
        final long usedAtBoot = space.usage().usedBytes();
        final long areasAtBoot = space.liveAreas();
        runClean(mode + " ENOMEM", ctx ->
        {
            buildList(ctx);
            armWakeUp(ctx);
            final Capability generation = page(ctx, 1);
            final List<Integer> children = new ArrayList<>();
            Snapshot before;
            ErrnoException enomem = null;
            while (true)
            {
                assertTrue(children.size() < SMALL_SPACE / AREA, "forked more children than the space can hold");
                final int index = children.size();
                ctx.memory().storeInt(generation, 0, index);
                before = Snapshot.of(kernel, ctx);
                try
                {
                    children.add(ctx.fork(child(c ->
                    {
                        awaitWakeUp(c);
                        assertEquals(index, c.memory().loadInt(page(c, 1), 0), "the child's generation");
                        checkList(c, "child " + index);
                    })));
                }
                catch (final ErrnoException e)
                {
                    enomem = e;
                    break;
                }
            }
            assertEquals(Errno.ENOMEM, enomem.errno(), enomem.getMessage());
            assertFalse(children.isEmpty(), "the space should hold the parent and some children");
            assertEquals(before, Snapshot.of(kernel, ctx), "a failed fork changed something");
            checkList(ctx, "the parent after ENOMEM");
            // The parent writes pages its children may share: they get their copies as after any fork.
            ctx.memory().storeLong(ctx.register(1), 0, 3);

            // Free one child: a fork fits again, and its child sees the current image.
            ctx.kill(children.get(0), Signal.SIGUSR1);
            assertEquals(new WaitResult(children.get(0), WaitStatus.exited(0)), ctx.waitpid(children.get(0), 0));
            ctx.memory().storeInt(generation, 0, -1);
            final int again = ctx.fork(child(c ->
            {
                assertEquals(-1, c.memory().loadInt(page(c, 1), 0), "the new child's generation");
                checkList(c, "the child forked after ENOMEM");
                c.exit(42);
            }));
            assertEquals(new WaitResult(again, WaitStatus.exited(42)), ctx.waitpid(again, 0));
            for (final int pid : children.subList(1, children.size()))
            {
                ctx.kill(pid, Signal.SIGUSR1);
                final WaitResult r = ctx.waitpid(pid, 0);
                ProcessSync.assertExited(0, r.status(), failure, "child " + pid);
            }
            checkList(ctx, "the parent at the end");
        });
        assertEquals(usedAtBoot, space.usage().usedBytes(), "used bytes after everything is reaped");
        assertEquals(areasAtBoot, space.liveAreas(), "live areas after everything is reaped");
        assertEquals(1, kernel.metrics().liveProcesses());
    }

    /**
     * spawn refuses a size that is not positive with EINVAL, and one that can never fit in the space with ENOMEM
     * (also when rounding it up to a power of two would overflow), without allocating anything.
     */
    @Test
    void shouldRefuseSpawnOfAnImpossibleSize()
    {
        final AddressSpace space = kernel.space();
        final long used = space.usage().usedBytes();
        final long areas = space.liveAreas();
        final Program nothing = ctx ->
        {
        };
        for (final long size : new long[] {0, -1, -AREA, Long.MIN_VALUE})
        {
            assertErrno(Errno.EINVAL, () -> kernel.spawn(size, nothing), "spawn(" + size + ")");
        }
        for (final long size : new long[] {space.size() + 1, 2 * space.size(), 1L << 62, (1L << 62) + 1,
            Long.MAX_VALUE})
        {
            assertErrno(Errno.ENOMEM, () -> kernel.spawn(size, nothing), "spawn(" + size + ")");
        }
        assertEquals(used, space.usage().usedBytes(), "used bytes");
        assertEquals(areas, space.liveAreas(), "live areas");
        assertEquals(1, kernel.metrics().liveProcesses(), "µprocesses");
        // A size that is not a power of two is rounded up, not refused.
        final int pid = kernel.spawn(AREA + 1, ctx -> ctx.exit(ctx.area().length() == 2 * AREA ? 0 : 1));
        assertEquals(WaitStatus.exited(0), TestPrograms.awaitExit(kernel, pid, "rounded spawn"));
    }

    // ------------------------------------------------------------------------------------------------------------
    // close

    /**
     * Closing the kernel kills every µprocess whatever it is doing (pausing, waiting for a child, sleeping, storing
     * in a loop, blocking every signal, forking in a loop) and joins their threads before it unmaps the space, and
     * each is reported killed by SIGKILL. Regression test: a child forked while the kernel closed was neither killed
     * nor joined and ran on into the unmapped space, and a fork refused by the closing kernel ended its µprocess
     * with SIGABRT.
     */
    @Test
    void shouldKillAndJoinEveryRunningProcessWhenTheKernelCloses()
    {
        // Threads of µprocesses that run until the kernel closes, and of children forked (and killed) in a loop.
        final Queue<Thread> running = new ConcurrentLinkedQueue<>();
        final Queue<Thread> forked = new ConcurrentLinkedQueue<>();
        final List<CompletableFuture<Void>> ready = new ArrayList<>();
        final List<Integer> pids = new ArrayList<>();
        final List<TestPrograms.Body> bodies = List.of(
            ctx ->
            {
                while (true)
                {
                    ctx.pause();
                }
            },
            ctx ->
            {
                ctx.fork(child(c ->
                {
                    running.add(Thread.currentThread());
                    while (true)
                    {
                        c.pause();
                    }
                }));
                // The close may kill the child first: then the wait returns, and this waits to be killed in turn.
                ctx.waitpid(-1, 0);
                while (true)
                {
                    ctx.pause();
                }
            },
            ctx -> ctx.sleep(TimeUnit.HOURS.toNanos(1)),
            ctx ->
            {
                final Capability target = page(ctx, 1);
                for (long i = 0; ; i++)
                {
                    ctx.memory().storeLong(target, (i & 511) << 3, i);
                }
            },
            ctx ->
            {
                ctx.sigprocmask(ProcessContext.SIG_SETMASK, -1L);
                while (true)
                {
                    ctx.pause();
                }
            },
            ctx ->
            {
                for (int round = 0; ; round++)
                {
                    final int c = ctx.fork(child(g ->
                    {
                        forked.add(Thread.currentThread());
                        final Capability target = page(g, 1);
                        for (long i = 0; ; i++)
                        {
                            g.memory().storeLong(target, (i & 511) << 3, i);
                        }
                    }));
                    ctx.kill(c, Signal.SIGKILL);
                    ctx.waitpid(c, 0);
                }
            });
        for (final TestPrograms.Body body : bodies)
        {
            final CompletableFuture<Void> started = new CompletableFuture<>();
            ready.add(started);
            pids.add(kernel.spawn(AREA, ctx ->
            {
                running.add(Thread.currentThread());
                started.complete(null);
                try
                {
                    body.run(ctx);
                }
                catch (final ProcessTermination | ErrnoException | IllegalStateException expected)
                {
                    throw expected;
                }
                catch (final Throwable t)
                {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        for (int i = 0; i < ready.size(); i++)
        {
            await(ready.get(i), "µprocess " + i + " to start");
        }
        final AddressSpace space = kernel.space();
        kernel.close();
        assertTrue(kernel.isClosed() && space.isClosed(), "closed");
        for (final Thread t : running)
        {
            assertFalse(t.isAlive(), t + " still runs after close");
        }
        // A child killed and reaped by the loop before the close may still be returning from its thread; it must
        // end, and none may have run on into the unmapped space (that would be an IllegalStateException failure).
        for (final Thread t : forked)
        {
            TestPrograms.awaitCondition(t + " to end", () -> !t.isAlive());
        }
        for (final int pid : pids)
        {
            final int status = TestPrograms.awaitExit(kernel, pid, "µprocess " + pid);
            assertEquals(WaitStatus.signaled(Signal.SIGKILL), status, "µprocess " + pid + ": status 0x"
                + Integer.toHexString(status));
        }
        assertThrows(IllegalStateException.class, () -> kernel.spawn(AREA, ctx ->
        {
        }), "spawn after close");
        ProcessSync.rethrow(failure, "close");
    }
}
