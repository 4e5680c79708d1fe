package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

/**
 * What a program running as a µprocess sees: checked memory through its own view of its area, its capability
 * registers, and the kernel's process services. Everything here acts on the calling µprocess.
 * <p>
 * Thread safety: confined to the µprocess's thread, like the area it views.
 */
public final class ProcessContext
{
    /** {@code waitpid} option: return at once if no child has exited. */
    public static final int WNOHANG = 1;

    private final Kernel kernel;
    private final MicroProcess process;
    private final Capability registerFile;

    ProcessContext(final Kernel kernel, final MicroProcess process, final Capability registerFile)
    {
        this.kernel = kernel;
        this.process = process;
        this.registerFile = registerFile;
    }

    /**
     * @return checked access to memory through capabilities, with this µprocess's copy-on-write view of its area.
     */
    public CapabilityMemory memory()
    {
        return process.memory;
    }

    /**
     * @param index a register index, 0..{@link RegisterFileDescriptor#REGISTERS} − 1.
     * @return the capability in that register.
     */
    public Capability register(final int index)
    {
        return process.memory.loadCapability(registerFile, RegisterFileDescriptor.offsetOf(checkRegister(index)));
    }

    /**
     * @param index a register index, 0..{@link RegisterFileDescriptor#REGISTERS} − 1.
     * @param value the capability to put there.
     */
    public void setRegister(final int index, final Capability value)
    {
        process.memory.storeCapability(registerFile, RegisterFileDescriptor.offsetOf(checkRegister(index)), value);
    }

    private static int checkRegister(final int index)
    {
        if (index < 0 || index >= RegisterFileDescriptor.REGISTERS)
        {
            throw new ErrnoException(Errno.EINVAL, "no register " + index);
        }
        return index;
    }

    /** @return the capability over this µprocess's whole area (register {@link RegisterFileDescriptor#AREA}). */
    public Capability area()
    {
        return register(RegisterFileDescriptor.AREA);
    }

    /** @return this µprocess's pid. */
    public int getpid()
    {
        return process.pid;
    }

    /** @return the parent's pid (1 once the parent has exited and init adopted this µprocess). */
    public int getppid()
    {
        return process.parent.pid;
    }

    /**
     * Forks in the kernel's default copy mode.
     *
     * @param child what the child runs, on its own thread, with its own context.
     * @return the child's pid (in the parent; the child starts in {@code child}).
     * @throws ErrnoException ENOMEM if the address space has no room for the child's area.
     */
    public int fork(final Program child)
    {
        return fork(child, kernel.defaultCopyMode());
    }

    /**
     * Forks: the child gets a copy of this µprocess's area at another address, with every capability that points
     * into the area relocated, and its registers relocated likewise.
     *
     * @param child what the child runs.
     * @param mode  when pages are copied; the child's view is the same in every mode.
     * @return the child's pid.
     * @throws ErrnoException ENOMEM if the address space has no room for the child's area.
     */
    public int fork(final Program child, final CopyMode mode)
    {
        enterKernel();
        return kernel.fork(process, child, mode);
    }

    /** The way into the kernel: presents the µprocess's sealed kernel-entry capability and acts on signals. */
    private void enterKernel()
    {
        checkSignals();
        if (kernel.isolation() != IsolationLevel.OFF)
        {
            kernel.checkEntry(process, register(RegisterFileDescriptor.KERNEL));
        }
    }

    /**
     * Ends this µprocess with {@code status}; does not return.
     *
     * @param status the exit status (its low 8 bits are reported).
     */
    public void exit(final int status)
    {
        throw new ProcessTermination(WaitStatus.exited(status));
    }

    /**
     * Waits for a child to exit and reaps it.
     *
     * @param pid     a child's pid, or −1 for any child.
     * @param options 0 to block, or {@link #WNOHANG}.
     * @return the reaped child and its status, or pid 0 with WNOHANG when none has exited.
     * @throws ErrnoException ECHILD if there is no such child; EINTR if interrupted; EINVAL for unknown options.
     */
    public WaitResult waitpid(final int pid, final int options)
    {
        enterKernel();
        if ((options & ~WNOHANG) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, "unknown waitpid options 0x" + Integer.toHexString(options));
        }
        if (pid == 0 || pid < -1)
        {
            throw new ErrnoException(Errno.EINVAL, "process groups are not supported: pid " + pid);
        }
        return kernel.waitpid(process, pid, (options & WNOHANG) != 0);
    }

    /**
     * @param pid    the target µprocess.
     * @param signal the signal.
     * @throws ErrnoException ESRCH if there is no such µprocess; EPERM for init.
     */
    public void kill(final int pid, final Signal signal)
    {
        enterKernel();
        kernel.kill(process, pid, signal);
        checkSignals();
    }

    /** Acts on a pending fatal signal: unwinds this µprocess if one arrived. */
    public void checkSignals()
    {
        final Signal kill = process.pendingKill;
        if (kill != null)
        {
            throw new ProcessTermination(WaitStatus.signaled(kill));
        }
    }
}
