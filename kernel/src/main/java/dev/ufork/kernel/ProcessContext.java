package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.memory.Geometry;

import java.util.concurrent.locks.LockSupport;

/**
 * What a program running as a µprocess sees: checked memory through its own view of its area, its capability
 * registers, and the kernel's process services. Everything here acts on the calling µprocess.
 * <p>
 * <b>Entering the kernel.</b> Each service call loads the service's sealed entry capability from the µprocess's own
 * entry table (see {@link RegisterFileDescriptor}) and presents it; the kernel admits exactly its own entry. The
 * context object holds no capability to kernel memory, so a µprocess that wrecks its entry table has cut itself off
 * from the kernel and nothing else. {@link IsolationLevel#OFF} skips the check. Every call first delivers pending
 * signals.
 * <p>
 * Thread safety: confined to the µprocess's thread, like the area it views. Lifetime: that of the µprocess.
 */
public final class ProcessContext
{
    /** {@code waitpid} option: return at once if no child has exited. */
    public static final int WNOHANG = 1;
    /** {@code sigprocmask}: add the set to the mask. */
    public static final int SIG_BLOCK = 0;
    /** {@code sigprocmask}: remove the set from the mask. */
    public static final int SIG_UNBLOCK = 1;
    /** {@code sigprocmask}: replace the mask with the set. */
    public static final int SIG_SETMASK = 2;

    private final Kernel kernel;
    private final MicroProcess process;
    private final Capability registerFile;
    /** The entry-table register as last read; re-read when the register no longer holds it. */
    private Capability entryTable;

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
     * @throws ErrnoException EINVAL for an index out of range.
     */
    public Capability register(final int index)
    {
        return process.memory.loadCapability(registerFile, RegisterFileDescriptor.offsetOf(checkRegister(index)));
    }

    /**
     * @param index a register index, 0..{@link RegisterFileDescriptor#REGISTERS} − 1.
     * @param value the capability to put there.
     * @throws ErrnoException EINVAL for an index out of range.
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

    /**
     * The capability over the part of the area a program may use freely: from the end of the register file
     * ({@link RegisterFileDescriptor#SIZE}) to the area's end, with its start rounded up to where CHERI Concentrate
     * can encode bounds ending at the area's end exactly. Below 4 MiB that is the register file's end itself; from
     * 4 MiB on the start is aligned to the bounds' precision, 1/512 of the area (8 KiB into a 4 MiB area, 128 MiB
     * into a 64 GiB one); the bytes between the register file and it are reachable through {@link #area()}. Always
     * tagged, bounds exact, address at its base.
     *
     * @return the heap capability.
     */
    public Capability heap()
    {
        final Capability area = area();
        final long top = area.base() + area.length();
        final long first = area.base() + RegisterFileDescriptor.SIZE;
        // The alignment that the longest candidate needs is enough for every shorter one (it only grows with the
        // length), and the area's top is aligned to the area's size, so one rounding makes the bounds exact.
        final long mask = Capability.representableAlignmentMask(top - first);
        final long base = (first + ~mask) & mask;
        return area.withAddress(base).setBoundsExact(top - base);
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
     * This µprocess's private memory: the resident pages of its area that hold its own bytes (never shared, or copied
     * since its fork), as {@link KernelMetrics#privateBytes(int)} reports it. For a forked child this is what the fork
     * has cost in memory so far (what Redis reports as a child's copy-on-write size).
     *
     * @return bytes.
     */
    public long privateBytes()
    {
        enter(KernelService.COPY);
        return kernel.metrics().privateBytes(process.pid);
    }

    /**
     * {@code kill(pid, 0)}: whether a µprocess with this pid exists, running or a zombie not yet reaped.
     *
     * @param pid a pid.
     * @return whether it exists.
     */
    public boolean exists(final int pid)
    {
        enter(KernelService.KILL);
        return kernel.exists(pid);
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
     * into the area relocated, and its registers relocated likewise. Only the calling thread is copied, signal
     * actions and mask are inherited, pending signals are not.
     *
     * @param child what the child runs.
     * @param mode  when pages are copied; the child's view is the same in every mode.
     * @return the child's pid.
     * @throws ErrnoException ENOMEM if the address space has no room for the child's area; EINVAL for a null
     *                        program or mode.
     */
    public int fork(final Program child, final CopyMode mode)
    {
        enter(KernelService.FORK);
        try
        {
            return kernel.fork(process, child, mode);
        }
        finally
        {
            // Before this µprocess's next access, even if the fork failed half-way: a COA fork changes what its own
            // loads must do.
            ((ProcessBarrier)process.memory.barrier()).forked();
        }
    }

    /**
     * The way into the kernel for a service: delivers pending signals, then presents the µprocess's sealed entry
     * capability for the service from its entry table. A personality built on the kernel calls this at the start of
     * each of its own services.
     *
     * @param service the service being called.
     * @throws ErrnoException EPERM if the entry table no longer holds the service's entry capability, or if called
     *                        from a thread other than this µprocess's own.
     */
    public void enter(final KernelService service)
    {
        checkSignals();
        if (kernel.isolation() == IsolationLevel.OFF)
        {
            return;
        }
        final long slot = (long)service.index() * RegisterFileDescriptor.REGISTER_SIZE;
        try
        {
            // Compared in place, so a call makes no objects: the table register is re-read only when it changed.
            Capability table = entryTable;
            if (table == null || !process.memory.holdsCapability(registerFile,
                RegisterFileDescriptor.offsetOf(RegisterFileDescriptor.ENTRIES), table))
            {
                table = register(RegisterFileDescriptor.ENTRIES);
                entryTable = table;
            }
            if (process.memory.holdsCapability(table, slot, kernel.entry(service.index())))
            {
                return;
            }
        }
        catch (final CapabilityFault fault)
        {
            // The table or its register was wrecked: refused below like any wrong entry.
        }
        Capability presented;
        try
        {
            presented = process.memory.loadCapability(register(RegisterFileDescriptor.ENTRIES), slot);
        }
        catch (final CapabilityFault fault)
        {
            presented = Capability.NULL;
        }
        kernel.checkEntry(process, service, presented);
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
     * Waits for a child to exit and reaps it; the child's area is freed and its memory given back.
     *
     * @param pid     a child's pid, or −1 for any child.
     * @param options 0 to block, or {@link #WNOHANG}.
     * @return the reaped child and its status, or pid 0 with WNOHANG when none has exited.
     * @throws ErrnoException ECHILD if there is no such child; EINTR if a caught signal interrupted the wait; EINVAL
     *                        for unknown options or a process-group pid.
     */
    public WaitResult waitpid(final int pid, final int options)
    {
        enter(KernelService.WAIT);
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
     * Sends a signal. A signal to oneself is delivered before this returns.
     *
     * @param pid    the target µprocess.
     * @param signal the signal.
     * @throws ErrnoException ESRCH if there is no such µprocess; EPERM for init; EINVAL for a null signal.
     */
    public void kill(final int pid, final Signal signal)
    {
        enter(KernelService.KILL);
        kernel.kill(pid, signal);
        checkSignals();
    }

    /**
     * {@code sigaction}: sets what this µprocess does when {@code signal} arrives.
     *
     * @param signal the signal; not SIGKILL.
     * @param action the new action.
     * @return the previous action.
     * @throws ErrnoException EINVAL for SIGKILL or a null argument.
     */
    public SignalAction sigaction(final Signal signal, final SignalAction action)
    {
        enter(KernelService.SIGNAL);
        if (signal == null || action == null || signal == Signal.SIGKILL)
        {
            throw new ErrnoException(Errno.EINVAL, "cannot set the action of " + signal);
        }
        return process.signals.setAction(signal, action);
    }

    /**
     * {@code sigprocmask}: changes the set of blocked signals; a blocked signal stays pending until unblocked.
     * SIGKILL is never blocked. Signals unblocked by the call are delivered before it returns.
     *
     * @param how  {@link #SIG_BLOCK}, {@link #SIG_UNBLOCK} or {@link #SIG_SETMASK}.
     * @param mask signals (bit n = signal number n), see {@link #maskOf(Signal...)}.
     * @return the previous mask.
     * @throws ErrnoException EINVAL for an unknown {@code how}.
     */
    public long sigprocmask(final int how, final long mask)
    {
        enter(KernelService.SIGNAL);
        final long previous = process.signals.blocked();
        final long next = switch (how)
        {
            case SIG_BLOCK -> previous | mask;
            case SIG_UNBLOCK -> previous & ~mask;
            case SIG_SETMASK -> mask;
            default -> throw new ErrnoException(Errno.EINVAL, "unknown sigprocmask how " + how);
        };
        process.signals.setBlocked(next);
        checkSignals();
        return previous;
    }

    /** @return the signals pending for this µprocess (bit n = signal number n). */
    public long sigpending()
    {
        return process.signals.pending();
    }

    /**
     * @param signals some signals.
     * @return their mask (bit n = signal number n).
     */
    public static long maskOf(final Signal... signals)
    {
        long mask = 0;
        for (final Signal s : signals)
        {
            mask |= SignalState.bit(s);
        }
        return mask;
    }

    /**
     * Delivers pending signals now: a fatal one ends this µprocess (this does not return), caught ones run their
     * handlers. Kernel calls do this on entry; a long computation that makes none may call it to stay responsive.
     *
     * @return whether a handler ran.
     * @throws ErrnoException EPERM if called from a thread other than this µprocess's own (a context captured by
     *                        Java, say by a fork body from its parent), at every isolation level: the signals and
     *                        handlers are this µprocess's, and so is every kernel call, which starts here.
     */
    public boolean checkSignals()
    {
        if (Thread.currentThread() != process.thread)
        {
            throw new ErrnoException(Errno.EPERM, "the context of µprocess " + process.pid + " used from thread "
                + Thread.currentThread());
        }
        return kernel.deliverSignals(process);
    }

    /**
     * {@code pause}: waits until a signal is delivered (a handler runs, or a fatal signal ends the µprocess).
     *
     * @throws ErrnoException EINTR always, once a handler has run, as POSIX {@code pause} returns.
     */
    public void pause()
    {
        awaitHandler();
        throw new ErrnoException(Errno.EINTR, "pause interrupted by a signal");
    }

    /** Parks until a delivered signal has run a handler; a fatal one ends the µprocess instead. */
    private void awaitHandler()
    {
        while (!checkSignals())
        {
            LockSupport.park(this);
        }
    }

    /**
     * {@code sigsuspend}: replaces the mask with {@code mask} and waits, as {@link #pause()} does, until a signal
     * runs a handler or ends the µprocess; then restores the previous mask and delivers what it unblocks. Block a
     * signal, do what provokes it (tell another µprocess to send it), then suspend with it unblocked: unlike a
     * {@code pause} after an unblock, no instance that arrives in between is lost.
     *
     * @param mask the signals blocked while waiting (bit n = signal number n); SIGKILL is never blocked.
     * @throws ErrnoException EINTR always, once a handler has run, as POSIX {@code sigsuspend} returns.
     */
    public void sigsuspend(final long mask)
    {
        enter(KernelService.SIGNAL);
        final long previous = process.signals.blocked();
        process.signals.setBlocked(mask);
        try
        {
            awaitHandler();
        }
        finally
        {
            process.signals.setBlocked(previous);
        }
        checkSignals();
        throw new ErrnoException(Errno.EINTR, "sigsuspend interrupted by a signal");
    }

    /**
     * {@code nanosleep}: sleeps unless a caught signal interrupts it.
     *
     * @param nanos how long, not negative.
     * @return 0 if the sleep completed, else the nanoseconds left when a handler interrupted it.
     * @throws ErrnoException EINVAL for a negative duration.
     */
    public long sleep(final long nanos)
    {
        if (nanos < 0)
        {
            throw new ErrnoException(Errno.EINVAL, "negative sleep " + nanos);
        }
        checkSignals();
        final long deadline = System.nanoTime() + nanos;
        while (true)
        {
            final long left = deadline - System.nanoTime();
            if (left <= 0)
            {
                return 0;
            }
            LockSupport.parkNanos(this, left);
            if (Thread.currentThread().isInterrupted() && checkSignals())
            {
                return Math.max(1, deadline - System.nanoTime());
            }
        }
    }

    /**
     * Copies a buffer from this µprocess into the kernel, checked through {@code buffer} as a load would be. What
     * the kernel then validates and uses is this copy, which the µprocess cannot change any more (no TOCTTOU).
     *
     * @param buffer authority over the bytes; needs LOAD.
     * @param offset from the buffer's address.
     * @param length bytes, not negative.
     * @return the copy.
     * @throws ErrnoException EFAULT if the buffer does not allow the load (the capability fault is the cause).
     */
    public byte[] copyIn(final Capability buffer, final long offset, final int length)
    {
        if (length < 0)
        {
            throw new ErrnoException(Errno.EINVAL, "negative length " + length);
        }
        final byte[] copy = new byte[length];
        try
        {
            process.memory.loadBytes(buffer, offset, copy, 0, length);
        }
        catch (final CapabilityFault fault)
        {
            throw efault(fault);
        }
        return copy;
    }

    /**
     * Copies bytes from the kernel out into this µprocess, checked through {@code buffer} as a store would be.
     *
     * @param buffer authority over the destination; needs STORE.
     * @param offset from the buffer's address.
     * @param src    the bytes.
     * @param from   first index in {@code src}.
     * @param length bytes, not negative.
     * @throws ErrnoException EFAULT if the buffer does not allow the store; nothing is written then. EINVAL for a
     *                        negative length.
     */
    public void copyOut(final Capability buffer, final long offset, final byte[] src, final int from,
        final int length)
    {
        if (length < 0)
        {
            throw new ErrnoException(Errno.EINVAL, "negative length " + length);
        }
        try
        {
            process.memory.storeBytes(buffer, offset, src, from, length);
        }
        catch (final CapabilityFault fault)
        {
            throw efault(fault);
        }
    }

    /**
     * Gives whole pages of this µprocess's area back to the OS ({@code madvise(MADV_DONTNEED)}): afterwards they
     * read as zero and hold no tags, as fresh memory does, and cost nothing until touched again. This is how a
     * personality unmaps memory or shrinks a heap. Only this µprocess's view changes: a child that still shares a
     * page copy-on-write (COA, COPA) gets its own copy of the old contents first, and a page this µprocess still
     * shares with its parent simply stops being shared, without a copy and without touching the parent's.
     *
     * @param pages  authority over the pages: must allow a data store over {@code [address, address + length)}.
     * @param length bytes, a multiple of the page size; 0 does nothing.
     * @throws ErrnoException EINVAL if the address or length is not page-aligned or the length is negative; EFAULT
     *                        if {@code pages} does not allow the store or the range is not inside this µprocess's
     *                        area (at every isolation level); nothing is discarded then.
     */
    public void discard(final Capability pages, final long length)
    {
        checkSignals();
        if (length < 0 || (length & (Geometry.PAGE_SIZE - 1)) != 0
            || (pages.address() & (Geometry.PAGE_SIZE - 1)) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, "discard of [0x" + Long.toHexString(pages.address()) + ", +"
                + length + ") is not page-aligned");
        }
        final long address;
        try
        {
            address = CapabilityMemory.checkStorable(pages, 0, length);
        }
        catch (final CapabilityFault fault)
        {
            throw efault(fault);
        }
        if (length == 0)
        {
            return;
        }
        final long offset = address - process.base;
        if (offset < 0 || offset > process.area.size() - length)
        {
            throw new ErrnoException(Errno.EFAULT, "discard of [0x" + Long.toHexString(address) + ", +" + length
                + ") outside µprocess " + process.pid + "'s area");
        }
        kernel.discard(process, (int)(offset >>> Geometry.PAGE_SHIFT), (int)(length >>> Geometry.PAGE_SHIFT));
    }

    private static ErrnoException efault(final CapabilityFault fault)
    {
        final ErrnoException e = new ErrnoException(Errno.EFAULT, fault.getMessage());
        e.initCause(fault);
        return e;
    }

    /** @return the kernel's isolation level: whether services copy buffers in ({@link IsolationLevel#ADVERSARIAL}). */
    public IsolationLevel isolation()
    {
        return kernel.isolation();
    }

    @Override
    public String toString()
    {
        return "ProcessContext[pid " + process.pid + "]";
    }
}
