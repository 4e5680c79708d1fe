package dev.ufork.kernel;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The kernel's counters, updated without locks ({@link LongAdder}), so concurrent forks and page copies do not
 * contend on them.
 */
final class KernelStatistics
{
    private final LongAdder forks = new LongAdder();
    private final LongAdder relocated = new LongAdder();
    private final Map<PageCopyCause, LongAdder> copies = new EnumMap<>(PageCopyCause.class);
    /** Capabilities relocated by copies the current thread made, so that a fork can count its own. */
    private final ThreadLocal<long[]> relocatedHere = ThreadLocal.withInitial(() -> new long[1]);

    KernelStatistics()
    {
        for (final PageCopyCause cause : PageCopyCause.values())
        {
            copies.put(cause, new LongAdder());
        }
    }

    void forked()
    {
        forks.increment();
    }

    void pageCopied(final PageCopyCause cause)
    {
        copies.get(cause).increment();
        PageCopyEvent.record(cause);
    }

    void capabilitiesRelocated(final long count)
    {
        if (count != 0)
        {
            relocated.add(count);
            relocatedHere.get()[0] += count;
        }
    }

    /** @return capabilities relocated so far by copies made on the calling thread. */
    long capabilitiesRelocatedByThisThread()
    {
        return relocatedHere.get()[0];
    }

    long forks()
    {
        return forks.sum();
    }

    long pageCopies(final PageCopyCause cause)
    {
        return copies.get(cause).sum();
    }

    long capabilitiesRelocated()
    {
        return relocated.sum();
    }
}
