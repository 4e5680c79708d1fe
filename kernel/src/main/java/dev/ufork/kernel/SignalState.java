package dev.ufork.kernel;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A µprocess's signals: the action for each, the mask of blocked ones, and the pending set. Bit {@code n} of a mask
 * is the signal numbered {@code n}.
 * <p>
 * Any thread may post a signal ({@link #post}); the µprocess's own thread changes actions and the mask and takes
 * pending signals for delivery. A fork copies actions and mask, not pending signals, as POSIX says.
 * <p>
 * Thread safety: the pending set is atomic; actions and mask are written by the owner and read by posters.
 */
final class SignalState
{
    private final SignalAction[] actions = new SignalAction[Signal.MAX_NUMBER + 1];
    private final AtomicLong pending = new AtomicLong();
    private volatile long blocked;

    SignalState()
    {
        java.util.Arrays.fill(actions, SignalAction.DEFAULT);
    }

    /** @return a copy for a forked child: same actions and mask, nothing pending. */
    SignalState forChild()
    {
        final SignalState child = new SignalState();
        synchronized (this)
        {
            System.arraycopy(actions, 0, child.actions, 0, actions.length);
        }
        child.blocked = blocked;
        return child;
    }

    synchronized SignalAction action(final Signal signal)
    {
        return actions[signal.number()];
    }

    synchronized SignalAction setAction(final Signal signal, final SignalAction action)
    {
        final SignalAction previous = actions[signal.number()];
        actions[signal.number()] = action;
        if (action.disposition() == SignalAction.Disposition.IGNORE
            || (action.disposition() == SignalAction.Disposition.DEFAULT && !signal.terminatesByDefault()))
        {
            // POSIX: setting SIG_IGN (or a default that ignores) discards a pending instance.
            pending.getAndUpdate(p -> p & ~bit(signal));
        }
        return previous;
    }

    long blocked()
    {
        return blocked;
    }

    void setBlocked(final long mask)
    {
        // SIGKILL cannot be blocked.
        blocked = mask & ~bit(Signal.SIGKILL);
    }

    long pending()
    {
        return pending.get();
    }

    /**
     * Records a signal as pending unless its action discards it.
     *
     * @return whether it is now pending and deliverable (not blocked): the receiver should be woken.
     */
    boolean post(final Signal signal)
    {
        final SignalAction action = action(signal);
        if (action.disposition() == SignalAction.Disposition.IGNORE
            || (action.disposition() == SignalAction.Disposition.DEFAULT && !signal.terminatesByDefault()))
        {
            return false;
        }
        pending.getAndUpdate(p -> p | bit(signal));
        return (blocked & bit(signal)) == 0;
    }

    /** @return whether some pending signal is not blocked. */
    boolean hasDeliverable()
    {
        return (pending.get() & ~blocked) != 0;
    }

    /**
     * Takes the lowest-numbered pending signal that is not blocked.
     *
     * @return it, or null if none.
     */
    Signal takeDeliverable()
    {
        while (true)
        {
            final long p = pending.get();
            final long deliverable = p & ~blocked;
            if (deliverable == 0)
            {
                return null;
            }
            final long lowest = Long.lowestOneBit(deliverable);
            if (pending.compareAndSet(p, p & ~lowest))
            {
                return Signal.of(Long.numberOfTrailingZeros(lowest));
            }
        }
    }

    static long bit(final Signal signal)
    {
        return 1L << signal.number();
    }
}
