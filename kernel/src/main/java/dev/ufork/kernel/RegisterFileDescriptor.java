package dev.ufork.kernel;

/**
 * Where a µprocess's capability registers live: in the first kilobyte of its own area, in tagged memory, so that a
 * fork copies and relocates them by the same path as any other pointer in the area.
 * <pre>
 *  area base + 0x000  c0    16 B each: general capability registers c0..c31
 *            + 0x010  c1
 *              ...
 *            + 0x1F0  c31
 *            + 0x200  AREA      the µprocess's capability over its whole area (its DDC-like root)
 *            + 0x210  KERNEL    sealed capability to the kernel-entry table: the only way into the kernel
 *            + 0x220 .. 0x3FF   reserved
 *            + 0x400  first byte the program may use freely
 * </pre>
 */
public final class RegisterFileDescriptor
{
    /** General-purpose capability registers. */
    public static final int GENERAL_REGISTERS = 32;
    /** Register index of the area capability. */
    public static final int AREA = 32;
    /** Register index of the sealed kernel-entry capability. */
    public static final int KERNEL = 33;
    /** Registers in the file. */
    public static final int REGISTERS = 34;
    /** Bytes per register. */
    public static final int REGISTER_SIZE = 16;
    /** Bytes the register file occupies at the start of the area. */
    public static final int SIZE = 0x400;

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
}
