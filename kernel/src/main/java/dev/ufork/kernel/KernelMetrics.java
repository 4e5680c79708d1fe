package dev.ufork.kernel;

/**
 * Counters a kernel keeps, readable at any time without a metrics library. Values only grow, except
 * {@link #liveProcesses()}.
 * <p>
 * Thread safety: implementations are safe to read from any thread; reads are not a consistent snapshot.
 */
public interface KernelMetrics
{
    /** @return forks that succeeded. */
    long forks();

    /**
     * @param cause why pages were copied.
     * @return pages copied for that cause.
     */
    long pageCopies(PageCopyCause cause);

    /** @return capabilities relocated into children, at forks and page copies. */
    long capabilitiesRelocated();

    /** @return µprocesses not yet reaped, init included. */
    long liveProcesses();

    /**
     * The proportional memory of a µprocess: its private pages plus, for each page it still shares, the page divided
     * by the number of µprocesses sharing it, in bytes.
     *
     * @param pid a live µprocess.
     * @return its proportional set size.
     * @throws ErrnoException ESRCH if there is no such µprocess.
     */
    long proportionalBytes(int pid);

    /**
     * The private memory of a µprocess: its pages that hold their own bytes (never shared, or copied since its fork)
     * and are resident, in bytes. For a forked child this is what the fork has cost in memory so far.
     *
     * @param pid a live µprocess.
     * @return its private resident bytes.
     * @throws ErrnoException ESRCH if there is no such µprocess.
     */
    long privateBytes(int pid);
}
