package dev.ufork.kernel;

import dev.ufork.capability.CapabilityMemory;
import dev.ufork.memory.Area;
import dev.ufork.memory.Geometry;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A µprocess: a pid, a parent, one area of the address space (whose first page holds its capability register
 * file), its thread, a state and an exit status, plus the copy-on-write relations of its pages.
 * <p>
 * <b>Sharing.</b> A forked µprocess (COA or COPA) starts with every page SHARED with its {@link #source()}: reading
 * such a page reads the source's view of it. Its {@link PageStates} say which pages have become PRIVATE. A µprocess
 * that has forked keeps, per page, the fork epoch at which the page was last made exclusive; a store to a page whose
 * epoch is older than the current fork epoch first gives every child that still shares it its own copy
 * ({@link Sharing#makeExclusive}).
 * <p>
 * Thread safety: life-cycle state is guarded by {@link #lock}; page states are atomic; the epoch table is written
 * only by the µprocess's own thread.
 */
final class MicroProcess
{
    enum State
    {
        RUNNING,
        ZOMBIE,
        REAPED
    }

    /** A child that may still share some of this µprocess's pages, and the fork epoch it was born at. */
    record Sharer(MicroProcess child, int epoch)
    {
    }

    final Kernel kernel;
    final int pid;
    final Area area;
    final long base;
    final int pages;
    /** The µprocess whose view this one's SHARED pages show; null if every page is private from the start. */
    final MicroProcess source;
    /** Whether a SHARED page is copied on any access (COA) or only on writes and capability loads (COPA). */
    final boolean copyOnRead;
    /** Copy states of this area's pages; null when {@link #source} is null. */
    final PageStates states;

    /** Signal actions, mask and pending set. */
    final SignalState signals;

    final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a child changes state (exits). */
    final Condition childEvent = lock.newCondition();
    final List<MicroProcess> children = new ArrayList<>();
    final CopyOnWriteArrayList<Sharer> sharers = new CopyOnWriteArrayList<>();

    volatile MicroProcess parent;
    volatile State state = State.RUNNING;
    volatile int waitStatus;
    volatile Signal pendingKill;
    volatile Thread thread;

    /** Incremented by each COA/COPA fork; written by this µprocess's thread only (as are the fields below). */
    int forkEpoch;
    /**
     * Per page, the fork epoch up to which every child has its own copy of the page (so this µprocess may write it);
     * null until the first sharing fork. Epochs are compared by difference, so they may wrap.
     */
    int[] exclusiveEpoch;
    /** The fork epoch of the latest COA fork. */
    int coaEpoch;
    /**
     * Per page, the fork epoch up to which every COA child has its own copy (so this µprocess may read it); null
     * until the first COA fork.
     */
    int[] accessEpoch;

    /** Set by the µprocess's own thread as it starts, before its program runs; read only by that thread. */
    ProcessContext context;
    /** Likewise. */
    CapabilityMemory memory;

    MicroProcess(final Kernel kernel, final int pid, final Area area, final MicroProcess parent,
        final MicroProcess source, final boolean copyOnRead, final SignalState signals)
    {
        this.signals = signals;
        this.kernel = kernel;
        this.pid = pid;
        this.area = area;
        this.base = area.base();
        this.pages = (int)(area.size() >>> Geometry.PAGE_SHIFT);
        this.parent = parent;
        this.source = source;
        this.copyOnRead = copyOnRead;
        this.states = source == null ? null : new PageStates(pages);
    }

    MicroProcess source()
    {
        return source;
    }

    int pageOf(final long address)
    {
        return (int)((address - base) >>> Geometry.PAGE_SHIFT);
    }

    long pageAddress(final int page)
    {
        return base + ((long)page << Geometry.PAGE_SHIFT);
    }

    boolean isPagePrivate(final int page)
    {
        return states == null || states.isPrivate(page);
    }

    boolean isAlive()
    {
        return state == State.RUNNING;
    }

    @Override
    public String toString()
    {
        return "µprocess " + pid + " " + area;
    }
}
