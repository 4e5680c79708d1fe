package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.Permission;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;
import dev.ufork.kernel.ProcessContext;
import dev.ufork.memory.Geometry;

/**
 * {@code malloc} for one µprocess, with every byte of its state in the µprocess's own area: a fork copies the heap
 * and the allocator together, and the child's allocator works at its new address because its pointers are
 * capabilities, relocated like any other.
 * <p>
 * <b>Chunks.</b> The heap is a sequence of 16-byte-aligned chunks carved from memory the break gives
 * ({@link AddressMap#setBreak}). Each starts with a 16-byte header: word 0 is the previous chunk's size, valid
 * only while that chunk is free (a boundary tag); word 1 is this chunk's size with flags in its low bits (in use,
 * previous in use, fence, freed) and, while in use, in its top 16 bits the slack between the size and the
 * allocation's length, so the exact length {@code malloc} returned can be checked on {@code free}. The user's
 * capability starts after the header and is bounded exactly to the allocation (its length padded with
 * {@link Capability#representableLength}, its start aligned with {@link Capability#representableAlignmentMask}),
 * so neither the header nor the next chunk is reachable through it. A free chunk holds two link capabilities (next
 * and previous in its free list), so the smallest chunk is 48 bytes.
 * <p>
 * <b>Free lists.</b> Two-level segregated fit (TLSF): sizes below 256 bytes have one exact list per 16 bytes;
 * above, each power of two is split into 16 lists, so lists are 16 bytes apart up to 512 bytes and 1/16 of the
 * size apart beyond. A request is rounded up to the next list boundary, so the first chunk of any non-empty list
 * found there fits; a bitmap per level finds that list with two count-trailing-zeros. {@code malloc} and
 * {@code free} are therefore O(1): no list is ever scanned. A chunk is split when the rest would make a chunk, and
 * a freed chunk merges at once with free neighbours (found by its boundary tags), so no two free chunks are ever
 * adjacent. The list heads are capabilities at {@link PosixAreaDescriptor#MALLOC_BINS}. Relinking copies link
 * capabilities from memory to memory, so the only Java objects a call makes are the capability it returns and,
 * when a chunk goes into a list, one link.
 * <p>
 * <b>The top chunk</b> is the memory between the last chunk and the end of malloc's heap; it grows with the break,
 * 128 KiB at a time when there is room. Its last 32 bytes are kept for a fence: if the break has moved since
 * (a program's own {@code sbrk}), malloc starts a new segment at the break and ends the old one with a fence chunk
 * that links to the new segment. Memory above the "fresh" mark has never been handed out and is still zero, so
 * {@code calloc} need not clear it. When freeing leaves more than 512 KiB of used memory in the top chunk, all but
 * 128 KiB of it is discarded (given back to the OS, zero again); the break itself never shrinks.
 * <p>
 * <b>Checks.</b> {@code free} and {@code realloc} accept exactly what {@code malloc} returned: a tagged, unsealed
 * capability whose address is its base, inside malloc's heap, at a chunk in use, with the allocation's length.
 * Anything else (a double free, a pointer into a block or past one, another µprocess's block, bounds narrowed or
 * widened) throws {@link InvalidHeapPointer}. Like C's, these checks catch mistakes, not forgery: a program that
 * writes a fake header through its area capability can fool them. A stale pointer to a block that has been freed
 * and handed out again at the same place with the same length passes (capability revocation would catch it).
 * <p>
 * Thread safety: confined to the µprocess's thread, like its {@link Posix}; not async-signal-safe (a handler must
 * not call it, as in C). Lifetime: that of the µprocess.
 */
final class Malloc
{
    /** Bytes of a chunk header. */
    static final long HEADER = 16;
    /** The smallest chunk: a header and two link capabilities. */
    static final long MIN_CHUNK = 48;
    /** Bytes kept at the end of the top chunk for a fence. */
    static final long FENCE_SIZE = 32;
    /** The largest request served; larger ones fail with ENOMEM. */
    static final long MAX_REQUEST = 1L << 39;
    /** Chunks are smaller than this (so 33 first-level lists suffice). */
    static final long MAX_CHUNK = 1L << 40;

    private static final long INUSE = 1;
    private static final long PREV_INUSE = 2;
    private static final long FENCE = 4;
    private static final long FREED = 8;
    private static final long SIZE_MASK = ((1L << 48) - 1) & ~15L;
    private static final int SLACK_SHIFT = 48;

    private static final long SMALL_LIMIT = 256;
    private static final int FIRST_LEVELS = 33;
    private static final int BINS = FIRST_LEVELS * 16;
    private static final long GROW_STEP = 128 << 10;
    private static final long TRIM_THRESHOLD = 512 << 10;
    private static final long TRIM_KEEP = 128 << 10;

    // The state words, offsets from the area base (see PosixAreaDescriptor).
    private static final long FIRST_SEGMENT = PosixAreaDescriptor.MALLOC_STATE;
    private static final long TOP = FIRST_SEGMENT + 16;
    private static final long HEAP_END = TOP + 8;
    private static final long FRESH = HEAP_END + 8;
    private static final long FIRST_LEVEL_MAP = FRESH + 8;
    private static final long SECOND_LEVEL_MAPS = FIRST_LEVEL_MAP + 8;
    private static final long BIN_HEADS = PosixAreaDescriptor.MALLOC_BINS;

    static
    {
        if (SECOND_LEVEL_MAPS + 4L * FIRST_LEVELS
            > PosixAreaDescriptor.MALLOC_STATE + PosixAreaDescriptor.MALLOC_STATE_SIZE
            || 16L * BINS > PosixAreaDescriptor.MALLOC_BINS_SIZE)
        {
            throw new ExceptionInInitializerError("malloc state does not fit its place in the area");
        }
    }

    private final ProcessContext ctx;
    private final CapabilityMemory memory;
    private final Capability area;
    private final Capability userRoot;
    private final Capability linkRoot;
    private final long base;
    private final AddressMap addressMap;
    /** Whether the chunk the last allocation took had never been handed out (so it is still zero). */
    private boolean fresh;

    Malloc(final Posix posix, final AddressMap addressMap)
    {
        this.ctx = posix.context();
        this.memory = posix.memory();
        this.area = posix.area();
        this.userRoot = area.andPermissions(Permissions.CAP_READ_WRITE);
        // Links only locate chunks (the allocator reaches them through its area capability): a stale pointer that
        // reads one out of a freed block gains no authority.
        this.linkRoot = area.andPermissions(Permission.GLOBAL.mask());
        this.base = area.base();
        this.addressMap = addressMap;
    }

    // ------------------------------------------------------------------------------------------------------------
    // The calls

    /**
     * @param n bytes wanted.
     * @return a capability bounded exactly to them (length {@code representableLength(n)}).
     * @throws ErrnoException ENOMEM.
     */
    Capability malloc(final long n)
    {
        final long length = requestLength(n);
        final long alignment = -Capability.representableAlignmentMask(length);
        final long chunk = alignment <= HEADER ? allocate(chunkSize(length))
            : allocateAligned(chunkSize(length), alignment);
        return inUse(chunk, length);
    }

    /**
     * @return {@code nmemb * size} zeroed bytes.
     * @throws ErrnoException ENOMEM, also when the product overflows.
     */
    Capability calloc(final long nmemb, final long size)
    {
        if (nmemb < 0 || size < 0 || Math.multiplyHigh(nmemb, size) != 0 || nmemb * size < 0)
        {
            throw new ErrnoException(Errno.ENOMEM, "calloc(" + Long.toUnsignedString(nmemb) + ", "
                + Long.toUnsignedString(size) + ") overflows");
        }
        final Capability p = malloc(nmemb * size);
        if (!fresh)
        {
            memory.fill(area, p.address() - base, p.length(), (byte)0);
        }
        return p;
    }

    /**
     * @param alignment a power of two.
     * @param n         bytes wanted.
     * @return a capability to {@code n} bytes whose address is a multiple of {@code alignment}.
     * @throws ErrnoException ENOMEM.
     */
    Capability memalign(final long alignment, final long n)
    {
        final long length = requestLength(n);
        if (alignment > MAX_REQUEST)
        {
            throw new ErrnoException(Errno.ENOMEM, "alignment " + alignment + " is too large");
        }
        final long needed = Math.max(alignment, -Capability.representableAlignmentMask(length));
        final long chunk = needed <= HEADER ? allocate(chunkSize(length)) : allocateAligned(chunkSize(length), needed);
        return inUse(chunk, length);
    }

    /**
     * {@code free}; NULL does nothing.
     *
     * @throws InvalidHeapPointer if {@code p} is not a block in use that {@code malloc} returned.
     */
    void free(final Capability p)
    {
        if (isNull(p))
        {
            return;
        }
        freeChunk(validate(p, "free()"));
    }

    /**
     * {@code realloc}: NULL is {@code malloc}, size 0 frees and returns NULL (as glibc). Grows or shrinks in place
     * when the neighbours allow, else moves the contents (capabilities keep their tags).
     *
     * @throws ErrnoException     ENOMEM; {@code p} is untouched then.
     * @throws InvalidHeapPointer as {@link #free}.
     */
    Capability realloc(final Capability p, final long n)
    {
        if (isNull(p))
        {
            return malloc(n);
        }
        final long chunk = validate(p, "realloc()");
        if (n == 0)
        {
            freeChunk(chunk);
            return Capability.NULL;
        }
        final long length = requestLength(n);
        final long alignment = -Capability.representableAlignmentMask(length);
        if (((base + chunk + HEADER) & (alignment - 1)) == 0 && resizeInPlace(chunk, chunkSize(length)))
        {
            return inUse(chunk, length);
        }
        final Capability moved = malloc(n);
        memory.copy(area, moved.address() - base, area, chunk + HEADER, Math.min(p.length(), length));
        freeChunk(chunk);
        return moved;
    }

    /**
     * @return the length of the block (what its capability allows); 0 for NULL.
     * @throws InvalidHeapPointer as {@link #free}.
     */
    long usableSize(final Capability p)
    {
        if (isNull(p))
        {
            return 0;
        }
        validate(p, "malloc_usable_size()");
        return p.length();
    }

    private static boolean isNull(final Capability p)
    {
        return p == null || (!p.isTagged() && p.address() == 0);
    }

    private static long requestLength(final long n)
    {
        if (n < 0 || n > MAX_REQUEST)
        {
            throw new ErrnoException(Errno.ENOMEM, "cannot allocate " + Long.toUnsignedString(n) + " bytes");
        }
        return Capability.representableLength(n);
    }

    private static long chunkSize(final long length)
    {
        return Math.max(MIN_CHUNK, HEADER + Geometry.alignUp(length, HEADER));
    }

    /** Marks a chunk in use for an allocation of {@code length} and derives the capability to it. */
    private Capability inUse(final long chunk, final long length)
    {
        final long header = load(chunk + 8);
        final long size = header & SIZE_MASK;
        final long slack = size - HEADER - length;
        if (slack < 0 || slack >= 1L << (64 - SLACK_SHIFT))
        {
            throw new IllegalStateException("chunk of " + size + " bytes for " + length);
        }
        store(chunk + 8, size | (header & PREV_INUSE) | INUSE | slack << SLACK_SHIFT);
        final Capability p = userRoot.withAddress(base + chunk + HEADER).setBoundsExact(length);
        if (!p.isTagged())
        {
            throw new IllegalStateException("bounds of " + length + " at 0x" + Long.toHexString(base + chunk + HEADER)
                + " are not exact");
        }
        return p;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Allocation

    /**
     * @return a chunk of at least {@code size} bytes (less than {@link #MIN_CHUNK} more), marked in use with its
     *         predecessor in use, its successor's PREV_INUSE set.
     */
    private long allocate(final long size)
    {
        fresh = false;
        final int bin = findBin(size);
        if (bin < 0)
        {
            return fromTop(size);
        }
        final long chunk = loadLink(binHead(bin));
        final long next = loadLink(chunk + 16);
        copyLink(binHead(bin), chunk + 16);
        if (next != 0)
        {
            storeLink(next + 32, 0);
        }
        else
        {
            unmark(bin);
        }
        final long chunkSize = load(chunk + 8) & SIZE_MASK;
        final long rest = chunkSize - size;
        if (rest >= MIN_CHUNK)
        {
            final long remainder = chunk + size;
            store(remainder + 8, rest | PREV_INUSE);
            // The chunk after stays marked "previous free" (this one was free): only its boundary tag moves.
            store(remainder + rest, rest);
            insert(remainder, rest);
            store(chunk + 8, size | INUSE | PREV_INUSE);
        }
        else
        {
            store(chunk + 8, chunkSize | INUSE | PREV_INUSE);
            final long after = chunk + chunkSize;
            store(after + 8, load(after + 8) | PREV_INUSE);
        }
        return chunk;
    }

    /** A chunk whose user part, after the header, is aligned to {@code alignment} (more than 16). */
    private long allocateAligned(final long size, final long alignment)
    {
        final long padded = size + alignment + MIN_CHUNK;
        if (findBin(padded) < 0)
        {
            return alignedFromTop(size, alignment);
        }
        // A free chunk large enough to hold an aligned one anywhere in it: cut that out, free the rest.
        final long first = allocate(padded);
        final boolean wasFresh = fresh;
        long chunk = first;
        long chunkSize = load(first + 8) & SIZE_MASK;
        final long misalignment = (base + first + HEADER) & (alignment - 1);
        if (misalignment != 0)
        {
            long lead = alignment - misalignment;
            if (lead < MIN_CHUNK)
            {
                lead += alignment;
            }
            // The lead becomes a free chunk before the aligned one.
            chunk = first + lead;
            chunkSize -= lead;
            store(chunk + 8, chunkSize | INUSE | PREV_INUSE);
            store(first + 8, lead | INUSE | PREV_INUSE);
            release(first, lead);
        }
        final long rest = chunkSize - size;
        if (rest >= MIN_CHUNK)
        {
            store(chunk + 8, size | INUSE | (load(chunk + 8) & PREV_INUSE));
            final long tail = chunk + size;
            store(tail + 8, rest | INUSE | PREV_INUSE);
            release(tail, rest);
        }
        fresh = wasFresh;
        return chunk;
    }

    /**
     * Carves an aligned chunk from the top, growing the heap if it is too small; the memory before it becomes a
     * free chunk (none if the top is aligned already).
     */
    private long alignedFromTop(final long size, final long alignment)
    {
        long top = load(TOP);
        if (top == 0 || load(HEAP_END) - top < size + alignment + MIN_CHUNK + FENCE_SIZE)
        {
            grow(size + alignment + MIN_CHUNK);
            top = load(TOP);
        }
        long lead = -(base + top + HEADER) & (alignment - 1);
        if (lead != 0 && lead < MIN_CHUNK)
        {
            lead += alignment;
        }
        final long chunk = top + lead;
        final long end = chunk + size;
        final long freshMark = load(FRESH);
        fresh = chunk >= freshMark;
        store(TOP, end);
        if (lead == 0)
        {
            store(chunk + 8, size | INUSE | PREV_INUSE);
        }
        else
        {
            store(top + 8, lead | PREV_INUSE);
            insert(top, lead);
            store(chunk, lead);
            store(chunk + 8, size | INUSE);
        }
        if (end > freshMark)
        {
            store(FRESH, end);
        }
        return chunk;
    }

    /** Carves a chunk from the top, growing the heap if it is too small. */
    private long fromTop(final long size)
    {
        long top = load(TOP);
        if (top == 0 || load(HEAP_END) - top < size + FENCE_SIZE)
        {
            grow(size);
            top = load(TOP);
        }
        final long end = top + size;
        store(TOP, end);
        store(top + 8, size | INUSE | PREV_INUSE);
        final long freshMark = load(FRESH);
        fresh = top >= freshMark;
        if (end > freshMark)
        {
            store(FRESH, end);
        }
        return top;
    }

    /**
     * Makes the top chunk hold at least {@code size} bytes and a fence: moves the break up, by {@link #GROW_STEP}
     * when there is room; starts a new segment at the break if the program moved it since.
     *
     * @throws ErrnoException ENOMEM if the break cannot move that far (the reservation is full).
     */
    private void grow(final long size)
    {
        final long top = load(TOP);
        final long brk = addressMap.brk();
        if (top != 0)
        {
            final long end = load(HEAP_END);
            if (brk == end)
            {
                store(HEAP_END, extend(end, top + size + FENCE_SIZE));
                return;
            }
            if (brk < end)
            {
                throw new ErrnoException(Errno.ENOMEM, "the break was moved below malloc's heap");
            }
        }
        final long start = Geometry.alignUp(brk, HEADER);
        final long end = extend(brk, start + size + FENCE_SIZE);
        if (top == 0)
        {
            storeLink(FIRST_SEGMENT, start);
        }
        else
        {
            closeSegment(top, load(HEAP_END), start);
        }
        store(TOP, start);
        store(HEAP_END, end);
        store(FRESH, start);
    }

    /**
     * Moves the break from {@code from} to at least {@code needed}.
     *
     * @return the new break (16-byte aligned).
     * @throws ErrnoException ENOMEM.
     */
    private long extend(final long from, final long needed)
    {
        final long limit = addressMap.breakLimit();
        if (needed < from || needed > limit)
        {
            throw new ErrnoException(Errno.ENOMEM, "malloc's heap cannot grow to 0x" + Long.toHexString(base + needed)
                + ": the break may not pass 0x" + Long.toHexString(base + limit));
        }
        long target = Geometry.alignUp(Math.max(needed, from + GROW_STEP), Geometry.PAGE_SIZE);
        if (target > limit)
        {
            target = needed;
        }
        addressMap.setBreak(base + target);
        return target;
    }

    /** Ends a segment: its top becomes a free chunk if it is large enough, then a fence links to the next one. */
    private void closeSegment(final long top, final long end, final long next)
    {
        final long rest = end - FENCE_SIZE - top;
        final long fence;
        if (rest >= MIN_CHUNK)
        {
            fence = end - FENCE_SIZE;
            store(top + 8, rest | PREV_INUSE);
            insert(top, rest);
            store(fence, rest);
            store(fence + 8, FENCE_SIZE | INUSE | FENCE);
        }
        else
        {
            fence = top;
            store(fence + 8, (end - top) | INUSE | FENCE | PREV_INUSE);
        }
        storeLink(fence + 16, next);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Freeing and resizing

    /**
     * Checks that {@code p} is exactly what malloc returned for a block still in use.
     *
     * @return its chunk.
     * @throws InvalidHeapPointer otherwise.
     */
    private long validate(final Capability p, final String call)
    {
        if (!p.isTagged())
        {
            throw new InvalidHeapPointer(call + ": invalid pointer (untagged)");
        }
        final long top = load(TOP);
        final long end = load(HEAP_END);
        final long address = p.address();
        final long user = address - base;
        if (top == 0 || p.isSealed() || p.base() != address || (user & (HEADER - 1)) != 0
            || user < PosixAreaDescriptor.HEAP_START + HEADER || user >= end)
        {
            throw new InvalidHeapPointer(call + ": invalid pointer " + p);
        }
        final long chunk = user - HEADER;
        final long header = load(chunk + 8);
        if ((header & INUSE) == 0)
        {
            throw new InvalidHeapPointer(call + ((header & FREED) != 0 ? ": double free detected "
                : ": invalid pointer ") + p);
        }
        final long size = header & SIZE_MASK;
        if ((header & FENCE) != 0 || size < MIN_CHUNK || size > end - chunk - HEADER)
        {
            throw new InvalidHeapPointer(call + ": invalid pointer " + p);
        }
        if (size - HEADER - (header >>> SLACK_SHIFT) != p.length())
        {
            throw new InvalidHeapPointer(call + ": invalid size (bounds " + p + " are not the allocation's "
                + (size - HEADER - (header >>> SLACK_SHIFT)) + " bytes)");
        }
        final long next = chunk + size;
        if (next != top && (load(next + 8) & PREV_INUSE) == 0)
        {
            throw new InvalidHeapPointer(call + ": double free or corruption (!prev) " + p);
        }
        return chunk;
    }

    private void freeChunk(final long chunk)
    {
        final long header = load(chunk + 8);
        final long size = header & SIZE_MASK;
        // The freed mark survives in the old header when the chunk merges, so a second free is recognized.
        store(chunk + 8, (header & (SIZE_MASK | PREV_INUSE)) | FREED);
        release(chunk, size);
        trimTop();
    }

    /**
     * Frees a chunk: merges it with free neighbours (or into the top) and files the result in its list. Its header
     * must hold its PREV_INUSE bit.
     */
    private void release(final long chunk, final long size)
    {
        long start = chunk;
        long merged = size;
        if ((load(chunk + 8) & PREV_INUSE) == 0)
        {
            final long previous = load(chunk);
            start = chunk - previous;
            remove(start, previous);
            merged += previous;
        }
        long next = chunk + size;
        if (next == load(TOP))
        {
            store(TOP, start);
            return;
        }
        final long nextHeader = load(next + 8);
        if ((nextHeader & INUSE) == 0)
        {
            final long nextSize = nextHeader & SIZE_MASK;
            remove(next, nextSize);
            merged += nextSize;
            next += nextSize;
        }
        store(start + 8, merged | PREV_INUSE);
        insert(start, merged);
        store(next, merged);
        store(next + 8, load(next + 8) & ~PREV_INUSE);
    }

    /**
     * Gives back all but {@link #TRIM_KEEP} of the used memory in a large top chunk; it is fresh again. Only at the
     * end of a call: signals that arrive meanwhile are delivered when it is done.
     */
    private void trimTop()
    {
        final long top = load(TOP);
        final long freshMark = load(FRESH);
        if (freshMark - top < TRIM_THRESHOLD)
        {
            return;
        }
        final long from = Geometry.alignUp(top + TRIM_KEEP, Geometry.PAGE_SIZE);
        final long to = freshMark & -Geometry.PAGE_SIZE;
        if (from < to)
        {
            if (to < freshMark)
            {
                memory.fill(area, to, freshMark - to, (byte)0);
            }
            final long mask = addressMap.blockSignals();
            try
            {
                store(FRESH, from);
                ctx.discard(area.add(from), to - from);
            }
            finally
            {
                addressMap.restoreSignals(mask);
            }
        }
    }

    /**
     * Resizes a chunk in use to {@code size} bytes without moving it: shrinking gives the rest back, growing takes
     * a free successor or the top.
     *
     * @return whether it could.
     */
    private boolean resizeInPlace(final long chunk, final long size)
    {
        final long header = load(chunk + 8);
        final long current = header & SIZE_MASK;
        final long keep = header & PREV_INUSE;
        if (size <= current)
        {
            final long rest = current - size;
            if (rest >= MIN_CHUNK)
            {
                store(chunk + 8, size | INUSE | keep);
                final long tail = chunk + size;
                store(tail + 8, rest | INUSE | PREV_INUSE);
                release(tail, rest);
            }
            return true;
        }
        final long next = chunk + current;
        final long top = load(TOP);
        if (next == top)
        {
            final long end = load(HEAP_END);
            final long needed = chunk + size + FENCE_SIZE;
            if (needed > end)
            {
                if (addressMap.brk() != end)
                {
                    return false;
                }
                try
                {
                    store(HEAP_END, extend(end, needed));
                }
                catch (final ErrnoException e)
                {
                    return false;
                }
            }
            store(TOP, chunk + size);
            store(chunk + 8, size | INUSE | keep);
            if (chunk + size > load(FRESH))
            {
                store(FRESH, chunk + size);
            }
            return true;
        }
        final long nextHeader = load(next + 8);
        final long nextSize = nextHeader & SIZE_MASK;
        if ((nextHeader & INUSE) != 0 || current + nextSize < size)
        {
            return false;
        }
        remove(next, nextSize);
        final long total = current + nextSize;
        final long rest = total - size;
        if (rest >= MIN_CHUNK)
        {
            store(chunk + 8, size | INUSE | keep);
            final long remainder = chunk + size;
            store(remainder + 8, rest | PREV_INUSE);
            store(remainder + rest, rest);
            insert(remainder, rest);
        }
        else
        {
            store(chunk + 8, total | INUSE | keep);
            final long after = chunk + total;
            store(after + 8, load(after + 8) | PREV_INUSE);
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------------------
    // The free lists

    /** @return the list a free chunk of {@code size} bytes belongs to. */
    static int binOf(final long size)
    {
        if (size < SMALL_LIMIT)
        {
            return (int)(size >>> 4);
        }
        final int log = 63 - Long.numberOfLeadingZeros(size);
        return (log - 7) << 4 | (int)((size >>> (log - 4)) & 15);
    }

    /** @return the first non-empty list whose every chunk holds {@code size} bytes, or −1. */
    private int findBin(final long size)
    {
        long rounded = size;
        if (rounded >= SMALL_LIMIT)
        {
            rounded += (1L << (59 - Long.numberOfLeadingZeros(rounded))) - 1;
        }
        if (rounded >= MAX_CHUNK)
        {
            return -1;
        }
        final int wanted = binOf(rounded);
        int level = wanted >>> 4;
        int map = memory.loadInt(area, SECOND_LEVEL_MAPS + 4L * level) & (-1 << (wanted & 15));
        if (map == 0)
        {
            final long levels = load(FIRST_LEVEL_MAP) & (-1L << (level + 1));
            if (levels == 0)
            {
                return -1;
            }
            level = Long.numberOfTrailingZeros(levels);
            map = memory.loadInt(area, SECOND_LEVEL_MAPS + 4L * level);
        }
        return level << 4 | Integer.numberOfTrailingZeros(map);
    }

    private static long binHead(final int bin)
    {
        return BIN_HEADS + 16L * bin;
    }

    private void insert(final long chunk, final long size)
    {
        final int bin = binOf(size);
        final long head = binHead(bin);
        final long first = loadLink(head);
        copyLink(chunk + 16, head);
        storeLink(chunk + 32, 0);
        storeLink(head, chunk);
        if (first != 0)
        {
            copyLink(first + 32, head);
        }
        else
        {
            final long levelMap = SECOND_LEVEL_MAPS + 4L * (bin >>> 4);
            memory.storeInt(area, levelMap, memory.loadInt(area, levelMap) | 1 << (bin & 15));
            store(FIRST_LEVEL_MAP, load(FIRST_LEVEL_MAP) | 1L << (bin >>> 4));
        }
    }

    private void remove(final long chunk, final long size)
    {
        final long next = loadLink(chunk + 16);
        final long previous = loadLink(chunk + 32);
        if (previous != 0)
        {
            copyLink(previous + 16, chunk + 16);
        }
        else
        {
            final int bin = binOf(size);
            copyLink(binHead(bin), chunk + 16);
            if (next == 0)
            {
                unmark(bin);
            }
        }
        if (next != 0)
        {
            copyLink(next + 32, chunk + 32);
        }
    }

    private void unmark(final int bin)
    {
        final long levelMap = SECOND_LEVEL_MAPS + 4L * (bin >>> 4);
        final int map = memory.loadInt(area, levelMap) & ~(1 << (bin & 15));
        memory.storeInt(area, levelMap, map);
        if (map == 0)
        {
            store(FIRST_LEVEL_MAP, load(FIRST_LEVEL_MAP) & ~(1L << (bin >>> 4)));
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Memory: offsets from the area base, through the area capability

    private long load(final long offset)
    {
        return memory.loadLong(area, offset);
    }

    private void store(final long offset, final long value)
    {
        memory.storeLong(area, offset, value);
    }

    /**
     * @return the chunk a link capability points at (an offset), or 0 for NULL. Only the address word is read, as
     *         data: on a page still shared copy-on-write that copies the page first, so the address is relocated.
     */
    private long loadLink(final long offset)
    {
        final long address = memory.loadLong(area, offset);
        return address == 0 ? 0 : address - base;
    }

    /**
     * Copies the link capability at {@code from} to {@code to}, tag and all. Relinking a list moves existing links
     * this way, so only a link to a chunk newly put in a list is made as a Java object.
     */
    private void copyLink(final long to, final long from)
    {
        memory.copy(area, to, area, from, 16);
    }

    private void storeLink(final long offset, final long chunk)
    {
        memory.storeCapability(area, offset, chunk == 0 ? Capability.NULL : linkRoot.withAddress(base + chunk));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Inspection, for tests and tools

    /**
     * What a walk of the heap found.
     *
     * @param chunksInUse chunks in use (allocations).
     * @param bytesInUse  their bytes, headers included.
     * @param freeChunks  free chunks in the lists.
     * @param freeBytes   their bytes.
     * @param topBytes    bytes of the top chunk.
     * @param segments    segments of the heap.
     */
    record HeapReport(long chunksInUse, long bytesInUse, long freeChunks, long freeBytes, long topBytes,
        int segments)
    {
    }

    /**
     * Walks every chunk and every free list and checks the invariants: sizes and boundary tags agree, no two free
     * chunks are adjacent, every free chunk is in the list of its size and nothing else is, the bitmaps match the
     * lists.
     *
     * @return the counts.
     * @throws IllegalStateException at the first inconsistency.
     */
    HeapReport check()
    {
        final long top = load(TOP);
        if (top == 0)
        {
            return new HeapReport(0, 0, 0, 0, 0, 0);
        }
        final long end = load(HEAP_END);
        long chunk = loadLink(FIRST_SEGMENT);
        long inUse = 0;
        long inUseBytes = 0;
        long free = 0;
        long freeBytes = 0;
        int segments = 1;
        long previousFree = 0;
        while (chunk != top)
        {
            final long header = load(chunk + 8);
            final long size = header & SIZE_MASK;
            if (size < FENCE_SIZE || chunk + size > end || chunk < PosixAreaDescriptor.HEAP_START)
            {
                throw new IllegalStateException("chunk at 0x" + Long.toHexString(chunk) + " has size " + size);
            }
            if (((header & PREV_INUSE) == 0) != (previousFree != 0))
            {
                throw new IllegalStateException("chunk at 0x" + Long.toHexString(chunk) + " has PREV_INUSE "
                    + (header & PREV_INUSE) + " after a chunk " + (previousFree != 0 ? "free" : "in use"));
            }
            if (previousFree != 0 && load(chunk) != previousFree)
            {
                throw new IllegalStateException("boundary tag before 0x" + Long.toHexString(chunk) + " says "
                    + load(chunk) + ", the free chunk has " + previousFree);
            }
            if ((header & FENCE) != 0)
            {
                chunk = loadLink(chunk + 16);
                previousFree = 0;
                segments++;
                continue;
            }
            if ((header & INUSE) != 0)
            {
                inUse++;
                inUseBytes += size;
                previousFree = 0;
            }
            else
            {
                if (previousFree != 0)
                {
                    throw new IllegalStateException("two free chunks meet at 0x" + Long.toHexString(chunk));
                }
                free++;
                freeBytes += size;
                previousFree = size;
            }
            chunk += size;
        }
        if (previousFree != 0 || end - top < FENCE_SIZE)
        {
            throw new IllegalStateException("top at 0x" + Long.toHexString(top) + " follows a free chunk or lacks"
                + " room for a fence (heap end 0x" + Long.toHexString(end) + ")");
        }
        final long listed = checkLists();
        if (listed != free)
        {
            throw new IllegalStateException(free + " free chunks in the heap, " + listed + " in the lists");
        }
        return new HeapReport(inUse, inUseBytes, free, freeBytes, end - top, segments);
    }

    private long checkLists()
    {
        long listed = 0;
        final long levels = load(FIRST_LEVEL_MAP);
        for (int bin = 0; bin < BINS; bin++)
        {
            final boolean marked = (memory.loadInt(area, SECOND_LEVEL_MAPS + 4L * (bin >>> 4)) & 1 << (bin & 15))
                != 0;
            long chunk = loadLink(binHead(bin));
            if (marked != (chunk != 0) || (marked && (levels & 1L << (bin >>> 4)) == 0))
            {
                throw new IllegalStateException("bitmaps disagree with list " + bin);
            }
            long previous = 0;
            while (chunk != 0)
            {
                final long header = load(chunk + 8);
                if ((header & INUSE) != 0 || binOf(header & SIZE_MASK) != bin || loadLink(chunk + 32) != previous)
                {
                    throw new IllegalStateException("chunk at 0x" + Long.toHexString(chunk) + " does not belong in"
                        + " list " + bin + " after 0x" + Long.toHexString(previous));
                }
                listed++;
                previous = chunk;
                chunk = loadLink(chunk + 16);
            }
        }
        for (int level = 0; level < FIRST_LEVELS; level++)
        {
            if (((levels & 1L << level) != 0) != (memory.loadInt(area, SECOND_LEVEL_MAPS + 4L * level) != 0))
            {
                throw new IllegalStateException("first-level bitmap disagrees at level " + level);
            }
        }
        return listed;
    }
}
