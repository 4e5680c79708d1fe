package dev.ufork.apps;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

/**
 * Decides when a warm-up loop may stop: after its minimum time, once the JIT has finished no compilation for
 * {@value #QUIET_MILLIS} ms (so the measured loop runs the code the JIT settled on), and in any case after
 * {@value #MAX_SECONDS} s. On a machine shared with other work the compiler threads get less CPU and the JIT takes
 * longer to settle; a fixed warm-up then measures partly interpreted code (the spawn loop ran at a quarter of its
 * rate after 0.5 s of warm-up on a loaded machine).
 * <p>
 * Thread safety: confined to the thread running the loop. Lifetime: one warm-up.
 */
public final class WarmUp
{
    /** How long the JIT must have been idle. */
    static final long QUIET_MILLIS = 500;
    /** The longest warm-up, whatever the JIT does: the demo has three and must stay well under 30 s. */
    static final long MAX_SECONDS = 5;
    /** How often to ask the JIT, so that asking costs nothing that matters. */
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final long minNanos;
    private final long start = System.nanoTime();
    private final CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    private final boolean watchJit = jit != null && jit.isCompilationTimeMonitoringSupported();
    private long lastPoll = start;
    private long lastTotal = -1;
    private long lastChange = start;

    /** @param minSeconds the shortest warm-up; 0 for none at all. */
    public WarmUp(final double minSeconds)
    {
        this.minNanos = (long)(minSeconds * TimeUnit.SECONDS.toNanos(1));
    }

    /** @return whether the loop may stop now. */
    public boolean done()
    {
        if (minNanos <= 0)
        {
            return true;
        }
        final long now = System.nanoTime();
        if (watchJit && now - lastPoll >= POLL_NANOS)
        {
            lastPoll = now;
            final long total = jit.getTotalCompilationTime();
            if (total != lastTotal)
            {
                lastTotal = total;
                lastChange = now;
            }
        }
        final long elapsed = now - start;
        if (elapsed >= TimeUnit.SECONDS.toNanos(MAX_SECONDS))
        {
            return true;
        }
        return elapsed >= minNanos && (!watchJit || now - lastChange >= TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS));
    }
}
