package dev.ufork.kernel;

import dev.ufork.memory.Geometry;

import java.util.BitSet;

/**
 * The kernel's {@link KernelMetrics}: counters read from {@link KernelStatistics}, and proportional memory worked out
 * from the page-sharing relations.
 * <p>
 * Thread safety: safe from any thread; values are read without a common snapshot.
 */
final class LiveMetrics implements KernelMetrics
{
    private final Kernel kernel;
    private final KernelStatistics statistics;

    LiveMetrics(final Kernel kernel, final KernelStatistics statistics)
    {
        this.kernel = kernel;
        this.statistics = statistics;
    }

    @Override
    public long forks()
    {
        return statistics.forks();
    }

    @Override
    public long pageCopies(final PageCopyCause cause)
    {
        return statistics.pageCopies(cause);
    }

    @Override
    public long capabilitiesRelocated()
    {
        return statistics.capabilitiesRelocated();
    }

    @Override
    public long liveProcesses()
    {
        long live = 0;
        for (final MicroProcess ignored : kernel.processes())
        {
            live++;
        }
        return live;
    }

    /**
     * Resident pages that are the µprocess's own. A forked µprocess asks residency only where its page states have
     * leaves (pages elsewhere are all SHARED), so the cost follows what it copied, not the size of its area.
     */
    @Override
    public long privateBytes(final int pid)
    {
        final MicroProcess process = kernel.process(pid);
        final PageStates states = process.states;
        if (states == null)
        {
            return process.area.usage().committedBytes();
        }
        long pages = 0;
        for (int slot = states.nextLeaf(0); slot >= 0; slot = states.nextLeaf(slot + 1))
        {
            final int first = slot << PageStates.LEAF_SHIFT;
            final int count = Math.min(PageStates.LEAF_PAGES, process.pages - first);
            final BitSet resident = kernel.space().residentPages(process.pageAddress(first),
                (long)count << Geometry.PAGE_SHIFT);
            for (int i = resident.nextSetBit(0); i >= 0 && i < count; i = resident.nextSetBit(i + 1))
            {
                if (states.isPrivate(first + i))
                {
                    pages++;
                }
            }
        }
        return pages * Geometry.PAGE_SIZE;
    }

    /**
     * For every page of the µprocess's area: find the physical page its view lives in (its own, or an ancestor's it
     * still shares), skip it if that page was never touched, and add the page size divided by the number of live
     * µprocesses whose view is that same physical page.
     */
    @Override
    public long proportionalBytes(final int pid)
    {
        final MicroProcess process = kernel.process(pid);
        final java.util.List<MicroProcess> relatives = new java.util.ArrayList<>();
        for (final MicroProcess other : kernel.processes())
        {
            if (other.area.size() == process.area.size() && other != kernel.init()
                && other.state != MicroProcess.State.REAPED)
            {
                relatives.add(other);
            }
        }
        final java.util.Map<MicroProcess, BitSet> residency = new java.util.HashMap<>();
        double bytes = 0;
        for (int page = 0; page < process.pages; page++)
        {
            final MicroProcess owner = Sharing.physicalOwner(process, page);
            final BitSet resident = residency.computeIfAbsent(owner,
                o -> kernel.space().residentPages(o.base, o.area.size()));
            if (!resident.get(page))
            {
                continue;
            }
            int viewers = 0;
            for (final MicroProcess other : relatives)
            {
                if (Sharing.physicalOwner(other, page) == owner)
                {
                    viewers++;
                }
            }
            bytes += (double)Geometry.PAGE_SIZE / Math.max(1, viewers);
        }
        return Math.round(bytes);
    }
}
