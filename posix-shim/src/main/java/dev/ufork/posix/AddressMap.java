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
 * The break and the anonymous mappings of one µprocess: which parts of its area the heap and {@code mmap} own.
 * <p>
 * The area is a fixed reservation. The heap grows up from {@link PosixAreaDescriptor#HEAP_START} with the break;
 * mappings are carved from the top down, below {@link PosixAreaDescriptor#mmapCeiling}; the two never overlap, and
 * ENOMEM comes when they would. Everything else in between is free, and kept zero without tags: a page that leaves
 * the heap or is unmapped is discarded ({@link ProcessContext#discard}: back to the OS, zero when touched again),
 * so growing the break and mapping hand out zeroed memory without touching it. All state is in the area
 * ({@link PosixAreaDescriptor#BRK}, {@link PosixAreaDescriptor#MMAP_FLOOR}, the page map), so a fork copies it.
 * <p>
 * Thread safety: confined to the µprocess's thread, like its {@link Posix}. Lifetime: that of the µprocess.
 */
final class AddressMap
{
    private static final long PAGE = Geometry.PAGE_SIZE;
    private static final int KNOWN_FLAGS = Mman.MAP_SHARED | Mman.MAP_PRIVATE | Mman.MAP_FIXED
        | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE | Mman.MAP_POPULATE | Mman.MAP_STACK | Mman.MAP_FIXED_NOREPLACE;
    private static final int SHARING = Mman.MAP_SHARED | Mman.MAP_PRIVATE;
    private static final int PROT_ALL = Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC;

    private final Posix posix;
    private final ProcessContext ctx;
    private final CapabilityMemory memory;
    private final Capability area;
    private final Capability userRoot;
    private final long base;
    private final long size;
    private final long map;
    private final long ceiling;

    AddressMap(final Posix posix)
    {
        this.posix = posix;
        this.ctx = posix.context();
        this.memory = posix.memory();
        this.area = posix.area();
        this.userRoot = area.andPermissions(Permissions.CAP_READ_WRITE);
        this.base = area.base();
        this.size = area.length();
        this.map = PosixAreaDescriptor.mmapMap(size);
        this.ceiling = PosixAreaDescriptor.mmapCeiling(size);
    }

    /** @return the area's base address. */
    long base()
    {
        return base;
    }

    /** @return the current break, an offset from the area base. */
    long brk()
    {
        return memory.loadLong(area, PosixAreaDescriptor.BRK);
    }

    /** @return the highest offset the break may reach: the lowest mapping, or the mmap ceiling. */
    long breakLimit()
    {
        return Math.min(floor(), ceiling);
    }

    private long floor()
    {
        return memory.loadLong(area, PosixAreaDescriptor.MMAP_FLOOR);
    }

    // ------------------------------------------------------------------------------------------------------------
    // The break

    /**
     * Moves the break; memory it gives up is zeroed (whole pages discarded).
     *
     * @param address the new break, an address.
     * @throws ErrnoException ENOMEM if it is below the heap's start or would reach a mapping or the mmap ceiling.
     */
    void setBreak(final long address)
    {
        final long target = address - base;
        final long heapBase = memory.loadLong(area, PosixAreaDescriptor.BRK_BASE);
        if (target < heapBase || target > breakLimit())
        {
            throw new ErrnoException(Errno.ENOMEM, "break 0x" + Long.toHexString(address) + " outside [0x"
                + Long.toHexString(base + heapBase) + ", 0x" + Long.toHexString(base + breakLimit()) + "]");
        }
        final long old = brk();
        if (target >= old)
        {
            memory.storeLong(area, PosixAreaDescriptor.BRK, target);
            return;
        }
        final long mask = blockSignals();
        try
        {
            memory.storeLong(area, PosixAreaDescriptor.BRK, target);
            release(target, old);
        }
        finally
        {
            restoreSignals(mask);
        }
    }

    /**
     * Blocks every signal (but SIGKILL) around a step that enters the kernel ({@link ProcessContext#discard}
     * delivers signals), so that no handler runs in the middle of a memory call and finds half-done state; what
     * arrived meanwhile is delivered by {@link #restoreSignals} at the end.
     *
     * @return the mask to restore.
     */
    long blockSignals()
    {
        return ctx.sigprocmask(ProcessContext.SIG_BLOCK, -1L);
    }

    /** @param mask what {@link #blockSignals} returned. */
    void restoreSignals(final long mask)
    {
        ctx.sigprocmask(ProcessContext.SIG_SETMASK, mask);
    }

    /** Zeroes [from, to) of the heap: up to {@code from}'s page end by a fill, whole pages by a discard. */
    private void release(final long from, final long to)
    {
        final long firstPage = Geometry.alignUp(from, PAGE);
        final long partialEnd = Math.min(firstPage, to);
        if (from < partialEnd)
        {
            memory.fill(area, from, partialEnd - from, (byte)0);
        }
        if (firstPage < to)
        {
            // The rest of the last page, above the old break, is zero already; it is discarded whole.
            ctx.discard(area.add(firstPage), Geometry.alignUp(to, PAGE) - firstPage);
        }
    }

    /**
     * {@code sbrk}: moves the break by {@code increment}.
     *
     * @param increment bytes, may be negative.
     * @return a capability to the old break, bounded to the {@code increment} new bytes (empty if not positive).
     * @throws ErrnoException ENOMEM as {@link #setBreak}.
     */
    Capability sbrk(final long increment)
    {
        final long old = brk();
        final long target = old + increment;
        if (increment > 0 ? target < old : target > old)
        {
            throw new ErrnoException(Errno.ENOMEM, "sbrk(" + increment + ") overflows");
        }
        setBreak(base + target);
        // Bounds round outward only for large increments, and then stay in the area (aligned to its size).
        return userRoot.withAddress(base + old).setBounds(Math.max(0, increment));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Mappings

    /**
     * {@code mmap} of private anonymous memory.
     *
     * @return a capability bounded to the mapping, with the permissions of {@code prot}.
     * @throws ErrnoException EINVAL, ENOMEM, EEXIST, EBADF, EOPNOTSUPP as {@link Posix#mmap} says.
     */
    Capability mmap(final Capability addr, final long length, final int prot, final int flags, final int fd,
        final long offset)
    {
        if ((prot & ~PROT_ALL) != 0 || (flags & ~KNOWN_FLAGS) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, "unknown mmap protection 0x" + Integer.toHexString(prot)
                + " or flags 0x" + Integer.toHexString(flags));
        }
        if (length == 0 || (offset & (PAGE - 1)) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, "mmap of length " + length + " at offset " + offset);
        }
        final int sharing = flags & SHARING;
        if (sharing == 0)
        {
            throw new ErrnoException(Errno.EINVAL, "mmap needs MAP_PRIVATE or MAP_SHARED");
        }
        if ((flags & Mman.MAP_ANONYMOUS) == 0)
        {
            posix.file(fd);
            throw new ErrnoException(Errno.EOPNOTSUPP, "file mappings are not supported (descriptor " + fd + ")");
        }
        if (sharing != Mman.MAP_PRIVATE)
        {
            throw new ErrnoException(Errno.EOPNOTSUPP, "shared mappings are not supported");
        }
        if (length < 0 || length > ceiling)
        {
            throw new ErrnoException(Errno.ENOMEM, "mmap of " + Long.toUnsignedString(length) + " bytes");
        }
        final long pages = Geometry.alignUp(length, PAGE);
        final long start;
        final long mapped;
        boolean replace = false;
        if ((flags & (Mman.MAP_FIXED | Mman.MAP_FIXED_NOREPLACE)) != 0)
        {
            mapped = pages;
            start = fixed(addr.address(), pages);
            if (lowestMapped(start >>> Geometry.PAGE_SHIFT, (start + mapped) >>> Geometry.PAGE_SHIFT) >= 0)
            {
                if ((flags & Mman.MAP_FIXED) == 0)
                {
                    throw new ErrnoException(Errno.EEXIST, "MAP_FIXED_NOREPLACE range [0x"
                        + Long.toHexString(base + start) + ", +" + mapped + ") overlaps a mapping");
                }
                replace = true;
            }
        }
        else
        {
            // Exact bounds may need a longer length and a stronger alignment than a page (from 2 MiB on).
            mapped = Geometry.alignUp(Capability.representableLength(pages), PAGE);
            final long alignment = Math.max(PAGE, -Capability.representableAlignmentMask(mapped));
            start = place(addr.address(), mapped, alignment);
        }
        final long mask = replace ? blockSignals() : 0;
        try
        {
            if (replace)
            {
                // What was mapped there is replaced by zeroes.
                ctx.discard(area.add(start), mapped);
            }
            setMapped(start >>> Geometry.PAGE_SHIFT, (start + mapped) >>> Geometry.PAGE_SHIFT, true);
            if (start < floor())
            {
                memory.storeLong(area, PosixAreaDescriptor.MMAP_FLOOR, start);
            }
        }
        finally
        {
            if (replace)
            {
                restoreSignals(mask);
            }
        }
        return area.withAddress(base + start).setBoundsExact(mapped).andPermissions(permissions(prot));
    }

    private static int permissions(final int prot)
    {
        int perms = Permission.GLOBAL.mask();
        if ((prot & Mman.PROT_READ) != 0)
        {
            perms |= Permission.LOAD.mask() | Permission.LOAD_CAP.mask();
        }
        if ((prot & Mman.PROT_WRITE) != 0)
        {
            perms |= Permission.STORE.mask() | Permission.STORE_CAP.mask() | Permission.STORE_LOCAL_CAP.mask();
        }
        return perms;
    }

    /** Checks a MAP_FIXED placement. @return its offset. */
    private long fixed(final long address, final long length)
    {
        if ((address & (PAGE - 1)) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, "MAP_FIXED address 0x" + Long.toHexString(address)
                + " is not page-aligned");
        }
        final long start = address - base;
        if (start < Geometry.alignUp(brk(), PAGE) || start > ceiling - length)
        {
            throw new ErrnoException(Errno.ENOMEM, "MAP_FIXED range [0x" + Long.toHexString(address) + ", +" + length
                + ") is not between the break and the mmap ceiling of µprocess " + posix.getpid());
        }
        if (Capability.representableLength(length) != length
            || (address & Capability.representableAlignmentMask(length)) != address)
        {
            throw new ErrnoException(Errno.EINVAL, "MAP_FIXED range [0x" + Long.toHexString(address) + ", +"
                + length + ") cannot be bounded exactly by a capability");
        }
        return start;
    }

    /**
     * Finds room for a mapping: at the hint if it is free and suitably aligned, else the highest free range below
     * the ceiling and above the break.
     *
     * @return its offset.
     */
    private long place(final long hint, final long length, final long alignment)
    {
        final long low = Geometry.alignUp(brk(), PAGE);
        final long wanted = hint - base;
        if (hint != 0 && wanted >= low && wanted <= ceiling - length && (wanted & (alignment - 1)) == 0
            && lowestMapped(wanted >>> Geometry.PAGE_SHIFT, (wanted + length) >>> Geometry.PAGE_SHIFT) < 0)
        {
            return wanted;
        }
        long top = ceiling;
        while (top - low >= length)
        {
            final long start = (top - length) & -alignment;
            if (start < low)
            {
                break;
            }
            final long busy = highestMapped(start >>> Geometry.PAGE_SHIFT, top >>> Geometry.PAGE_SHIFT);
            if (busy < 0)
            {
                return start;
            }
            top = busy << Geometry.PAGE_SHIFT;
        }
        throw new ErrnoException(Errno.ENOMEM, "no room for a " + length + "-byte mapping between the break and the"
            + " mmap ceiling of µprocess " + posix.getpid());
    }

    /**
     * {@code munmap}: unmaps the mapped pages of a range and discards them; pages that are not mapped (free, heap,
     * libc's own) are left alone.
     *
     * @throws ErrnoException EINVAL for an unaligned address, a length that is not positive, or a range outside
     *                        the area.
     */
    void munmap(final long address, final long length)
    {
        final long start = address - base;
        if ((address & (PAGE - 1)) != 0 || length <= 0 || start < 0 || start > size - length)
        {
            throw new ErrnoException(Errno.EINVAL, "munmap of [0x" + Long.toHexString(address) + ", +" + length
                + ") is unaligned or outside µprocess " + posix.getpid() + "'s area");
        }
        final long endPage = Math.min(Geometry.alignUp(start + length, PAGE), ceiling) >>> Geometry.PAGE_SHIFT;
        long page = lowestMapped(start >>> Geometry.PAGE_SHIFT, endPage);
        if (page < 0)
        {
            return;
        }
        final long mask = blockSignals();
        try
        {
            while (page >= 0)
            {
                long end = page + 1;
                while (end < endPage && isMapped(end))
                {
                    end++;
                }
                ctx.discard(area.add(page << Geometry.PAGE_SHIFT), (end - page) << Geometry.PAGE_SHIFT);
                setMapped(page, end, false);
                page = lowestMapped(end, endPage);
            }
            final long floor = floor();
            if (floor >= start && floor < start + length)
            {
                final long lowest = lowestMapped(floor >>> Geometry.PAGE_SHIFT, ceiling >>> Geometry.PAGE_SHIFT);
                memory.storeLong(area, PosixAreaDescriptor.MMAP_FLOOR,
                    lowest < 0 ? size : lowest << Geometry.PAGE_SHIFT);
            }
        }
        finally
        {
            restoreSignals(mask);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // The page map: bit p of the word at map + (p / 64) * 8 says whether page p is mapped.

    /** @return whether page {@code page} (an index in the area) is mapped. */
    boolean isMapped(final long page)
    {
        return (memory.loadLong(area, map + ((page >>> 6) << 3)) & (1L << page)) != 0;
    }

    private void setMapped(final long from, final long to, final boolean mapped)
    {
        long page = from;
        while (page < to)
        {
            final long wordEnd = Math.min(to, (page | 63) + 1);
            final int n = (int)(wordEnd - page);
            final long mask = (n == 64 ? -1L : (1L << n) - 1) << page;
            final long offset = map + ((page >>> 6) << 3);
            final long word = memory.loadLong(area, offset);
            memory.storeLong(area, offset, mapped ? word | mask : word & ~mask);
            page = wordEnd;
        }
    }

    /** @return the lowest mapped page in [from, to), or −1. */
    private long lowestMapped(final long from, final long to)
    {
        long page = from;
        while (page < to)
        {
            final long word = memory.loadLong(area, map + ((page >>> 6) << 3)) >>> (page & 63);
            if (word != 0)
            {
                final long found = page + Long.numberOfTrailingZeros(word);
                return found < to ? found : -1;
            }
            page = (page | 63) + 1;
        }
        return -1;
    }

    /** @return the highest mapped page in [from, to), or −1. */
    private long highestMapped(final long from, final long to)
    {
        long end = to;
        while (end > from)
        {
            final long last = end - 1;
            final long word = memory.loadLong(area, map + ((last >>> 6) << 3)) << (63 - (last & 63));
            if (word != 0)
            {
                final long found = last - Long.numberOfLeadingZeros(word);
                return found >= from ? found : -1;
            }
            end = last & ~63L;
        }
        return -1;
    }
}
