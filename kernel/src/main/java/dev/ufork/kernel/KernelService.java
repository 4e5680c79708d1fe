package dev.ufork.kernel;

/**
 * A kernel service: one slot of the kernel-entry table, and the sealed capability that a µprocess must present to
 * call it (see {@link RegisterFileDescriptor}). The kernel's own services are the constants here; a personality
 * built on the kernel (such as the POSIX layer) gets more from {@link Kernel#registerService(String)}.
 *
 * @param index the entry-table slot, 0..{@link RegisterFileDescriptor#ENTRY_COUNT} − 1.
 * @param name  a name for messages.
 */
public record KernelService(int index, String name)
{
    /** fork. */
    public static final KernelService FORK = new KernelService(0, "fork");
    /** waitpid. */
    public static final KernelService WAIT = new KernelService(1, "waitpid");
    /** kill. */
    public static final KernelService KILL = new KernelService(2, "kill");
    /** Changing signal actions and the signal mask. */
    public static final KernelService SIGNAL = new KernelService(3, "sigaction");
    /** Copying a buffer in or out of the kernel. */
    public static final KernelService COPY = new KernelService(4, "copy");
    /** The first slot {@link Kernel#registerService(String)} hands out. */
    static final int FIRST_EXTENSION = 16;

    /** Validates the slot. */
    public KernelService
    {
        if (index < 0 || index >= RegisterFileDescriptor.ENTRY_COUNT)
        {
            throw new IllegalArgumentException("no entry-table slot " + index);
        }
        if (name == null || name.isBlank())
        {
            throw new IllegalArgumentException("a kernel service needs a name");
        }
    }
}
