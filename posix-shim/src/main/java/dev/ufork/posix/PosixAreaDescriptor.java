package dev.ufork.posix;

import dev.ufork.kernel.RegisterFileDescriptor;

/**
 * Where libc keeps its own state inside a µprocess's area, after the kernel's register file, so that a fork copies
 * it (and relocates its pointers) with everything else:
 * <pre>
 *  area base + 0x0000 .. 0x07FF   register file and kernel-entry table (see RegisterFileDescriptor)
 *            + 0x0800  errno            8 B   the last error number, as a long
 *            + 0x0810  brk base         8 B   offset of the first heap byte
 *            + 0x0818  brk              8 B   offset of the current break
 *            + 0x0820  mmap floor       8 B   offset of the lowest mapped byte; mappings grow down from the top
 *            + 0x0840 .. 0x0FFF   malloc state (free-list heads as capabilities, 16-byte aligned)
 *            + 0x1000 .. 0x17FF   mmap page map (one bit per page, up to 16 Ki pages = 64 MiB of mappings)
 *            + 0x1800 .. 0x1FFF   scratch: out-parameters a Java caller may point libc at
 *            + 0x2000             heap start: brk grows up from here
 * </pre>
 * Offsets are from the area base. Thread safety: constants only.
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
    /** The mmap page map: one bit per page of mappings. */
    public static final long MMAP_MAP = 0x1000;
    /** Bytes of the mmap page map. */
    public static final long MMAP_MAP_SIZE = 0x800;
    /** Scratch memory for out-parameters. */
    public static final long SCRATCH = 0x1800;
    /** Bytes of scratch memory. */
    public static final long SCRATCH_SIZE = 0x800;
    /** Where the heap starts. */
    public static final long HEAP_START = 0x2000;

    private PosixAreaDescriptor()
    {
    }
}
