package dev.ufork.memory.os;

import dev.ufork.memory.NativeMemoryException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.BitSet;

/**
 * The only place in ufork that calls native code: {@code mmap}, {@code munmap}, {@code madvise} and
 * {@code mincore} from the C library, bound once as {@code static final} downcall handles.
 * <p>
 * Every call captures {@code errno} with {@link Linker.Option#captureCallState(String...)} and reports a failure as a
 * {@link NativeMemoryException} naming the call, the error and the arguments. Restricted FFM methods
 * ({@code downcallHandle}, {@code reinterpret}) are confined to this package.
 * <p>
 * Thread safety: stateless; every method may be called from any thread.
 */
public final class NativeMemory
{
    /** {@code PROT_READ | PROT_WRITE} from {@code <sys/mman.h>}. */
    static final int PROT_READ_WRITE = 0x1 | 0x2;
    /** {@code MAP_PRIVATE} from {@code <sys/mman.h>}. */
    static final int MAP_PRIVATE = 0x02;
    /** {@code MAP_ANONYMOUS} from {@code <sys/mman.h>} (Linux value). */
    static final int MAP_ANONYMOUS = 0x20;
    /** {@code MAP_NORESERVE} from {@code <sys/mman.h>} (Linux value): no swap or commit charge up front. */
    static final int MAP_NORESERVE = 0x4000;
    /** {@code MADV_DONTNEED} from {@code <sys/mman.h>}: drop the pages; anonymous memory then reads as zero. */
    static final int MADV_DONTNEED = 4;
    /** {@code MADV_NOHUGEPAGE} from {@code <sys/mman.h>}: keep 4 KiB pages (THP first touch is slower here). */
    static final int MADV_NOHUGEPAGE = 15;

    private static final long MAP_FAILED = -1L;
    /** Bit 0 of each of eight {@code mincore} vector bytes, read as one long: eight "resident" flags. */
    private static final long RESIDENT_BITS = 0x0101010101010101L;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;
    private static final MethodHandle MINCORE;
    private static final MethodHandle STRERROR;

    static
    {
        final Linker linker = Linker.nativeLinker();
        final SymbolLookup libc = linker.defaultLookup();
        final Linker.Option errno = Linker.Option.captureCallState("errno");
        MMAP = downcall(linker, libc, "mmap", FunctionDescriptor.of(ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), errno);
        MUNMAP = downcall(linker, libc, "munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), errno);
        MADVISE = downcall(linker, libc, "madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), errno);
        MINCORE = downcall(linker, libc, "mincore", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), errno);
        STRERROR = downcall(linker, libc, "strerror", FunctionDescriptor.of(ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT));
    }

    private NativeMemory()
    {
    }

    @SuppressWarnings("restricted")
    private static MethodHandle downcall(
        final Linker linker,
        final SymbolLookup lookup,
        final String name,
        final FunctionDescriptor descriptor,
        final Linker.Option... options)
    {
        final MemorySegment symbol = lookup.find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError("C library symbol not found: " + name));
        return linker.downcallHandle(symbol, descriptor, options);
    }

    /**
     * Reserves {@code bytes} of private anonymous memory, readable and writable, without a commit charge
     * ({@code MAP_NORESERVE}). The memory is not touched: pages are faulted in, zero-filled by the kernel, on first
     * use. Transparent huge pages are switched off for the range, because first touch of a huge page costs more per
     * byte than 4 KiB pages on the machines we measured.
     *
     * @param bytes    size of the reservation, a multiple of the page size.
     * @param lifetime the arena whose closing unmaps the reservation; accesses after that throw
     *                 {@link IllegalStateException} instead of touching unmapped memory.
     * @return a segment of exactly {@code bytes}, scoped to {@code lifetime}.
     * @throws NativeMemoryException if the kernel refuses the mapping.
     */
    @SuppressWarnings("restricted")
    public static MemorySegment reserve(final long bytes, final Arena lifetime)
    {
        if (bytes <= 0)
        {
            throw new IllegalArgumentException("reservation size must be positive: " + bytes);
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment result = (MemorySegment)MMAP.invokeExact(state, MemorySegment.NULL, bytes,
                PROT_READ_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            if (result.address() == MAP_FAILED)
            {
                throw failure("mmap", state, "length=" + bytes + ", PROT_READ|PROT_WRITE, "
                    + "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE");
            }
            final MemorySegment raw = result.reinterpret(bytes);
            // Advice is best effort: a kernel without THP support reports EINVAL and nothing is lost.
            advise(raw, 0, bytes, MADV_NOHUGEPAGE, false);
            return raw.reinterpret(bytes, lifetime, ignored -> unmap(raw));
        }
        catch (final RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException("mmap downcall failed", t);
        }
    }

    /** Returns a whole reservation to the kernel; runs when its arena closes. */
    private static void unmap(final MemorySegment segment)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final int rc = (int)MUNMAP.invokeExact(state, segment, segment.byteSize());
            if (rc != 0)
            {
                throw failure("munmap", state, "address=0x" + Long.toHexString(segment.address())
                    + ", length=" + segment.byteSize());
            }
        }
        catch (final RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException("munmap downcall failed", t);
        }
    }

    /**
     * Gives the physical pages behind {@code [offset, offset + length)} of a reservation back to the kernel
     * ({@code MADV_DONTNEED}). The range stays reserved and reads as zero afterwards; the next touch of each page
     * faults in a fresh zero page.
     *
     * @param reservation a segment made by {@link #reserve(long, Arena)}.
     * @param offset      page-aligned start within the reservation.
     * @param length      page-aligned length.
     * @throws NativeMemoryException if {@code madvise} fails.
     */
    public static void release(final MemorySegment reservation, final long offset, final long length)
    {
        advise(reservation, offset, length, MADV_DONTNEED, true);
    }

    private static void advise(
        final MemorySegment reservation, final long offset, final long length, final int advice, final boolean strict)
    {
        if (length == 0)
        {
            return;
        }
        final MemorySegment range = reservation.asSlice(offset, length);
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final int rc = (int)MADVISE.invokeExact(state, range, length, advice);
            if (rc != 0 && strict)
            {
                throw failure("madvise", state, "offset=" + offset + ", length=" + length + ", advice=" + advice);
            }
        }
        catch (final RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException("madvise downcall failed", t);
        }
    }

    /**
     * Counts the resident pages of {@code [offset, offset + length)} with {@code mincore}: the memory that is
     * committed right now, as opposed to merely reserved.
     *
     * @param reservation a segment made by {@link #reserve(long, Arena)}.
     * @param offset      page-aligned start within the reservation.
     * @param length      length in bytes; rounded up to whole pages.
     * @param pageSize    the system page size.
     * @return the number of resident pages in the range.
     * @throws NativeMemoryException if {@code mincore} fails.
     */
    public static long residentPages(
        final MemorySegment reservation, final long offset, final long length, final long pageSize)
    {
        if (length == 0)
        {
            return 0;
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment vector = mincore(reservation, offset, length, pageSize, arena);
            final long pages = vector.byteSize();
            long count = 0;
            long i = 0;
            // Eight pages per read: only bit 0 of each byte means resident.
            for (; i + Long.BYTES <= pages; i += Long.BYTES)
            {
                count += Long.bitCount(vector.get(ValueLayout.JAVA_LONG_UNALIGNED, i) & RESIDENT_BITS);
            }
            for (; i < pages; i++)
            {
                count += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
            }
            return count;
        }
    }

    /**
     * Which pages of {@code [offset, offset + length)} are resident, with one {@code mincore} call.
     *
     * @param reservation a segment made by {@link #reserve(long, Arena)}.
     * @param offset      page-aligned start within the reservation.
     * @param length      length in bytes; rounded up to whole pages; at most 2^31 - 1 pages.
     * @param pageSize    the system page size.
     * @return bit {@code i} set iff page {@code i} of the range is resident.
     * @throws NativeMemoryException if {@code mincore} fails.
     */
    public static BitSet residency(
        final MemorySegment reservation, final long offset, final long length, final long pageSize)
    {
        final BitSet resident = new BitSet();
        if (length == 0)
        {
            return resident;
        }
        if ((length + pageSize - 1) / pageSize > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("too many pages for one residency query: " + length / pageSize);
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment vector = mincore(reservation, offset, length, pageSize, arena);
            final int pages = (int)vector.byteSize();
            int i = 0;
            // Eight pages per read, so that a sparse range costs a read per eight pages.
            for (; i + Long.BYTES <= pages; i += Long.BYTES)
            {
                long bits = vector.get(ValueLayout.JAVA_LONG_UNALIGNED, i) & RESIDENT_BITS;
                while (bits != 0)
                {
                    resident.set(i + (Long.numberOfTrailingZeros(bits) >>> 3));
                    bits &= bits - 1;
                }
            }
            for (; i < pages; i++)
            {
                if ((vector.get(ValueLayout.JAVA_BYTE, i) & 1) != 0)
                {
                    resident.set(i);
                }
            }
            return resident;
        }
    }

    /** @return the {@code mincore} vector of the range, one byte per page, allocated in {@code arena}. */
    private static MemorySegment mincore(final MemorySegment reservation, final long offset, final long length,
        final long pageSize, final Arena arena)
    {
        final long pages = (length + pageSize - 1) / pageSize;
        final MemorySegment range = reservation.asSlice(offset, pages * pageSize);
        try
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment vector = arena.allocate(pages, Long.BYTES);
            final int rc = (int)MINCORE.invokeExact(state, range, pages * pageSize, vector);
            if (rc != 0)
            {
                throw failure("mincore", state, "offset=" + offset + ", length=" + length);
            }
            return vector;
        }
        catch (final RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException("mincore downcall failed", t);
        }
    }

    private static NativeMemoryException failure(final String call, final MemorySegment state, final String detail)
    {
        final int errno = (int)ERRNO.get(state, 0L);
        return new NativeMemoryException(call, errno, describe(errno), detail);
    }

    @SuppressWarnings("restricted")
    private static String describe(final int errno)
    {
        try
        {
            final MemorySegment text = (MemorySegment)STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        }
        catch (final Throwable t)
        {
            return "errno " + errno;
        }
    }
}
