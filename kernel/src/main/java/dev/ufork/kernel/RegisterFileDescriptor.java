package dev.ufork.kernel;

/**
 * Where a µprocess's capability registers and its kernel-entry table live: in the first 2 KiB of its own area, in
 * tagged memory, so that a fork copies and relocates them by the same path as any other pointer in the area.
 * <pre>
 *  area base + 0x000  c0        16 B each: general capability registers c0..c31
 *            + 0x010  c1
 *              ...
 *            + 0x1F0  c31
 *            + 0x200  AREA      the µprocess's capability over its whole area (its DDC-like root)
 *            + 0x210  ENTRIES   a load-only capability over the entry table below
 *            + 0x220 .. 0x3FF   reserved
 *            + 0x400  entry 0   16 B each: sealed kernel-entry capabilities, one per kernel service
 *              ...
 *            + 0x7F0  entry 63
 *            + 0x800  first byte the program may use freely
 * </pre>
 * The entries point into the kernel's own area, outside every µprocess's, so relocation leaves them as they are. A
 * µprocess may overwrite its own table; it only loses its way into the kernel.
 * <p>
 * Thread safety: constants only.
 */
public final class RegisterFileDescriptor
{
    /** General-purpose capability registers. */
    public static final int GENERAL_REGISTERS = 32;
    /** Register index of the area capability. */
    public static final int AREA = 32;
    /** Register index of the capability over the kernel-entry table. */
    public static final int ENTRIES = 33;
    /** Registers in the file. */
    public static final int REGISTERS = 34;
    /** Bytes per register. */
    public static final int REGISTER_SIZE = 16;
    /** Offset of the kernel-entry table from the area base. */
    public static final int ENTRY_TABLE = 0x400;
    /** Entries in the kernel-entry table: the most kernel services there can be. */
    public static final int ENTRY_COUNT = 64;
    /** Bytes the register file and entry table occupy at the start of the area. */
    public static final int SIZE = 0x800;

    private RegisterFileDescriptor()
    {
    }

    /**
     * @param register a register index.
     * @return its offset from the area base.
     */
    public static long offsetOf(final int register)
    {
        return (long)register * REGISTER_SIZE;
    }

    /**
     * @param entry an entry index, 0..{@link #ENTRY_COUNT} − 1.
     * @return its offset from the area base.
     */
    public static long entryOffset(final int entry)
    {
        return ENTRY_TABLE + (long)entry * REGISTER_SIZE;
    }
}
