package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.kernel.ProcessSync.armWakeUp;
import static dev.ufork.kernel.ProcessSync.assertErrno;
import static dev.ufork.kernel.ProcessSync.await;
import static dev.ufork.kernel.ProcessSync.awaitWakeUp;
import static dev.ufork.kernel.ProcessSync.page;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Signals between µprocesses and from the host: default actions, SIGKILL's guarantees, SIGCHLD, handlers on the
 * target's own thread, the mask and the pending set, {@code pause} and {@code sleep} ended by a caught signal, a
 * µprocess that only stores still dying of a kill, and the errors of {@code kill}.
 */
class SignalTest extends KernelTestBase
{
    private static final long HOUR = TimeUnit.HOURS.toNanos(1);


    /** A program that waits in {@code pause()} for ever, each caught signal notwithstanding. */
    private Program pauseForever()
    {
        return child(c ->
        {
            while (true)
            {
                try
                {
                    c.pause();
                }
                catch (final ErrnoException e)
                {
                    assertEquals(Errno.EINTR, e.errno());
                }
            }
        });
    }

    private static void assertSignaled(final Signal signal, final int status, final String what)
    {
        assertEquals(WaitStatus.signaled(signal), status, what + ": wait status 0x" + Integer.toHexString(status));
        assertTrue(WaitStatus.ifSignaled(status), what);
        assertEquals(signal.number(), WaitStatus.termSignal(status), what);
    }

    // ------------------------------------------------------------------------------------------------------------
    // default actions, SIGKILL

    @Test
    void shouldTerminateOnSigtermByDefaultWhetherSentByAProcessOrTheHost()
    {
        runClean("SIGTERM from a µprocess", ctx ->
        {
            final int child = ctx.fork(pauseForever());
            ctx.kill(child, Signal.SIGTERM);
            final WaitResult r = ctx.waitpid(child, 0);
            assertEquals(child, r.pid());
            assertSignaled(Signal.SIGTERM, r.status(), "child");
        });
        final int pid = kernel.spawn(AREA, pauseForever());
        kernel.signal(pid, Signal.SIGTERM);
        assertSignaled(Signal.SIGTERM, TestPrograms.awaitExit(kernel, pid, "host SIGTERM"), "spawned");
        ProcessSync.rethrow(failure, "SIGTERM");
    }

    @Test
    void shouldRefuseToCatchOrIgnoreSigkillAndNeverBlockIt()
    {
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        final int pid = kernel.spawn(AREA, child(ctx ->
        {
            for (final SignalAction action : new SignalAction[] {SignalAction.IGNORE, SignalAction.DEFAULT,
                ProcessSync.WAKE_UP})
            {
                assertErrno(Errno.EINVAL, () -> ctx.sigaction(Signal.SIGKILL, action), "sigaction(SIGKILL, "
                    + action.disposition() + ")");
            }
            // Everything else ignored and everything blocked: SIGKILL must still end it.
            for (final Signal s : Signal.values())
            {
                if (s != Signal.SIGKILL)
                {
                    ctx.sigaction(s, SignalAction.IGNORE);
                }
            }
            ctx.sigprocmask(ProcessContext.SIG_SETMASK, -1L);
            final long mask = ctx.sigprocmask(ProcessContext.SIG_BLOCK, 0);
            assertEquals(0, mask & ProcessContext.maskOf(Signal.SIGKILL), "SIGKILL in the mask");
            assertEquals(-1L & ~ProcessContext.maskOf(Signal.SIGKILL), mask, "the rest of the mask");
            ready.complete(null);
            while (true)
            {
                try
                {
                    ctx.pause();
                }
                catch (final ErrnoException e)
                {
                    throw new AssertionError("no signal is caught here, yet pause said " + e.getMessage(), e);
                }
            }
        }));
        await(ready, "the target to ignore and block everything");
        kernel.signal(pid, Signal.SIGTERM);
        kernel.signal(pid, Signal.SIGUSR1);
        kernel.signal(pid, Signal.SIGKILL);
        assertSignaled(Signal.SIGKILL, TestPrograms.awaitExit(kernel, pid, "SIGKILL"), "target");
        ProcessSync.rethrow(failure, "SIGKILL");
    }

    // ------------------------------------------------------------------------------------------------------------
    // SIGCHLD

    /**
     * A child's exit sends SIGCHLD to its parent: a handler runs in the parent µprocess, on its thread, and may keep
     * its state in the parent's memory.
     */
    @Test
    void shouldRunTheSigchldHandlerInTheParentWhenAChildExits()
    {
        final AtomicReference<Thread> handlerThread = new AtomicReference<>();
        final AtomicReference<Integer> handlerPid = new AtomicReference<>();
        runClean("SIGCHLD handler", ctx ->
        {
            final Capability counter = page(ctx, 1);
            ctx.sigaction(Signal.SIGCHLD, SignalAction.handle((c, s) ->
            {
                assertEquals(Signal.SIGCHLD, s);
                handlerThread.set(Thread.currentThread());
                handlerPid.set(c.getpid());
                c.memory().storeLong(page(c, 1), 0, c.memory().loadLong(page(c, 1), 0) + 1);
                ProcessSync.noteWakeUp();
            }));
            final int child = ctx.fork(child(c -> c.exit(4)));
            ProcessSync.awaitWakeUp(ctx);
            assertSame(Thread.currentThread(), handlerThread.get(), "the handler ran on the parent's thread");
            assertEquals(ctx.getpid(), handlerPid.get().intValue(), "the handler ran in the parent µprocess");
            assertEquals(1, ctx.memory().loadLong(counter, 0), "the handler's count in the parent's memory");
            assertEquals(new WaitResult(child, WaitStatus.exited(4)), ctx.waitpid(child, 0));
        });
    }

    /** By default SIGCHLD is ignored: the parent neither dies nor finds it pending. */
    @Test
    void shouldIgnoreSigchldByDefault()
    {
        runClean("SIGCHLD default", ctx ->
        {
            for (int i = 0; i < 5; i++)
            {
                final int child = ctx.fork(child(c -> c.exit(0)));
                assertEquals(new WaitResult(child, WaitStatus.exited(0)), ctx.waitpid(child, 0));
                assertEquals(0, ctx.sigpending() & ProcessContext.maskOf(Signal.SIGCHLD), "SIGCHLD pending");
            }
            ctx.sigaction(Signal.SIGCHLD, SignalAction.IGNORE);
            final int child = ctx.fork(child(c -> c.exit(0)));
            assertEquals(new WaitResult(child, WaitStatus.exited(0)), ctx.waitpid(child, 0));
            assertEquals(0, ctx.sigpending(), "nothing pending");
        });
    }

    /**
     * With SIGCHLD caught, a blocking {@code waitpid} for a child that exits returns that child (not EINTR: the
     * exit's wake-up comes before the signal's interrupt), and by the time it returns the child's SIGCHLD is pending,
     * as on Linux: the next kernel call runs the handler. Regression test: SIGCHLD used to be posted after the zombie
     * was already visible, so the parent could reap the child and make its next call before the signal existed
     * (about one round in 700 here, hence the many rounds).
     */
    @Test
    void shouldReturnTheExitedChildFromABlockingWaitEvenWhenSigchldIsCaught()
    {
        final int rounds = 1000;
        runClean("waitpid with SIGCHLD caught", ctx ->
        {
            final Capability counter = page(ctx, 1);
            ctx.sigaction(Signal.SIGCHLD, SignalAction.handle((c, s) ->
                c.memory().storeLong(page(c, 1), 0, c.memory().loadLong(page(c, 1), 0) + 1)));
            for (int round = 1; round <= rounds; round++)
            {
                final int status = round & 0x7F;
                final int child = ctx.fork(child(c -> c.exit(status)));
                final WaitResult r;
                try
                {
                    r = ctx.waitpid(child, 0);
                }
                catch (final ErrnoException e)
                {
                    throw new AssertionError("round " + round + ": waitpid for an exiting child failed", e);
                }
                assertEquals(new WaitResult(child, WaitStatus.exited(status)), r, "round " + round);
                ctx.checkSignals();
                assertEquals(round, ctx.memory().loadLong(counter, 0),
                    "round " + round + ": SIGCHLD handled once per child by the next kernel call");
            }
        });
    }

    /**
     * The usual way to reap: a SIGCHLD handler that calls {@code waitpid(-1, WNOHANG)} until it returns 0. Signals do
     * not queue, so one SIGCHLD may stand for several exits; the loop in the handler (which ends on 0 or, once no
     * child is left, ECHILD) still reaps every child.
     */
    @Test
    void shouldReapEveryChildFromASigchldHandlerThatWaitsWithWnohang()
    {
        final int children = 16;
        runClean("reaping in the handler", ctx ->
        {
            final Capability reaped = page(ctx, 1);
            ctx.sigaction(Signal.SIGCHLD, SignalAction.handle((c, s) ->
            {
                final Capability count = page(c, 1);
                try
                {
                    WaitResult r;
                    while ((r = c.waitpid(-1, ProcessContext.WNOHANG)).pid() > 0)
                    {
                        assertEquals(WaitStatus.exited(r.pid() & 0x7F), r.status(), "status of " + r.pid());
                        c.memory().storeLong(count, 0, c.memory().loadLong(count, 0) + 1);
                    }
                }
                catch (final ErrnoException e)
                {
                    // As in C, the loop also ends on ECHILD: every child forked so far has been reaped.
                    assertEquals(Errno.ECHILD, e.errno(), e.getMessage());
                }
                ProcessSync.noteWakeUp();
            }));
            for (int i = 0; i < children; i++)
            {
                ctx.fork(child(c -> c.exit(c.getpid() & 0x7F)));
            }
            while (ctx.memory().loadLong(reaped, 0) < children)
            {
                awaitWakeUp(ctx);
            }
            assertEquals(children, ctx.memory().loadLong(reaped, 0), "children reaped by the handler");
            assertErrno(Errno.ECHILD, () -> ctx.waitpid(-1, ProcessContext.WNOHANG), "none left");
        });
        assertEquals(1, kernel.metrics().liveProcesses());
    }

    /**
     * A caught signal ends a blocking {@code waitpid} for a child that is still running with EINTR, after its
     * handler ran; the wait can be made again. A signal handled on the way in does not end the wait, so the test
     * thread signals until the µprocess reports the EINTR.
     */
    @Test
    void shouldInterruptABlockingWaitWithEintrWhenACaughtSignalArrives()
    {
        final CompletableFuture<Integer> parentPid = new CompletableFuture<>();
        final CompletableFuture<Void> interrupted = new CompletableFuture<>();
        final int pid = kernel.spawn(AREA, child(ctx ->
        {
            armWakeUp(ctx);
            ctx.sigaction(Signal.SIGUSR2, ProcessSync.WAKE_UP);
            final int child = ctx.fork(child(c ->
            {
                awaitWakeUp(c);
                c.exit(3);
            }));
            parentPid.complete(ctx.getpid());
            assertErrno(Errno.EINTR, () -> ctx.waitpid(child, 0), "waitpid interrupted by SIGUSR2");
            // A SIGUSR2 still on its way from the test thread must not interrupt the second wait.
            ctx.sigprocmask(ProcessContext.SIG_BLOCK, ProcessContext.maskOf(Signal.SIGUSR2));
            interrupted.complete(null);
            ctx.kill(child, Signal.SIGUSR1);
            assertEquals(new WaitResult(child, WaitStatus.exited(3)), ctx.waitpid(child, 0), "the wait made again");
        }));
        await(parentPid, "the fork");
        TestPrograms.awaitCondition("waitpid to be interrupted", () ->
        {
            if (!interrupted.isDone())
            {
                kernel.signal(pid, Signal.SIGUSR2);
            }
            return interrupted.isDone();
        });
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, pid, "EINTR"), failure, "EINTR");
    }

    // ------------------------------------------------------------------------------------------------------------
    // handlers, mask, pending

    /**
     * A handler set with {@code sigaction} runs on the target µprocess's own thread, with its signal blocked while it
     * runs; sigaction returns the previous action; a fork inherits actions and the mask but not pending signals.
     */
    @Test
    void shouldRunHandlersOnTheTargetsThreadWithTheSignalBlocked()
    {
        final CompletableFuture<Thread> childThread = new CompletableFuture<>();
        final CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        final CompletableFuture<Long> maskInHandler = new CompletableFuture<>();
        runClean("handler thread", ctx ->
        {
            final SignalAction handler = SignalAction.handle((c, s) ->
            {
                ranOn.complete(Thread.currentThread());
                maskInHandler.complete(c.sigprocmask(ProcessContext.SIG_BLOCK, 0));
                ProcessSync.noteWakeUp();
            });
            assertEquals(SignalAction.DEFAULT, ctx.sigaction(Signal.SIGUSR2, handler), "the first action");
            assertSame(handler, ctx.sigaction(Signal.SIGUSR2, handler), "sigaction returns the previous action");
            ctx.sigprocmask(ProcessContext.SIG_BLOCK, ProcessContext.maskOf(Signal.SIGHUP));
            // Pending in the parent at the fork: must not be inherited.
            ctx.sigprocmask(ProcessContext.SIG_BLOCK, ProcessContext.maskOf(Signal.SIGURG));
            ctx.sigaction(Signal.SIGURG, ProcessSync.WAKE_UP);
            ctx.kill(ctx.getpid(), Signal.SIGURG);
            assertEquals(ProcessContext.maskOf(Signal.SIGURG), ctx.sigpending(), "SIGURG pending in the parent");
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                assertEquals(0, c.sigpending(), "pending signals are not inherited");
                assertEquals(ProcessContext.maskOf(Signal.SIGHUP, Signal.SIGURG),
                    c.sigprocmask(ProcessContext.SIG_BLOCK, 0), "the mask is inherited");
                c.sigprocmask(ProcessContext.SIG_SETMASK, 0);
                childThread.complete(Thread.currentThread());
                // Ready: only now may SIGUSR2 come.
                c.kill(c.getppid(), Signal.SIGUSR1);
                // The inherited handler catches SIGUSR2: pause ends with EINTR, the µprocess lives on.
                awaitWakeUp(c);
                assertEquals(0, c.sigprocmask(ProcessContext.SIG_BLOCK, 0), "mask restored after the handler");
                c.exit(6);
            }));
            awaitWakeUp(ctx);
            ctx.kill(child, Signal.SIGUSR2);
            assertEquals(new WaitResult(child, WaitStatus.exited(6)), ctx.waitpid(child, 0));
        });
        assertSame(await(childThread, "the child's thread"), await(ranOn, "the handler"),
            "the handler ran on the target's thread");
        assertEquals(ProcessContext.maskOf(Signal.SIGUSR2), await(maskInHandler, "the mask in the handler"),
            "only the handled signal is blocked while its handler runs");
    }

    /**
     * A blocked signal stays pending (the handler does not run, a default action does not kill), and is delivered
     * when it is unblocked, before {@code sigprocmask} returns.
     */
    @Test
    void shouldHoldBlockedSignalsPendingAndDeliverThemOnUnblock()
    {
        runClean("sigprocmask", ctx ->
        {
            final Capability counter = page(ctx, 1);
            ctx.sigaction(Signal.SIGUSR1, SignalAction.handle((c, s) ->
                c.memory().storeLong(page(c, 1), 0, c.memory().loadLong(page(c, 1), 0) + 1)));
            final long usr1 = ProcessContext.maskOf(Signal.SIGUSR1);
            assertEquals(0, ctx.sigprocmask(ProcessContext.SIG_BLOCK, usr1), "the initial mask");
            ctx.kill(ctx.getpid(), Signal.SIGUSR1);
            ctx.kill(ctx.getpid(), Signal.SIGUSR1);
            ctx.checkSignals();
            assertEquals(0, ctx.memory().loadLong(counter, 0), "the handler ran while blocked");
            assertEquals(usr1, ctx.sigpending(), "SIGUSR1 pending while blocked");
            assertEquals(usr1, ctx.sigprocmask(ProcessContext.SIG_UNBLOCK, usr1), "the mask before unblocking");
            assertEquals(1, ctx.memory().loadLong(counter, 0), "delivered once (signals do not queue) on unblock");
            assertEquals(0, ctx.sigpending(), "nothing pending after delivery");
            assertErrno(Errno.EINVAL, () -> ctx.sigprocmask(7, usr1), "sigprocmask with an unknown how");
            assertEquals(0, ctx.sigprocmask(ProcessContext.SIG_BLOCK, 0), "a failed call changes nothing");

            // Setting SIG_IGN discards a pending instance (POSIX), so unblocking it later delivers nothing.
            ctx.sigprocmask(ProcessContext.SIG_BLOCK, usr1);
            ctx.kill(ctx.getpid(), Signal.SIGUSR1);
            assertEquals(usr1, ctx.sigpending(), "SIGUSR1 pending again");
            ctx.sigaction(Signal.SIGUSR1, SignalAction.IGNORE);
            assertEquals(0, ctx.sigpending(), "ignoring discards the pending SIGUSR1");
            ctx.sigprocmask(ProcessContext.SIG_UNBLOCK, usr1);
            assertEquals(1, ctx.memory().loadLong(counter, 0), "nothing delivered after ignoring");

            // A terminating default action waits behind the mask too.
            final int child = ctx.fork(child(c ->
            {
                c.sigprocmask(ProcessContext.SIG_SETMASK, ProcessContext.maskOf(Signal.SIGTERM));
                c.kill(c.getpid(), Signal.SIGTERM);
                assertEquals(ProcessContext.maskOf(Signal.SIGTERM), c.sigpending(), "SIGTERM pending");
                c.memory().storeLong(page(c, 2), 0, 1);
                c.sigprocmask(ProcessContext.SIG_SETMASK, 0);
                c.exit(1);
            }));
            assertSignaled(Signal.SIGTERM, ctx.waitpid(child, 0).status(), "SIGTERM after unblocking");
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // blocking calls

    @Test
    void shouldEndPauseWithEintrWhenAHandledSignalArrives()
    {
        runClean("pause", ctx ->
        {
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                awaitWakeUp(c);
                c.exit(8);
            }));
            ctx.kill(child, Signal.SIGUSR1);
            assertEquals(new WaitResult(child, WaitStatus.exited(8)), ctx.waitpid(child, 0));
        });
    }

    /**
     * sigsuspend waits with the given mask and restores the old one: a signal that arrived while blocked (the race
     * that {@code pause} after an unblock loses) ends it at once; one its mask blocks stays pending through the wait,
     * and is delivered before sigsuspend returns if the restored mask unblocks it.
     */
    @Test
    void shouldSuspendWithATemporaryMaskAndRestoreIt()
    {
        runClean("sigsuspend", ctx ->
        {
            final Capability counters = page(ctx, 1);
            // SIGUSR1's handler counts at 0 and, while the word at 16 is set, raises SIGUSR2 (counted at 8).
            ctx.sigaction(Signal.SIGUSR1, SignalAction.handle((c, s) ->
            {
                bump(c, 0);
                if (c.memory().loadLong(page(c, 1), 16) != 0)
                {
                    c.kill(c.getpid(), Signal.SIGUSR2);
                }
            }));
            ctx.sigaction(Signal.SIGUSR2, SignalAction.handle((c, s) -> bump(c, 8)));
            final long usr1 = ProcessContext.maskOf(Signal.SIGUSR1);
            final long usr2 = ProcessContext.maskOf(Signal.SIGUSR2);

            // Both pending before the call: it handles SIGUSR1, SIGUSR2 stays blocked, the caller's mask comes back.
            ctx.sigprocmask(ProcessContext.SIG_SETMASK, usr1 | usr2);
            ctx.kill(ctx.getpid(), Signal.SIGUSR1);
            ctx.kill(ctx.getpid(), Signal.SIGUSR2);
            assertErrno(Errno.EINTR, () -> ctx.sigsuspend(usr2), "sigsuspend with SIGUSR1 pending");
            assertEquals(1, ctx.memory().loadLong(counters, 0), "SIGUSR1 handled by sigsuspend");
            assertEquals(0, ctx.memory().loadLong(counters, 8), "SIGUSR2 stayed blocked through the wait");
            assertEquals(usr1 | usr2, ctx.sigprocmask(ProcessContext.SIG_BLOCK, 0), "the mask restored");
            assertEquals(usr2, ctx.sigpending(), "SIGUSR2 still pending");
            ctx.sigprocmask(ProcessContext.SIG_SETMASK, usr1);
            assertEquals(1, ctx.memory().loadLong(counters, 8), "SIGUSR2 delivered once unblocked");

            // Raised during the wait behind its temporary mask: restoring the mask delivers it before the return.
            ctx.memory().storeLong(counters, 16, 1);
            ctx.kill(ctx.getpid(), Signal.SIGUSR1);
            assertErrno(Errno.EINTR, () -> ctx.sigsuspend(usr2), "sigsuspend whose handler raises SIGUSR2");
            assertEquals(2, ctx.memory().loadLong(counters, 0), "SIGUSR1 handled");
            assertEquals(2, ctx.memory().loadLong(counters, 8), "SIGUSR2 delivered as the mask was restored");
            ctx.memory().storeLong(counters, 16, 0);

            // Sent by another µprocess, before or during the wait: SIGUSR1 is blocked until then, so it is not lost.
            ctx.fork(child(c -> c.kill(c.getppid(), Signal.SIGUSR1)));
            assertErrno(Errno.EINTR, () -> ctx.sigsuspend(0), "sigsuspend woken by a child's SIGUSR1");
            assertEquals(3, ctx.memory().loadLong(counters, 0), "SIGUSR1 handled");
            assertEquals(usr1, ctx.sigprocmask(ProcessContext.SIG_BLOCK, 0), "the mask restored");
            assertEquals(0, ctx.sigpending(), "nothing left pending");
        });
    }

    /** SIGKILL ends a sigsuspend whose mask blocks everything (it would otherwise wait for ever). */
    @Test
    void shouldKillASigsuspendThatBlocksEverything()
    {
        runClean("sigsuspend-kill", ctx ->
        {
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                c.sigprocmask(ProcessContext.SIG_SETMASK, -1L);
                c.kill(c.getppid(), Signal.SIGUSR1);
                c.sigsuspend(-1L);
                c.exit(3);
            }));
            awaitWakeUp(ctx);
            // Were SIGTERM not blocked, its wake-up would most likely end the child before the SIGKILL is sent.
            ctx.kill(child, Signal.SIGTERM);
            ctx.kill(child, Signal.SIGKILL);
            assertSignaled(Signal.SIGKILL, ctx.waitpid(child, 0).status(), "SIGKILL through a full mask");
        });
    }

    private static void bump(final ProcessContext ctx, final long offset)
    {
        final Capability counters = page(ctx, 1);
        ctx.memory().storeLong(counters, offset, ctx.memory().loadLong(counters, offset) + 1);
    }

    /**
     * A handled signal cuts a sleep short, and sleep says how much was left. A signal that arrives before the sleep
     * starts is handled at its start and does not cut it, so the parent keeps signalling until the child is done.
     */
    @Test
    void shouldEndSleepEarlyWithTheTimeLeftWhenAHandledSignalArrives()
    {
        runClean("sleep", ctx ->
        {
            armWakeUp(ctx);
            final int child = ctx.fork(child(c ->
            {
                final long left = c.sleep(HOUR);
                assertTrue(left > 0 && left <= HOUR, "sleep returned " + left + " ns left of " + HOUR);
                c.exit(7);
            }));
            WaitResult r;
            while ((r = ctx.waitpid(child, ProcessContext.WNOHANG)).pid() == 0)
            {
                ctx.kill(child, Signal.SIGUSR1);
                // Pacing only: the outcome does not depend on how long this sleep is.
                ctx.sleep(TimeUnit.MILLISECONDS.toNanos(1));
            }
            assertEquals(new WaitResult(child, WaitStatus.exited(7)), r);
            assertEquals(0, ctx.sleep(0), "a zero sleep completes");
            assertErrno(Errno.EINVAL, () -> ctx.sleep(-1), "a negative sleep");
        });
    }

    /**
     * A µprocess that does nothing but store, never entering the kernel, still dies of SIGKILL, and of a
     * terminating default action: stores are where it notices.
     */
    @Test
    void shouldKillAProcessBusyInALoopOfStores()
    {
        for (final Signal signal : new Signal[] {Signal.SIGKILL, Signal.SIGTERM})
        {
            final CompletableFuture<Void> looping = new CompletableFuture<>();
            final int pid = kernel.spawn(AREA, child(ctx ->
            {
                final Capability target = page(ctx, 1);
                long i = 0;
                while (true)
                {
                    ctx.memory().storeLong(target, (i & 511) << 3, i);
                    if (++i == 1000)
                    {
                        looping.complete(null);
                    }
                }
            }));
            await(looping, "the store loop");
            kernel.signal(pid, signal);
            assertSignaled(signal, TestPrograms.awaitExit(kernel, pid, signal + " of a store loop"), "store loop");
        }
        ProcessSync.rethrow(failure, "store loop");
    }

    // ------------------------------------------------------------------------------------------------------------
    // errors

    @Test
    void shouldRefuseKillOfAMissingPidWithEsrchAndOfInitWithEperm()
    {
        runClean("kill errors", ctx ->
        {
            assertErrno(Errno.ESRCH, () -> ctx.kill(99_999, Signal.SIGTERM), "kill of a missing pid");
            assertErrno(Errno.EPERM, () -> ctx.kill(1, Signal.SIGKILL), "kill of init");
            assertErrno(Errno.EINVAL, () -> ctx.kill(ctx.getpid(), null), "kill without a signal");
            final int child = ctx.fork(child(c -> c.exit(0)));
            ctx.waitpid(child, 0);
            assertErrno(Errno.ESRCH, () -> ctx.kill(child, Signal.SIGTERM), "kill of a reaped child");
        });
        assertErrno(Errno.ESRCH, () -> kernel.signal(99_999, Signal.SIGTERM), "host kill of a missing pid");
        assertErrno(Errno.EPERM, () -> kernel.signal(1, Signal.SIGKILL), "host kill of init");
        assertEquals(1, kernel.metrics().liveProcesses(), "init survives");
    }
}
