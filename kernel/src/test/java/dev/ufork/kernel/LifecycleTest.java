package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.AddressSpaceConfig;
import dev.ufork.memory.Geometry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.kernel.ProcessSync.armWakeUp;
import static dev.ufork.kernel.ProcessSync.assertErrno;
import static dev.ufork.kernel.ProcessSync.await;
import static dev.ufork.kernel.ProcessSync.awaitWakeUp;
import static dev.ufork.kernel.ProcessSync.page;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The life of a µprocess: exit statuses and their POSIX encoding, blocking and non-blocking {@code waitpid}, zombies
 * that stay until reaped, orphans adopted and reaped by init, the area of a reaped µprocess given back (to the warm
 * cache, and beyond its limit to the OS), many children exiting in any order, and forks of forks.
 */
class LifecycleTest extends KernelTestBase
{
    private static final int PAGES = (int)(AREA >>> Geometry.PAGE_SHIFT);


    // ------------------------------------------------------------------------------------------------------------
    // exit and wait

    @Test
    void shouldReapChildrenWithTheirExitStatusesWhenWaitingForOnePidOrForAny()
    {
        runClean("exit/waitpid", ctx ->
        {
            final int three = ctx.fork(child(c -> c.exit(3)));
            final int twoHundred = ctx.fork(child(c -> c.exit(200)));
            final int returned = ctx.fork(child(c ->
            {
            }));
            final int wide = ctx.fork(child(c -> c.exit(0x1234)));
            // A wait for one pid takes that child, whichever of the others has exited first.
            assertEquals(new WaitResult(twoHundred, WaitStatus.exited(200)), ctx.waitpid(twoHundred, 0));
            final Map<Integer, Integer> expected = new HashMap<>(Map.of(three, WaitStatus.exited(3), returned,
                WaitStatus.exited(0), wide, WaitStatus.exited(0x34)));
            final Map<Integer, Integer> reaped = new HashMap<>();
            for (int i = 0; i < 3; i++)
            {
                final WaitResult r = ctx.waitpid(-1, 0);
                assertTrue(expected.containsKey(r.pid()), "waitpid(-1) returned " + r);
                assertNull(reaped.put(r.pid(), r.status()), "reaped twice: " + r);
            }
            assertEquals(expected, reaped, "wait statuses (returning is exit(0); exit keeps the low 8 bits)");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(-1, 0), "all children reaped");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(three, 0), "a reaped child");
        });
        assertEquals(4, kernel.metrics().forks());
    }

    @Test
    void shouldEncodeWaitStatusesAsLinuxDoes()
    {
        for (int status = 0; status < 256; status++)
        {
            final int w = WaitStatus.exited(status);
            assertEquals(status << 8, w, "exited(" + status + ")");
            assertTrue(WaitStatus.ifExited(w), "WIFEXITED of exited(" + status + ")");
            assertFalse(WaitStatus.ifSignaled(w), "WIFSIGNALED of exited(" + status + ")");
            assertEquals(status, WaitStatus.exitStatus(w), "WEXITSTATUS");
        }
        assertEquals(WaitStatus.exited(0x34), WaitStatus.exited(0x1234), "_exit keeps the low 8 bits");
        assertEquals(WaitStatus.exited(255), WaitStatus.exited(-1), "_exit(-1) is 255");
        for (final Signal signal : Signal.values())
        {
            final int w = WaitStatus.signaled(signal);
            assertEquals(signal.number(), w, "signaled(" + signal + ")");
            assertTrue(WaitStatus.ifSignaled(w), "WIFSIGNALED of " + signal);
            assertFalse(WaitStatus.ifExited(w), "WIFEXITED of " + signal);
            assertEquals(signal.number(), WaitStatus.termSignal(w), "WTERMSIG of " + signal);
        }
        // Linux's macros: 0x7f in the low bits is "stopped", which is neither exited nor signaled; 0x80 is the core
        // flag, which does not change the signal.
        final int stopped = 0x137F;
        assertFalse(WaitStatus.ifExited(stopped), "WIFEXITED(stopped)");
        assertFalse(WaitStatus.ifSignaled(stopped), "WIFSIGNALED(stopped)");
        assertTrue(WaitStatus.ifSignaled(0x80 | 11), "WIFSIGNALED(SIGSEGV with core)");
        assertEquals(11, WaitStatus.termSignal(0x80 | 11), "WTERMSIG(SIGSEGV with core)");
    }

    @Test
    void shouldReportKillsAsSignaledStatuses()
    {
        runClean("signaled status", ctx ->
        {
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                while (true)
                {
                    awaitWakeUp(c);
                }
            }));
            ctx.kill(child, Signal.SIGTERM);
            final WaitResult r = ctx.waitpid(child, 0);
            assertEquals(child, r.pid());
            assertTrue(WaitStatus.ifSignaled(r.status()), "status 0x" + Integer.toHexString(r.status()));
            assertFalse(WaitStatus.ifExited(r.status()), "status 0x" + Integer.toHexString(r.status()));
            assertEquals(Signal.SIGTERM.number(), WaitStatus.termSignal(r.status()));
        });
    }

    /**
     * A program that fails is reported as killed: a capability fault as SIGSEGV (the hardware's answer to a bad
     * pointer), any other escaping Java exception as SIGABRT.
     */
    @Test
    void shouldReportFaultsAsSigsegvAndOtherFailuresAsSigabrt()
    {
        runClean("faults", ctx ->
        {
            final int faulting = ctx.fork(c -> c.memory().loadLong(page(c, 1), Geometry.PAGE_SIZE));
            assertEquals(new WaitResult(faulting, WaitStatus.signaled(Signal.SIGSEGV)), ctx.waitpid(faulting, 0),
                "a load past the capability's bounds");
            final int throwing = ctx.fork(c ->
            {
                throw new IllegalStateException("a program bug");
            });
            assertEquals(new WaitResult(throwing, WaitStatus.signaled(Signal.SIGABRT)), ctx.waitpid(throwing, 0),
                "an escaping exception");
        });
    }

    @Test
    void shouldReturnPidZeroWithWnohangWhileTheChildRunsAndTheChildOnceItHasExited()
    {
        runClean("WNOHANG", ctx ->
        {
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                awaitWakeUp(c);
                c.exit(9);
            }));
            // The child cannot exit before it gets its go-ahead, so these see it running.
            assertEquals(new WaitResult(0, 0), ctx.waitpid(child, ProcessContext.WNOHANG), "waitpid(child, WNOHANG)");
            assertEquals(new WaitResult(0, 0), ctx.waitpid(-1, ProcessContext.WNOHANG), "waitpid(-1, WNOHANG)");
            // SIGCHLD is posted once the child is a zombie: a caught SIGCHLD ends the pause below.
            ctx.sigaction(Signal.SIGCHLD, ProcessSync.WAKE_UP);
            ctx.kill(child, Signal.SIGUSR1);
            awaitWakeUp(ctx);
            assertEquals(new WaitResult(child, WaitStatus.exited(9)), ctx.waitpid(child, ProcessContext.WNOHANG),
                "WNOHANG after the child's SIGCHLD");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(-1, ProcessContext.WNOHANG), "WNOHANG with no children left");
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // zombies and orphans

    @Test
    void shouldKeepAZombieCountedAndDeafToSignalsUntilItsParentReapsIt()
    {
        final long areasBefore = kernel.space().liveAreas();
        final CompletableFuture<Integer> zombie = new CompletableFuture<>();
        final int parent = kernel.spawn(AREA, child(ctx ->
        {
            armWakeUp(ctx);
            ctx.sigaction(Signal.SIGCHLD, ProcessSync.WAKE_UP);
            final int child = ctx.fork(child(c -> c.exit(5)));
            // The caught SIGCHLD says the child has exited; nobody has waited for it.
            awaitWakeUp(ctx);
            // A zombie takes signals without effect, from a µprocess as from the host.
            ctx.kill(child, Signal.SIGKILL);
            zombie.complete(child);
            awaitWakeUp(ctx);
            assertEquals(new WaitResult(child, WaitStatus.exited(5)), ctx.waitpid(child, 0),
                "the zombie keeps the status it exited with");
            assertErrno(Errno.ESRCH, () -> ctx.kill(child, Signal.SIGTERM), "kill of a reaped child");
        }));
        final int child = await(zombie, "the child to become a zombie");
        assertEquals(3, kernel.metrics().liveProcesses(), "init, the parent and the zombie");
        assertEquals(areasBefore + 2, kernel.space().liveAreas(), "the zombie keeps its area until it is reaped");
        kernel.signal(child, Signal.SIGTERM);
        kernel.signal(child, Signal.SIGKILL);
        assertEquals(3, kernel.metrics().liveProcesses(), "signals do not reap a zombie");
        kernel.signal(parent, Signal.SIGUSR1);
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, parent, "parent"), failure, "parent");
        assertEquals(1, kernel.metrics().liveProcesses(), "only init once both are reaped");
        assertEquals(areasBefore, kernel.space().liveAreas(), "areas of reaped µprocesses are freed");
        assertErrno(Errno.ESRCH, () -> kernel.signal(child, Signal.SIGTERM), "kill of a reaped pid");
    }

    @Test
    void shouldHaveInitAdoptAndReapOrphansRunningOrZombie()
    {
        final CompletableFuture<Integer> runningOrphan = new CompletableFuture<>();
        final CompletableFuture<Integer> parentSeenBefore = new CompletableFuture<>();
        final CompletableFuture<Integer> parentSeenAfter = new CompletableFuture<>();
        final int parent = kernel.spawn(AREA, child(ctx ->
        {
            armWakeUp(ctx);
            ctx.sigaction(Signal.SIGCHLD, ProcessSync.WAKE_UP);
            // One child exits at once and is left a zombie; the other runs on after its parent is gone.
            ctx.fork(child(c -> c.exit(1)));
            awaitWakeUp(ctx);
            final int running = ctx.fork(child(c ->
            {
                parentSeenBefore.complete(c.getppid());
                c.kill(c.getppid(), Signal.SIGUSR1);
                awaitWakeUp(c);
                parentSeenAfter.complete(c.getppid());
                c.exit(2);
            }));
            runningOrphan.complete(running);
            // Exit only once the child has seen this µprocess as its parent.
            awaitWakeUp(ctx);
            ctx.exit(0);
        }));
        final int orphan = await(runningOrphan, "the parent to fork");
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, parent, "parent"), failure, "parent");
        assertEquals(parent, await(parentSeenBefore, "getppid before").intValue(), "getppid before the parent exits");
        kernel.signal(orphan, Signal.SIGUSR1);
        assertEquals(1, await(parentSeenAfter, "getppid after").intValue(), "getppid after the parent exited");
        TestPrograms.awaitLiveProcesses(kernel, 1, "init reaps both orphans");
        ProcessSync.rethrow(failure, "orphans");
        // A reaped µprocess leaves the table before its area is freed: wait for that too.
        TestPrograms.awaitCondition("only the kernel's entry area and init's remain",
            () -> kernel.space().liveAreas() == 2);
    }

    /**
     * Parents that exit while their children are exiting too: every child ends up reaped, by its parent's init
     * adoption or directly, however the two exits interleave. Rounds, because the interleaving is the scheduler's;
     * a zombie that init missed would keep {@code liveProcesses} up until the hang guard.
     */
    @Test
    void shouldReapChildrenThatExitWhileTheirParentExits()
    {
        final int rounds = 100;
        for (int round = 0; round < rounds; round++)
        {
            final int parent = kernel.spawn(AREA, child(ctx ->
            {
                for (int i = 0; i < 3; i++)
                {
                    ctx.fork(child(c -> c.exit(0)));
                }
                ctx.exit(0);
            }));
            ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, parent, "parent"), failure, "round " + round);
            TestPrograms.awaitLiveProcesses(kernel, 1, "round " + round + ": init reaps the orphans");
        }
        ProcessSync.rethrow(failure, "racing exits");
    }

    // ------------------------------------------------------------------------------------------------------------
    // memory of reaped µprocesses

    /**
     * Fork, exit and wait, many times: no area leaks, the used bytes fall back, and the same memory serves every
     * child (the warm cache hands the freed area to the next fork of the same size), so what is resident after the
     * last cycle is exactly what was resident after the first.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldFreeTheAreaOfEveryReapedChildSoThatManyCyclesLeakNothing(final CopyMode mode)
    {
        final int cycles = 60;
        final AddressSpace space = kernel.space();
        runClean(mode + " fork/exit/wait cycles", ctx ->
        {
            final long usedBefore = space.usage().usedBytes();
            final long areasBefore = space.liveAreas();
            long residentAfterFirst = -1;
            for (int cycle = 0; cycle < cycles; cycle++)
            {
                final int value = cycle;
                final int child = ctx.fork(child(c ->
                {
                    // Touch half the area so that a leak would show in resident memory.
                    for (int p = 1; p < PAGES / 2; p++)
                    {
                        c.memory().storeLong(page(c, p), 0, value);
                    }
                    c.exit(value & 0xFF);
                }), mode);
                assertEquals(new WaitResult(child, WaitStatus.exited(value & 0xFF)), ctx.waitpid(child, 0));
                assertEquals(usedBefore, space.usage().usedBytes(), "used bytes after cycle " + cycle);
                assertEquals(areasBefore, space.liveAreas(), "live areas after cycle " + cycle);
                assertEquals(2, kernel.metrics().liveProcesses(), "init and this µprocess after cycle " + cycle);
                final int resident = space.residentPages(0, space.size()).cardinality();
                if (cycle == 0)
                {
                    residentAfterFirst = resident;
                }
                else
                {
                    assertEquals(residentAfterFirst, resident, "resident pages after cycle " + cycle
                        + " against after the first: freed areas are reused, not leaked");
                }
            }
            assertTrue(space.warmBytes() <= space.config().warmRetainBytes(), "warm bytes within the limit");
        });
        assertEquals(cycles, kernel.metrics().forks());
    }

    /**
     * Beyond the warm cache's limit, reaped areas go back to the OS: with room for two warm areas, six reaped
     * children leave the two freed last resident and the four freed first with no resident page, and the resident
     * data falls by exactly those four areas.
     */
    @Test
    void shouldGiveReapedAreasBeyondTheWarmLimitBackToTheOs()
    {
        kernel.close();
        final int children = 6;
        final int warmAreas = 2;
        kernel = Kernel.boot(new KernelConfig(AddressSpaceConfig.ofSize(SPACE).withWarmRetain(warmAreas * AREA),
            CopyMode.COPA, AREA, IsolationLevel.ADVERSARIAL));
        final AddressSpace space = kernel.space();
        final AtomicLongArray bases = new AtomicLongArray(children);
        final List<CompletableFuture<Void>> touched = new ArrayList<>();
        for (int i = 0; i < children; i++)
        {
            touched.add(new CompletableFuture<>());
        }
        final CompletableFuture<Integer> residentAfter = new CompletableFuture<>();
        final int parent = kernel.spawn(AREA, child(ctx ->
        {
            armWakeUp(ctx);
            final int[] pids = new int[children];
            for (int i = 0; i < children; i++)
            {
                final int index = i;
                pids[i] = ctx.fork(child(c ->
                {
                    bases.set(index, c.area().base());
                    for (int p = 1; p < PAGES; p++)
                    {
                        c.memory().storeLong(page(c, p), 0, p);
                    }
                    touched.get(index).complete(null);
                    awaitWakeUp(c);
                }));
            }
            awaitWakeUp(ctx);
            for (final int pid : pids)
            {
                ctx.kill(pid, Signal.SIGUSR1);
            }
            for (final int pid : pids)
            {
                // Reap in fork order, so that the first reaped are the first freed.
                assertEquals(new WaitResult(pid, WaitStatus.exited(0)), ctx.waitpid(pid, 0));
            }
            residentAfter.complete(space.residentPages(0, space.size()).cardinality());
            awaitWakeUp(ctx);
        }));
        for (int i = 0; i < children; i++)
        {
            await(touched.get(i), "child " + i + " to touch its area");
        }
        final int residentPeak = space.residentPages(0, space.size()).cardinality();
        kernel.signal(parent, Signal.SIGUSR1);
        final int after = await(residentAfter, "the parent to reap its children");
        assertEquals(warmAreas * AREA, space.warmBytes(), "the warm cache holds up to its limit");
        for (int i = 0; i < children; i++)
        {
            final BitSet resident = space.residentPages(bases.get(i), AREA);
            if (i < children - warmAreas)
            {
                assertTrue(resident.isEmpty(), "child " + i + " (freed early) should be given back, resident "
                    + resident.cardinality() + " pages");
            }
            else
            {
                assertEquals(PAGES, resident.cardinality(), "child " + i + " (freed last) stays warm");
            }
        }
        assertEquals((children - warmAreas) * PAGES, residentPeak - after,
            "resident pages should fall by the areas beyond the warm limit");
        kernel.signal(parent, Signal.SIGUSR1);
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, parent, "parent"), failure, "parent");
        assertEquals(0, space.usage().usedBytes() - 2 * Kernel.MIN_AREA, "only the kernel's and init's areas live");
    }

    /** With no warm cache at all, a reaped child's memory goes back to the OS at once. */
    @Test
    void shouldReleaseAReapedAreaAtOnceWithoutAWarmCache()
    {
        kernel.close();
        kernel = Kernel.boot(new KernelConfig(AddressSpaceConfig.ofSize(SPACE).withWarmRetain(0), CopyMode.COPA,
            AREA, IsolationLevel.ADVERSARIAL));
        final AddressSpace space = kernel.space();
        runClean("no warm cache", ctx ->
        {
            // Touch every page first, so that the child's copies cannot change what of the parent is resident.
            for (int p = 1; p < PAGES; p++)
            {
                ctx.memory().storeLong(page(ctx, p), 0, -p);
            }
            final CompletableFuture<Long> base = new CompletableFuture<>();
            final long committedBefore = space.usage().committedBytes();
            final long usedBefore = space.usage().usedBytes();
            final int child = ctx.fork(child(c ->
            {
                for (int p = 1; p < PAGES; p++)
                {
                    c.memory().storeLong(page(c, p), 0, p);
                }
                base.complete(c.area().base());
            }));
            assertEquals(new WaitResult(child, WaitStatus.exited(0)), ctx.waitpid(child, 0));
            final long childBase = await(base, "the child's base");
            assertTrue(space.residentPages(childBase, AREA).isEmpty(), "the reaped child's area still has "
                + space.residentPages(childBase, AREA).cardinality() + " resident pages");
            assertEquals(0, space.warmBytes());
            assertEquals(usedBefore, space.usage().usedBytes(), "used bytes");
            // What may stay committed is tag metadata the child's capabilities touched: its page of the tag bitmap
            // and of the summary.
            final long grown = space.usage().committedBytes() - committedBefore;
            assertTrue(grown <= 2 * Geometry.PAGE_SIZE, "committed bytes should fall back: before "
                + committedBefore + ", after " + space.usage().committedBytes());
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // many children, nested forks

    /**
     * Many children, each knowing its index from the image it was forked with, are let go one at a time in a seeded
     * random order; {@code waitpid(-1)} must return exactly the one let go, with its index as exit status.
     */
    @Test
    void shouldReapManyChildrenExitingInARandomOrder()
    {
        final long seed = TestPrograms.seed(0x5EED_0F_C41DL);
        final int children = 24;
        final String context = "random exit order, " + TestPrograms.replay(seed);
        runClean(context, ctx ->
        {
            armWakeUp(ctx);
            final Capability slot = page(ctx, 1);
            final int[] pids = new int[children];
            for (int i = 0; i < children; i++)
            {
                // The child learns its index from the memory it was forked with.
                ctx.memory().storeInt(slot, 0, i);
                pids[i] = ctx.fork(child(c ->
                {
                    final int index = c.memory().loadInt(page(c, 1), 0);
                    awaitWakeUp(c);
                    c.exit(index);
                }));
            }
            final SplittableRandom random = TestPrograms.random(seed);
            final List<Integer> order = new ArrayList<>();
            for (int i = 0; i < children; i++)
            {
                order.add(random.nextInt(order.size() + 1), i);
            }
            for (final int index : order)
            {
                ctx.kill(pids[index], Signal.SIGUSR1);
                assertEquals(new WaitResult(pids[index], WaitStatus.exited(index)), ctx.waitpid(-1, 0),
                    context + ": order " + order);
            }
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(-1, 0), context);
        });
        assertEquals(1, kernel.metrics().liveProcesses());
    }

    /**
     * A parent, a child and a grandchild each see the image of their own fork: the grandchild sees the child's
     * write, not the parent's later one, follows a pointer relocated twice, knows its parent, and exit statuses go
     * up the chain.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldGiveGrandchildrenTheirParentsImageAndReportUpTheChain(final CopyMode mode)
    {
        runClean(mode + " nested forks", ctx ->
        {
            final CapabilityMemory memory = ctx.memory();
            final Capability value = page(ctx, 2).setBoundsExact(16);
            memory.storeLong(value, 0, 1);
            memory.storeCapability(page(ctx, 1), 0, value);
            final int parentPid = ctx.getpid();
            final int child = ctx.fork(child(c ->
            {
                assertEquals(parentPid, c.getppid());
                final Capability v = c.memory().loadCapability(page(c, 1), 0);
                assertEquals(1, c.memory().loadLong(v, 0), "child sees the parent's image");
                c.memory().storeLong(v, 0, 2);
                final int me = c.getpid();
                final int grandchild = c.fork(child(g ->
                {
                    assertEquals(me, g.getppid(), "the grandchild's parent");
                    final Capability gv = g.memory().loadCapability(page(g, 1), 0);
                    assertTrue(gv.base() >= g.area().base() && gv.base() < g.area().base() + AREA,
                        "pointer relocated into the grandchild's area: " + gv + " area " + g.area());
                    assertEquals(2, g.memory().loadLong(gv, 0), "grandchild sees the child's image");
                    g.memory().storeLong(gv, 0, 3);
                    g.exit(3);
                }), mode);
                c.memory().storeLong(v, 0, 20);
                final WaitResult r = c.waitpid(grandchild, 0);
                assertEquals(new WaitResult(grandchild, WaitStatus.exited(3)), r);
                assertEquals(20, c.memory().loadLong(v, 0), "the grandchild's write stays its own");
                c.exit(10 + WaitStatus.exitStatus(r.status()));
            }), mode);
            memory.storeLong(value, 0, 100);
            assertEquals(new WaitResult(child, WaitStatus.exited(13)), ctx.waitpid(child, 0));
            assertEquals(100, memory.loadLong(value, 0), "the parent's image is its own");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(-1, 0), "a grandchild is not a child");
        });
        assertEquals(2, kernel.metrics().forks());
        assertEquals(1, kernel.metrics().liveProcesses());
    }

    /**
     * A grandchild whose parent exits without waiting is adopted by init, keeps its image although the µprocess
     * whose pages it shared is gone, and is reaped by init.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldKeepAnOrphanedGrandchildsImageWhenItsSourceIsReaped(final CopyMode mode)
    {
        final CompletableFuture<Integer> grandchildPid = new CompletableFuture<>();
        final CompletableFuture<Integer> seen = new CompletableFuture<>();
        runClean(mode + " orphaned grandchild", ctx ->
        {
            armWakeUp(ctx);
            for (int p = 1; p < 8; p++)
            {
                ctx.memory().storeLong(page(ctx, p), 8, p * 11L);
            }
            ctx.memory().storeCapability(page(ctx, 1), 16, page(ctx, 5));
            final int child = ctx.fork(child(c ->
            {
                c.memory().storeLong(page(c, 3), 8, 333);
                grandchildPid.complete(c.fork(child(g ->
                {
                    awaitWakeUp(g);
                    long sum = 0;
                    for (int p = 1; p < 8; p++)
                    {
                        sum += g.memory().loadLong(page(g, p), 8);
                    }
                    sum += g.memory().loadLong(g.memory().loadCapability(page(g, 1), 16), 8);
                    assertEquals(1, g.getppid(), "adopted by init");
                    seen.complete((int)sum);
                }), mode));
                c.exit(0);
            }), mode);
            assertEquals(new WaitResult(child, WaitStatus.exited(0)), ctx.waitpid(child, 0));
            // The child is reaped: the grandchild's pages no longer have it to be read through.
            ctx.kill(await(grandchildPid, "grandchild"), Signal.SIGUSR1);
        });
        final int expected = (11 + 22 + 333 + 44 + 55 + 66 + 77) + 55;
        assertEquals(expected, await(seen, "the grandchild's sum").intValue());
        TestPrograms.awaitLiveProcesses(kernel, 1, mode + ": init reaps the grandchild");
        ProcessSync.rethrow(failure, mode + " orphaned grandchild");
        assertEquals(2, kernel.metrics().forks());
    }
}
