package dev.ufork.kernel;

import dev.ufork.kernel.relocation.RelocationWindow;
import dev.ufork.kernel.relocation.Relocator;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.Geometry;
import dev.ufork.memory.PageLocks;
import dev.ufork.memory.TaggedMemory;
import dev.ufork.memory.os.NativeMemory;

import java.util.BitSet;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The copy-on-write engine: finds where a shared page's bytes live, copies a page into a µprocess with its
 * capabilities relocated, and gives the children that still share a page their copy before their source writes it.
 * <p>
 * <b>Locking.</b> The bytes of a page that others still share live in exactly one "physical" page: that of the
 * nearest ancestor (along the source chain) for which the page is PRIVATE. Whoever copies out of a physical page
 * holds that page's {@link PageLocks} stripe, and so does its owner while it gives its sharers their copies before
 * a write ({@link #makeExclusive}). The owner writes the page only after that, so a copy never sees a half-written
 * page; optimistic readers of a shared page validate against the same stripe. A thread holds at most one stripe at
 * a time, and a thread that finds a page COPYING waits only after releasing its stripe, so nothing can deadlock.
 * <p>
 * Thread safety: all methods may be called from any thread.
 */
final class Sharing
{
    private final AddressSpace space;
    private final TaggedMemory memory;
    private final PageLocks locks;
    private final Relocator relocator;
    private final KernelStatistics statistics;

    Sharing(final AddressSpace space, final Relocator relocator, final KernelStatistics statistics)
    {
        this.space = space;
        this.memory = space.memory();
        this.locks = memory.locks();
        this.relocator = relocator;
        this.statistics = statistics;
    }

    /**
     * @return the µprocess whose area physically holds {@code process}'s view of {@code page}: the nearest along the
     *         source chain for which the page is private.
     */
    static MicroProcess physicalOwner(final MicroProcess process, final int page)
    {
        MicroProcess at = process;
        while (!at.isPagePrivate(page))
        {
            at = at.source;
        }
        return at;
    }

    private int stripeOf(final MicroProcess owner, final int page)
    {
        return locks.stripeOf(owner.pageAddress(page) >>> Geometry.PAGE_SHIFT);
    }

    /**
     * Makes {@code page} of {@code process} PRIVATE by copying its current view into it, relocating the
     * capabilities that point into the physical owner's area. Returns at once if it already is.
     *
     * @param process    the µprocess.
     * @param page       the page index in its area.
     * @param heldOwner  a µprocess whose stripe for {@code page} the calling thread already holds, or null.
     * @param cause      why the copy happens, for statistics.
     */
    void materialize(final MicroProcess process, final int page, final MicroProcess heldOwner, final PageCopyCause cause)
    {
        while (true)
        {
            if (process.isPagePrivate(page))
            {
                return;
            }
            final MicroProcess owner = physicalOwner(process.source, page);
            final boolean lockHere = owner != heldOwner;
            final int stripe = stripeOf(owner, page);
            if (lockHere)
            {
                locks.lockStripe(stripe);
            }
            boolean done = false;
            boolean busy = false;
            try
            {
                if (process.isPagePrivate(page))
                {
                    return;
                }
                if (physicalOwner(process.source, page) == owner)
                {
                    if (process.states.transition(page, PageStates.SHARED, PageStates.COPYING))
                    {
                        copyPage(owner, process, page);
                        process.states.transition(page, PageStates.COPYING, PageStates.PRIVATE);
                        statistics.pageCopied(cause);
                        done = true;
                    }
                    else
                    {
                        busy = true;
                    }
                }
            }
            finally
            {
                if (lockHere)
                {
                    locks.unlockStripe(stripe);
                }
            }
            if (done)
            {
                return;
            }
            if (busy)
            {
                // Another thread is copying this page from some owner it holds; it needs nothing we hold.
                while (process.states.get(page) == PageStates.COPYING)
                {
                    Thread.onSpinWait();
                }
            }
        }
    }

    private void copyPage(final MicroProcess from, final MicroProcess to, final int page)
    {
        final RelocationWindow window = new RelocationWindow(from.base, from.base + from.area.size(), to.base,
            to.base + to.area.size());
        final long relocated = relocator.copyAndRelocate(memory, from.pageAddress(page), to.pageAddress(page), window);
        statistics.capabilitiesRelocated(relocated);
    }

    /**
     * Before {@code process} writes {@code page}: gives every child that may still share the page its own copy, then
     * marks the page exclusive for the current fork epoch (and accessed, for COA children). The page itself must
     * already be private.
     */
    void makeExclusive(final MicroProcess process, final int page)
    {
        final int stripe = stripeOf(process, page);
        locks.lockStripe(stripe);
        try
        {
            giveCopies(process, page, process.exclusiveEpoch[page], false, PageCopyCause.PARENT_WRITE);
            process.exclusiveEpoch[page] = process.forkEpoch;
            if (process.accessEpoch != null)
            {
                process.accessEpoch[page] = process.coaEpoch;
            }
        }
        finally
        {
            locks.unlockStripe(stripe);
        }
    }

    /**
     * Before {@code process} loads from {@code page}: gives every copy-on-access child that may still share the page
     * its own copy (under COA both sides lose the page at the fork), then marks the page accessed for the latest COA
     * fork. Copy-on-pointer-access children keep sharing it.
     */
    void makeAccessed(final MicroProcess process, final int page)
    {
        final int stripe = stripeOf(process, page);
        locks.lockStripe(stripe);
        try
        {
            giveCopies(process, page, process.accessEpoch[page], true, PageCopyCause.ACCESS);
            process.accessEpoch[page] = process.coaEpoch;
        }
        finally
        {
            locks.unlockStripe(stripe);
        }
    }

    /**
     * Materializes {@code page} in every child of {@code process} born after epoch {@code since} that still shares
     * it (only the copy-on-access ones if {@code coaOnly}). Skips an exited child that nobody reads through: its
     * view will never be looked at again. The caller holds {@code process}'s stripe for the page.
     */
    private void giveCopies(final MicroProcess process, final int page, final int since, final boolean coaOnly,
        final PageCopyCause cause)
    {
        for (final MicroProcess.Sharer sharer : process.sharers)
        {
            final MicroProcess child = sharer.child();
            if (sharer.epoch() - since > 0 && (!coaOnly || child.copyOnRead) && !child.isPagePrivate(page)
                && (child.state == MicroProcess.State.RUNNING || !child.sharers.isEmpty()))
            {
                materialize(child, page, process, cause);
            }
        }
    }

    /**
     * @param address first byte, in a page that others still read.
     * @param length  bytes, within that page.
     * @return whether any granule the bytes overlap is tagged: they belong to a capability.
     */
    boolean anyTagged(final long address, final long length)
    {
        return memory.tags().nextTagged(address & -Geometry.GRANULE_SIZE, address + length) >= 0;
    }

    /**
     * Makes every page of {@code process} that is not yet private its own (an eager fork, or a source about to go).
     * A page that is not resident where its view lives reads zero and has no tags: it becomes PRIVATE without a
     * copy (zero-filled only if {@code process}'s own page is resident), so that never-touched pages stay untouched:
     * an eager fork of a 1 GiB µprocess that used 1 MiB copies 1 MiB. Residency is asked once per
     * {@value PageStates#LEAF_PAGES} pages of each area involved ({@code mincore}).
     */
    void materializeAll(final MicroProcess process, final PageCopyCause cause)
    {
        if (process.states == null)
        {
            return;
        }
        for (int first = 0; first < process.pages; first += PageStates.LEAF_PAGES)
        {
            materializeBatch(process, first, Math.min(PageStates.LEAF_PAGES, process.pages - first), cause);
        }
    }

    /**
     * {@link #materializeAll} for {@code count} pages from {@code first}.
     * <p>
     * Why a page found not resident may be taken as zero: the owners are looked up first, the residency asked
     * after, and a page is skipped only if it still has the same owner, under that owner's stripe lock. An owner
     * gives the µprocesses reading through it their copies (under that lock) before it writes a page, and a page
     * never stops being private, so a page whose owner has not changed since before the residency was asked has not
     * been written since: it is still the zero page {@code mincore} saw. The destination page is still SHARED, and
     * only a copier that has moved it to COPYING writes it; if it was not resident it is still zero when the CAS to
     * PRIVATE succeeds, and if it was, it is zero-filled while COPYING, as a copy would be written.
     */
    private void materializeBatch(final MicroProcess process, final int first, final int count,
        final PageCopyCause cause)
    {
        final MicroProcess[] owners = new MicroProcess[count];
        boolean any = false;
        for (int i = 0; i < count; i++)
        {
            if (!process.isPagePrivate(first + i))
            {
                owners[i] = physicalOwner(process.source, first + i);
                any = true;
            }
        }
        if (!any)
        {
            return;
        }
        final Map<MicroProcess, BitSet> residency = new IdentityHashMap<>();
        final BitSet here = resident(process, first, count);
        for (int i = 0; i < count; i++)
        {
            final MicroProcess owner = owners[i];
            if (owner == null)
            {
                continue;
            }
            final int page = first + i;
            if (!residency.computeIfAbsent(owner, o -> resident(o, first, count)).get(i)
                && claimZeroPage(process, page, owner, here.get(i)))
            {
                continue;
            }
            materialize(process, page, null, cause);
        }
    }

    private BitSet resident(final MicroProcess process, final int first, final int count)
    {
        return space.residentPages(process.pageAddress(first), (long)count << Geometry.PAGE_SHIFT);
    }

    /**
     * Makes a page PRIVATE without a copy if its view still lives in {@code owner}, where it is known to be zero:
     * if the page is resident in {@code process}'s own area (a reused area's old bytes) it is zero-filled, and
     * otherwise left alone. Reading the owner's page instead would map the zero page there, and {@code mincore}
     * would count it as resident from then on.
     *
     * @return whether it did; if not, the page must be materialized as usual.
     */
    private boolean claimZeroPage(final MicroProcess process, final int page, final MicroProcess owner,
        final boolean residentHere)
    {
        final int stripe = stripeOf(owner, page);
        locks.lockStripe(stripe);
        try
        {
            if (physicalOwner(process.source, page) != owner)
            {
                return false;
            }
            if (!residentHere)
            {
                return process.states.transition(page, PageStates.SHARED, PageStates.PRIVATE);
            }
            if (!process.states.transition(page, PageStates.SHARED, PageStates.COPYING))
            {
                return false;
            }
            final long address = process.pageAddress(page);
            memory.segment().asSlice(address, Geometry.PAGE_SIZE).fill((byte)0);
            memory.tags().clearGranules(address >>> Geometry.GRANULE_SHIFT, Geometry.GRANULES_PER_PAGE);
            process.states.transition(page, PageStates.COPYING, PageStates.PRIVATE);
            return true;
        }
        finally
        {
            locks.unlockStripe(stripe);
        }
    }

    /**
     * Before the area of {@code source} is freed: every µprocess that may still read pages through it, and that is
     * running or read through itself, gets private copies of them.
     */
    void detachSharers(final MicroProcess source)
    {
        for (final MicroProcess.Sharer sharer : source.sharers)
        {
            final MicroProcess child = sharer.child();
            if (child.state == MicroProcess.State.RUNNING || !child.sharers.isEmpty())
            {
                materializeAll(child, PageCopyCause.SOURCE_EXIT);
            }
        }
    }

    /**
     * Gives pages of {@code process}'s area back to the OS: afterwards its view of them is zero with no tags, and
     * they cost no memory until touched again. Every µprocess that still reads one of the pages through
     * {@code process} (a child forked COA or COPA, or a descendant reading through such a child) gets its own copy
     * first, so only {@code process}'s view changes; a page {@code process} itself still shares with its source is
     * never copied: it simply stops being shared.
     * <p>
     * Called on {@code process}'s own thread, the only one that writes its area or changes its page epochs.
     *
     * @param process   the µprocess.
     * @param firstPage the first page index in its area.
     * @param pages     how many pages.
     */
    void discard(final MicroProcess process, final int firstPage, final int pages)
    {
        for (int page = firstPage; page < firstPage + pages; page++)
        {
            detachPage(process, page);
        }
        // Nobody reads these physical pages any more (see detachPage), so they can go without a lock.
        final long address = process.pageAddress(firstPage);
        final long length = (long)pages << Geometry.PAGE_SHIFT;
        NativeMemory.release(memory.segment(), address, length);
        memory.tags().clearRange(address, length);
    }

    /**
     * Makes {@code page} of {@code process} private without copying it, after giving every µprocess that reads the
     * page through {@code process} its own copy: from then on only {@code process} reads its physical page.
     */
    private void detachPage(final MicroProcess process, final int page)
    {
        while (true)
        {
            final PageStates states = process.states;
            final int state = states == null ? PageStates.PRIVATE : states.get(page);
            if (state == PageStates.PRIVATE)
            {
                // As before a store: the children that may share the page get their copies, under its stripe, so a
                // copy in progress finishes first and an optimistic reader of the page fails its validation.
                final int stripe = stripeOf(process, page);
                locks.lockStripe(stripe);
                try
                {
                    if (process.exclusiveEpoch != null)
                    {
                        giveCopies(process, page, process.exclusiveEpoch[page], false, PageCopyCause.PARENT_WRITE);
                        process.exclusiveEpoch[page] = process.forkEpoch;
                    }
                    if (process.accessEpoch != null)
                    {
                        process.accessEpoch[page] = process.coaEpoch;
                    }
                }
                finally
                {
                    locks.unlockStripe(stripe);
                }
                return;
            }
            if (state == PageStates.COPYING)
            {
                // The source is giving us a copy; it needs nothing we hold.
                Thread.onSpinWait();
                continue;
            }
            // SHARED: our own physical page was never written, and our view lives in an ancestor's page. The
            // children that read it through us copy it from there (no stripe of ours is held, so materialize may
            // take the ancestor's); no new child can appear meanwhile, since only this thread forks.
            for (final MicroProcess.Sharer sharer : process.sharers)
            {
                final MicroProcess child = sharer.child();
                if (!child.isPagePrivate(page)
                    && (child.state == MicroProcess.State.RUNNING || !child.sharers.isEmpty()))
                {
                    materialize(child, page, null, PageCopyCause.PARENT_WRITE);
                }
            }
            // Claiming the page keeps a source that writes it now from copying into it; it waits for PRIVATE.
            if (states.transition(page, PageStates.SHARED, PageStates.COPYING))
            {
                states.transition(page, PageStates.COPYING, PageStates.PRIVATE);
                if (process.exclusiveEpoch != null)
                {
                    process.exclusiveEpoch[page] = process.forkEpoch;
                }
                if (process.accessEpoch != null)
                {
                    process.accessEpoch[page] = process.coaEpoch;
                }
                return;
            }
        }
    }

    PageLocks locks()
    {
        return locks;
    }
}
