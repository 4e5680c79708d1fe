package dev.ufork.kernel;

import java.util.concurrent.locks.LockSupport;

/**
 * A virtual thread started before the µprocess it will run exists, parked until the kernel hands it that
 * µprocess's body. Why: a fork is its parent's critical path, and creating and starting a thread there cost 45-65 µs
 * on a machine whose caches a snapshot child had just flushed, against 35-40 µs to hand a parked standby its body
 * (nearly all of it the wake-up of a parked carrier). Starting the next standby is the new child's work, off its
 * parent's fork (see docs/performance.md, "Where a BGSAVE fork's time goes").
 * <p>
 * Each standby runs exactly one body, so every µprocess still has a thread of its own: identity checks by thread
 * (confinement, the barrier's owner) never see a thread that ran another µprocess.
 * <p>
 * Thread safety: {@link #hand} or {@link #stop} is called once, by the thread that took the standby from the
 * kernel's slot. Lifetime: until the body handed to it returns, or until stopped.
 */
final class StandbyThread implements Runnable
{
    private static final Runnable STOP = () ->
    {
    };

    private final Thread thread = Thread.ofVirtual().name("ufork-standby").unstarted(this);
    private volatile Runnable body;

    /** @return a started standby, parked until it is handed a body. */
    static StandbyThread start()
    {
        final StandbyThread standby = new StandbyThread();
        standby.thread.start();
        return standby;
    }

    /** @return the thread that will run the body. */
    Thread thread()
    {
        return thread;
    }

    /** Runs {@code body} on this standby's thread, which is woken for it. */
    void hand(final Runnable body)
    {
        this.body = body;
        LockSupport.unpark(thread);
    }

    /** Lets the thread end without running anything: for a standby the kernel no longer needs. */
    void stop()
    {
        hand(STOP);
    }

    @Override
    public void run()
    {
        Runnable handed;
        // Park returns early for a stray unpark or an interrupt (a signal sent to the µprocess between the kernel
        // publishing this thread and handing it the body); either way the loop looks again.
        while ((handed = body) == null)
        {
            LockSupport.park(this);
        }
        handed.run();
    }
}
