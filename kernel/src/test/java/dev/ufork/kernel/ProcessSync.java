package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.memory.Geometry;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How the life-cycle, signal and metrics tests make µprocesses and the test thread wait for each other without
 * sleeping: a µprocess waits for a go-ahead with {@code pause()} on a caught SIGUSR1 (the kernel's own wait), the
 * test thread waits for news from a µprocess on a {@link CompletableFuture} that the µprocess completes (it never
 * blocks on one itself, so a kill cannot catch it in a Java wait). Every wait of the test thread is bounded by
 * {@link TestPrograms#HANG_GUARD}, which only turns a hang into a failure; a µprocess left waiting shows up as one.
 * <p>
 * Also page-sized windows of an area, for tests that count page copies.
 */
final class ProcessSync
{
    /**
     * Go-ahead signals delivered to the µprocess running on this thread and not yet consumed by
     * {@link #awaitWakeUp}. Handlers run on the target's own thread, so a thread-local count needs no locking, leaves
     * the µprocess's memory (and so the page-copy counters) alone, and starts at zero in a forked child, whose
     * pending signals are not inherited either.
     */
    private static final ThreadLocal<int[]> WAKE_UPS = ThreadLocal.withInitial(() -> new int[1]);

    /** Counts a go-ahead: its only effect is to end a {@link #awaitWakeUp} (and a {@code pause()} with EINTR). */
    static final SignalAction WAKE_UP = SignalAction.handle((ctx, signal) -> noteWakeUp());

    private ProcessSync()
    {
    }

    /** Counts a go-ahead for the µprocess of the calling thread; for handlers that do more than {@link #WAKE_UP}. */
    static void noteWakeUp()
    {
        WAKE_UPS.get()[0]++;
    }

    /**
     * Catches SIGUSR1 with {@link #WAKE_UP}, so that SIGUSR1 becomes a go-ahead instead of a kill. Forked children
     * inherit it, so a parent that arms before forking may signal its children from the moment fork returns.
     */
    static void armWakeUp(final ProcessContext ctx)
    {
        ctx.sigaction(Signal.SIGUSR1, WAKE_UP);
    }

    /**
     * Waits in {@code pause()} until a go-ahead has been delivered, and consumes it. Race-free: a go-ahead that any
     * earlier kernel call already handled is counted and ends this at once, and one that is still pending is handled
     * by {@code pause()} on entry.
     */
    static void awaitWakeUp(final ProcessContext ctx)
    {
        final int[] received = WAKE_UPS.get();
        while (received[0] == 0)
        {
            // Not assertThrows: it would catch the ProcessTermination of a kill and turn it into a failure.
            try
            {
                ctx.pause();
                throw new AssertionError("pause returned normally");
            }
            catch (final ErrnoException e)
            {
                assertEquals(Errno.EINTR, e.errno(), "pause: " + e.getMessage());
            }
        }
        received[0]--;
    }

    /**
     * @param future what a µprocess will complete.
     * @param what   what is awaited, for the failure message.
     * @return its value.
     */
    static <T> T await(final CompletableFuture<T> future, final String what)
    {
        try
        {
            return future.get(TestPrograms.HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (final TimeoutException e)
        {
            throw new AssertionError("hang guard: still waiting for " + what, e);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + what, e);
        }
        catch (final ExecutionException e)
        {
            throw new AssertionError(what + " failed: " + e.getCause(), e.getCause());
        }
    }

    /** A kernel call expected to fail. */
    @FunctionalInterface
    interface KernelCall
    {
        /** Makes the call. */
        void run();
    }

    /**
     * Asserts that {@code call} fails with {@code errno}. Anything but an {@link ErrnoException} goes through
     * untouched, so that a µprocess killed during the call still dies of it.
     *
     * @return the exception.
     */
    static ErrnoException assertErrno(final Errno errno, final KernelCall call, final String what)
    {
        try
        {
            call.run();
        }
        catch (final ErrnoException e)
        {
            assertEquals(errno, e.errno(), what + ": " + e.getMessage());
            return e;
        }
        throw new AssertionError(what + ": expected " + errno + ", the call succeeded");
    }

    /**
     * @param ctx  a µprocess.
     * @param page a page index in its area (page 0 holds the register file; pages from 1 on are free for tests).
     * @return a capability over exactly that page.
     */
    static Capability page(final ProcessContext ctx, final int page)
    {
        final Capability area = ctx.area();
        return area.withAddress(area.base() + ((long)page << Geometry.PAGE_SHIFT)).setBoundsExact(Geometry.PAGE_SIZE);
    }

    /**
     * Asserts that a µprocess's wait status says it exited normally with {@code status}, and if it exited with
     * {@link TestPrograms#FAILED} rethrows the failure it recorded.
     */
    static void assertExited(final int status, final int waitStatus, final AtomicReference<Throwable> failure,
        final String what)
    {
        if (WaitStatus.ifExited(waitStatus) && WaitStatus.exitStatus(waitStatus) == TestPrograms.FAILED
            && failure.get() != null)
        {
            throw new AssertionError(what + ": " + failure.get(), failure.get());
        }
        assertEquals(WaitStatus.exited(status), waitStatus, what + ": wait status 0x" + Integer.toHexString(waitStatus));
    }

    /** Rethrows the first failure a µprocess recorded, if any. */
    static void rethrow(final AtomicReference<Throwable> failure, final String what)
    {
        final Throwable t = failure.get();
        if (t != null)
        {
            throw new AssertionError(what + ": " + t, t);
        }
    }
}
