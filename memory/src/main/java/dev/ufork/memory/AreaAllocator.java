package dev.ufork.memory;

import java.util.BitSet;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Places areas in the space: first fit over address-ordered free extents, with coalescing, plus a bounded cache of
 * recently freed, still-resident ("warm") areas that a request of the same size reuses before any cold memory.
 * <p>
 * Why the warm cache: the first touch of a page costs a kernel fault (about 2.8 µs per 4 KiB on our machines),
 * while re-zeroing a resident page costs tens of nanoseconds. Fork and exit churn areas of the same size, so exact-size
 * reuse catches most of them. A warm area counts its size against the retention limit, or less where that is
 * known: its owner's bound on the bytes it wrote plus what was resident when it got the area
 * ({@link AddressSpace#free(Area, long)}), or, if that is still above the limit, its resident bytes measured at free
 * with {@code mincore}; so a huge area that was hardly touched stays warm too. Memory beyond the limit is given back
 * with {@code madvise(MADV_DONTNEED)}, oldest first, so the resident size falls when areas are freed. A zeroed area
 * taken from the cache has only its resident pages zeroed.
 * <p>
 * <b>The newest warm area</b> waits in a slot of its own, apart from the deque of the older ones: a fork that reuses
 * the area its previous child left (a server that snapshots again and again) takes it with a read and two CASes,
 * while a walk of the deque and an unlink, cold as a fork that comes once a second runs, cost about 10 µs.
 * <p>
 * Thread safety: safe for concurrent use. The warm cache is a lock-free slot and deque, so the fork/exit churn of
 * same-sized areas takes no lock; only carving cold memory and returning it takes the cold-extent lock, and the
 * {@code madvise} of released memory runs outside it. An extent's {@code taken} flag, not its place, decides who
 * reuses or releases it; a free and a fork that race over the newest slot leave no taken extent in the deque.
 */
final class AreaAllocator
{
    /**
     * A freed, resident area; {@code taken} makes sure exactly one thread reuses or releases it. {@code bytes} is what
     * it counts against the retention limit: at least its resident bytes, at most its size (see
     * {@link AreaAllocator#free}).
     */
    private static final class WarmExtent
    {
        final long base;
        final long size;
        final long bytes;
        final AtomicBoolean taken = new AtomicBoolean();

        WarmExtent(final long base, final long size, final long bytes)
        {
            this.base = base;
            this.size = size;
            this.bytes = bytes;
        }
    }

    /** Cold free extents: base → size. Their memory is untouched or released, so it reads as zero. Guarded by itself. */
    private final TreeMap<Long, Long> cold = new TreeMap<>();
    /** The most recently freed warm area, or null. Resident, tags clear, bytes unspecified. */
    private final AtomicReference<WarmExtent> newest = new AtomicReference<>();
    /** The older warm free areas, most recently freed first. */
    private final ConcurrentLinkedDeque<WarmExtent> warm = new ConcurrentLinkedDeque<>();
    private final AtomicLong warmBytes = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong liveAreas = new AtomicLong();
    private final AddressSpace space;
    private final long retainLimit;

    AreaAllocator(final AddressSpace space, final long start, final long end, final long retainLimit)
    {
        this.space = space;
        this.retainLimit = retainLimit;
        cold.put(start, end - start);
    }

    Area allocate(final long size, final long alignment, final AreaInit init)
    {
        final Area recycled = takeWarm(size, alignment, init);
        if (recycled != null)
        {
            return recycled;
        }
        long base = takeCold(size, alignment);
        if (base < 0 && (newest.get() != null || !warm.isEmpty()))
        {
            releaseAllWarm();
            base = takeCold(size, alignment);
        }
        if (base < 0)
        {
            throw new AddressSpaceExhaustedException("no free range of " + size + " bytes aligned to " + alignment
                + " in a space of " + space.size() + " bytes (" + liveAreas.get() + " live areas, " + liveBytes.get()
                + " bytes live, largest free extent " + largestColdExtent() + " bytes)");
        }
        return admit(base, size, 0);
    }

    private Area takeWarm(final long size, final long alignment, final AreaInit init)
    {
        final WarmExtent recent = newest.get();
        if (recent != null && fits(recent, size, alignment) && recent.taken.compareAndSet(false, true))
        {
            if (!newest.compareAndSet(recent, null))
            {
                // A free has displaced it to the deque meanwhile: whichever of the two comes second takes it out.
                warm.removeFirstOccurrence(recent);
            }
            return reuse(recent, init);
        }
        for (final Iterator<WarmExtent> it = warm.iterator(); it.hasNext(); )
        {
            final WarmExtent extent = it.next();
            if (extent.taken.get())
            {
                it.remove();
            }
            else if (fits(extent, size, alignment) && extent.taken.compareAndSet(false, true))
            {
                it.remove();
                return reuse(extent, init);
            }
        }
        return null;
    }

    private static boolean fits(final WarmExtent extent, final long size, final long alignment)
    {
        return extent.size == size && (extent.base & (alignment - 1)) == 0;
    }

    /** Makes a warm extent this thread has taken a live area. */
    private Area reuse(final WarmExtent extent, final AreaInit init)
    {
        warmBytes.addAndGet(-extent.bytes);
        if (init == AreaInit.ZEROED)
        {
            zeroResidentPages(extent.base, extent.size);
        }
        return admit(extent.base, extent.size, extent.bytes);
    }

    /**
     * Zeroes the pages of a free range that are resident; the others read zero already, and filling them would make
     * them resident (a 1 GiB area that held 1 MiB costs a {@code mincore} and 1 MiB of stores, not 1 GiB of faults).
     * Nobody else can reach a free area, so a raw fill is safe, and its residency cannot change meanwhile; its tags
     * were cleared at free.
     */
    private void zeroResidentPages(final long base, final long size)
    {
        final BitSet resident = space.residentPages(base, size);
        for (int first = resident.nextSetBit(0); first >= 0; first = resident.nextSetBit(first))
        {
            final int end = resident.nextClearBit(first);
            space.memory().segment().asSlice(base + ((long)first << Geometry.PAGE_SHIFT),
                (long)(end - first) << Geometry.PAGE_SHIFT).fill((byte)0);
            first = end;
        }
    }

    private long takeCold(final long size, final long alignment)
    {
        synchronized (cold)
        {
            for (final Map.Entry<Long, Long> e : cold.entrySet())
            {
                final long base = e.getKey();
                final long extentSize = e.getValue();
                final long aligned = Geometry.alignUp(base, alignment);
                if (aligned + size <= base + extentSize && aligned >= base)
                {
                    cold.remove(base);
                    if (aligned > base)
                    {
                        cold.put(base, aligned - base);
                    }
                    final long after = base + extentSize - (aligned + size);
                    if (after > 0)
                    {
                        cold.put(aligned + size, after);
                    }
                    return aligned;
                }
            }
            return -1;
        }
    }

    private Area admit(final long base, final long size, final long resident)
    {
        liveBytes.addAndGet(size);
        liveAreas.incrementAndGet();
        return new Area(space, base, size, resident);
    }

    /**
     * @param written at most how many bytes of the area its owner made resident since it was allocated, or -1 if
     *                unknown; with it a huge area that was hardly written is accounted without measuring it.
     */
    void free(final Area area, final long written)
    {
        if (area.space() != space)
        {
            throw new InvalidAreaException("area " + area + " belongs to another address space");
        }
        if (!area.kill())
        {
            throw new InvalidAreaException("area " + area + " freed twice");
        }
        if (area.ownerThreadId() != AreaOwnership.SHARED)
        {
            space.ownership().assign(area.base(), area.size(), AreaOwnership.SHARED);
        }
        liveBytes.addAndGet(-area.size());
        liveAreas.decrementAndGet();
        // Stale capabilities into the area must not survive into its next owner.
        space.memory().tags().clearRange(area.base(), area.size());
        // What the area counts against the limit: its size, or less if it is known to hold less. Above the limit
        // it would not be kept, so the resident bytes are measured (one mincore over the area), so that a large
        // area its owner hardly touched (a forked child that copied a few pages) stays warm for the next fork of
        // its size, instead of costing that fork a fault per page it copies.
        long bytes = written < 0 ? area.size() : Math.min(area.size(), area.residentAtAllocation() + written);
        if (bytes > retainLimit && retainLimit > 0)
        {
            bytes = space.residentBytes(area.base(), area.size());
        }
        if (bytes > retainLimit)
        {
            releaseToCold(area.base(), area.size());
            return;
        }
        warmBytes.addAndGet(bytes);
        pushNewest(new WarmExtent(area.base(), area.size(), bytes));
        // Oldest first: the deque's tail, and the newest slot only once the deque is empty.
        while (warmBytes.get() > retainLimit)
        {
            WarmExtent oldest = warm.pollLast();
            if (oldest == null)
            {
                oldest = newest.getAndSet(null);
                if (oldest == null)
                {
                    break;
                }
            }
            release(oldest);
        }
    }

    /**
     * Puts a freed extent in the newest slot and the one it displaces at the head of the deque. The displaced one
     * enters the deque before it leaves the slot, so that a fork, an eviction or a release that runs meanwhile always
     * finds it; for a moment it is in both, which the {@code taken} flag makes harmless.
     */
    private void pushNewest(final WarmExtent fresh)
    {
        WarmExtent previous = newest.get();
        while (true)
        {
            final boolean queued = previous != null && !previous.taken.get();
            if (queued)
            {
                warm.addFirst(previous);
            }
            final WarmExtent witness = newest.compareAndExchange(previous, fresh);
            if (witness == previous)
            {
                if (queued && previous.taken.get())
                {
                    // A fork took it from the slot meanwhile (see takeWarm): it must not linger in the deque.
                    warm.removeFirstOccurrence(previous);
                }
                return;
            }
            // Another free or a fork changed the slot meanwhile: undo, and displace what is there now.
            if (queued)
            {
                warm.removeFirstOccurrence(previous);
            }
            previous = witness;
        }
    }

    /** Gives every warm area's memory back to the OS. */
    void releaseAllWarm()
    {
        release(newest.getAndSet(null));
        WarmExtent extent;
        while ((extent = warm.pollFirst()) != null)
        {
            release(extent);
        }
    }

    /** Releases a warm extent unless another thread has taken it (to reuse or to release it). */
    private void release(final WarmExtent extent)
    {
        if (extent != null && extent.taken.compareAndSet(false, true))
        {
            warmBytes.addAndGet(-extent.bytes);
            releaseToCold(extent.base, extent.size);
        }
    }

    private void releaseToCold(final long base, final long size)
    {
        space.releasePages(base, size);
        synchronized (cold)
        {
            long start = base;
            long length = size;
            final Map.Entry<Long, Long> before = cold.floorEntry(base);
            if (before != null && before.getKey() + before.getValue() == base)
            {
                start = before.getKey();
                length += before.getValue();
                cold.remove(before.getKey());
            }
            final Long afterSize = cold.get(base + size);
            if (afterSize != null)
            {
                cold.remove(base + size);
                length += afterSize;
            }
            cold.put(start, length);
        }
    }

    private long largestColdExtent()
    {
        synchronized (cold)
        {
            long largest = 0;
            for (final long s : cold.values())
            {
                largest = Math.max(largest, s);
            }
            return largest;
        }
    }

    long liveBytes()
    {
        return liveBytes.get();
    }

    long liveAreas()
    {
        return liveAreas.get();
    }

    long warmBytes()
    {
        return warmBytes.get();
    }
}
