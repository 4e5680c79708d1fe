package dev.ufork.posix;

import dev.ufork.kernel.RegisterFileDescriptor;
import dev.ufork.memory.Geometry;

/**
 * Where libc keeps its own state inside a µprocess's area, after the kernel's register file, so that a fork copies
 * it (and relocates its pointers) with everything else:
 * <pre>
 *  area base + 0x0000 .. 0x07FF   register file and kernel-entry table (see RegisterFileDescriptor)
 *            + 0x0800  errno            8 B   the last error number, as a long
 *            + 0x0810  brk base         8 B   offset of the first heap byte
 *            + 0x0818  brk              8 B   offset of the current break
 *            + 0x0820  mmap floor       8 B   offset of the lowest mapped byte; the area size when nothing is mapped
 *            + 0x0828 .. 0x083F   reserved
 *            + 0x0840 .. 0x0FFF   malloc state: first segment (a capability); top chunk, end of malloc's heap and
 *                                 fresh mark (offsets); the bin bitmaps
 *            + 0x1000 .. 0x17FF   reserved for libc
 *            + 0x1800 .. 0x1FFF   scratch: out-parameters a Java caller may point libc at
 *            + 0x2000 .. 0x40FF   malloc bins: 528 free-list heads, one capability each
 *            + 0x4100             heap start: brk grows up from here
 *                ...              unused: zero, untouched, costing nothing until the heap or a mapping takes it
 *            + mmap ceiling       anonymous mappings grow down from here (a page boundary below the page map)
 *            + area size − map    mmap page map: one bit per page of the area, up to the top
 * </pre>
 * Offsets are from the area base. Pointers in libc's state are capabilities (a fork relocates them); scalars and
 * the break are offsets (they need no relocation). Thread safety: constants only.
 */
public final class PosixAreaDescriptor
{
    /** errno. */
    public static final long ERRNO = RegisterFileDescriptor.SIZE;
    /** The heap's first byte (an offset from the area base). */
    public static final long BRK_BASE = ERRNO + 0x10;
    /** The current break (an offset from the area base). */
    public static final long BRK = BRK_BASE + 8;
    /** The lowest mapped byte (an offset from the area base); the area size when nothing is mapped. */
    public static final long MMAP_FLOOR = BRK + 8;
    /** The malloc state. */
    public static final long MALLOC_STATE = 0x0840;
    /** Bytes of malloc state. */
    public static final long MALLOC_STATE_SIZE = 0x1000 - MALLOC_STATE;
    /** Scratch memory for out-parameters. */
    public static final long SCRATCH = 0x1800;
    /** Bytes of scratch memory. */
    public static final long SCRATCH_SIZE = 0x800;
    /** The malloc bins: free-list heads, one capability each. */
    public static final long MALLOC_BINS = 0x2000;
    /** Bytes of malloc bins. */
    public static final long MALLOC_BINS_SIZE = 0x2100;
    /** Where the heap starts. */
    public static final long HEAP_START = MALLOC_BINS + MALLOC_BINS_SIZE;

    private PosixAreaDescriptor()
    {
    }

    /**
     * @param areaSize a µprocess's area size.
     * @return the bytes of its mmap page map (one bit per page, rounded up to a granule), at the top of the area.
     */
    public static long mmapMapSize(final long areaSize)
    {
        return Geometry.alignUp(((areaSize >>> Geometry.PAGE_SHIFT) + 7) >>> 3, Geometry.GRANULE_SIZE);
    }

    /**
     * @param areaSize a µprocess's area size.
     * @return the offset of its mmap page map.
     */
    public static long mmapMap(final long areaSize)
    {
        return areaSize - mmapMapSize(areaSize);
    }

    /**
     * @param areaSize a µprocess's area size.
     * @return the offset at which anonymous mappings end: the page boundary at or below the page map.
     */
    public static long mmapCeiling(final long areaSize)
    {
        return mmapMap(areaSize) & -Geometry.PAGE_SIZE;
    }
}
