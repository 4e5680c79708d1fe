package dev.ufork.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The threads µprocesses run on: each its own, started ahead as a standby and handed the µprocess at its fork or
 * spawn, or started then when no standby is waiting; and no standby outlives its kernel.
 */
final class StandbyThreadTest extends KernelTestBase
{
    /**
     * Forks one at a time (each usually served by the standby its predecessor started) and in a burst (most of
     * which find the slot empty and start a thread of their own): every µprocess runs on a virtual thread that no
     * other µprocess ran on, named after its pid.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldRunEveryProcessOnAThreadOfItsOwn(final CopyMode mode)
    {
        final Map<Integer, Thread> threads = new ConcurrentHashMap<>();
        final int sequential = 12;
        final int burst = 8;
        runClean(mode + " forks", ctx ->
        {
            threads.put(ctx.getpid(), Thread.currentThread());
            for (int i = 0; i < sequential; i++)
            {
                final int child = ctx.fork(child(c -> threads.put(c.getpid(), Thread.currentThread())), mode);
                assertEquals(0, WaitStatus.exitStatus(ctx.waitpid(child, 0).status()), "child " + child);
            }
            final List<Integer> children = new ArrayList<>();
            for (int i = 0; i < burst; i++)
            {
                children.add(ctx.fork(child(c -> threads.put(c.getpid(), Thread.currentThread())), mode));
            }
            for (final int child : children)
            {
                assertEquals(0, WaitStatus.exitStatus(ctx.waitpid(child, 0).status()), "child " + child);
            }
        });
        assertEquals(1 + sequential + burst, threads.size(), mode + ": µprocesses that ran");
        final Set<Thread> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        for (final Map.Entry<Integer, Thread> e : threads.entrySet())
        {
            final Thread thread = e.getValue();
            assertTrue(distinct.add(thread), mode + ": pid " + e.getKey() + " ran on a thread another µprocess ran on");
            assertTrue(thread.isVirtual(), mode + ": pid " + e.getKey() + " on " + thread);
            assertEquals("ufork-" + e.getKey(), thread.getName(), mode + ": the name of pid " + e.getKey() + "'s thread");
        }
    }

    /** With the slot emptied, a fork starts a thread of its own, and its child starts the next standby. */
    @Test
    void shouldStartAThreadWhenNoStandbyWaitsAndRefillTheSlot() throws InterruptedException
    {
        runClean("warm-up", ctx ->
        {
        });
        final StandbyThread taken = kernel.takeStandby();
        assertNotNull(taken, "the spawned µprocess started a standby for the next one");
        taken.stop();
        taken.thread().join(10_000);
        assertFalse(taken.thread().isAlive(), "a stopped standby ends without running anything");
        assertNull(kernel.standbyThread(), "the slot is empty");
        final Thread[] ranOn = new Thread[1];
        runClean("a spawn with no standby waiting", ctx -> ranOn[0] = Thread.currentThread());
        assertTrue(ranOn[0] != taken.thread(), "the spawn ran on a thread of its own");
        assertNotNull(kernel.standbyThread(), "the µprocess started the next standby");
    }

    /** Closing the kernel ends the standby waiting in its slot, which holds the kernel and would otherwise leak. */
    @Test
    void shouldEndTheWaitingStandbyWhenTheKernelCloses() throws InterruptedException
    {
        runClean("one µprocess", ctx ->
        {
        });
        final Thread standby = kernel.standbyThread();
        assertNotNull(standby, "a standby waits after the first µprocess");
        assertTrue(standby.isAlive(), "the standby is parked, not ended");
        kernel.close();
        standby.join(10_000);
        assertFalse(standby.isAlive(), "the standby ended with its kernel");
        assertNull(kernel.standbyThread(), "the slot is empty after close");
    }

    /**
     * A signal sent the moment fork returns, before the child has run anything, is not lost: the thread may be
     * interrupted while it still waits to be handed the child, and the child then dies of it as it starts.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldDeliverAKillSentBeforeTheChildRuns(final CopyMode mode)
    {
        final int rounds = 40;
        runClean(mode + " kills", ctx ->
        {
            for (int i = 0; i < rounds; i++)
            {
                final Signal signal = i % 2 == 0 ? Signal.SIGKILL : Signal.SIGTERM;
                final int child = ctx.fork(child(c ->
                {
                    while (true)
                    {
                        c.pause();
                    }
                }), mode);
                ctx.kill(child, signal);
                assertEquals(WaitStatus.signaled(signal), ctx.waitpid(child, 0).status(), "round " + i);
            }
        });
    }
}
