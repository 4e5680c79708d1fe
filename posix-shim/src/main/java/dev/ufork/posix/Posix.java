package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;
import dev.ufork.kernel.IsolationLevel;
import dev.ufork.kernel.KernelService;
import dev.ufork.kernel.ProcessContext;
import dev.ufork.kernel.Signal;
import dev.ufork.kernel.SignalAction;
import dev.ufork.kernel.SignalHandler;
import dev.ufork.kernel.WaitResult;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * libc for one µprocess: the POSIX calls a program running on the {@link PosixSystem} makes, as C's libc offers
 * them. Calls return what C's do and report failure as C's do: {@code -1} (or {@code null} where C returns a
 * pointer) with the error number in {@link #errno()}, which lives in the µprocess's own memory
 * ({@link PosixAreaDescriptor#ERRNO}). Nothing is changed by a failed call unless its description says so.
 * <p>
 * <b>Pointers are capabilities.</b> Every buffer is passed as a capability and a length, and is checked before
 * anything happens: a buffer without the needed permission, out of its bounds, or outside the µprocess's area gives
 * EFAULT, never a crash, and no data is consumed. Where C takes an {@code int *} out-parameter, the capability
 * form is the faithful one; an {@code int[]} form is offered for Java callers.
 * <p>
 * <b>Where this differs from POSIX.</b> {@code fork} takes the child's program ({@link #fork(PosixProgram)}) because
 * Java cannot return twice; there is no {@code exec}; a µprocess has one thread; signals are delivered at libc
 * calls and in blocking calls, not asynchronously in the middle of computation (call {@link #checkSignals()} in
 * long loops).
 * <p>
 * Thread safety: confined to its µprocess's thread, as C's libc is to its process. Lifetime: that of the µprocess.
 */
public final class Posix
{
    /** waitpid: return at once if no child has exited. */
    public static final int WNOHANG = 1;
    /** sigprocmask: add the set to the mask. */
    public static final int SIG_BLOCK = 0;
    /** sigprocmask: remove the set from the mask. */
    public static final int SIG_UNBLOCK = 1;
    /** sigprocmask: replace the mask with the set. */
    public static final int SIG_SETMASK = 2;
    /** The default action of a signal, for {@link #signal}. */
    public static final PosixSignalHandler SIG_DFL = (posix, signal) ->
    {
        throw new IllegalStateException("SIG_DFL is a marker, never called");
    };
    /** Ignore a signal, for {@link #signal}. */
    public static final PosixSignalHandler SIG_IGN = (posix, signal) ->
    {
        throw new IllegalStateException("SIG_IGN is a marker, never called");
    };

    /** Bytes of the kernel-side buffer that reads and writes go through. */
    static final int KERNEL_BUFFER = 64 << 10;

    private final PosixSystem system;
    private final ProcessContext ctx;
    private final CapabilityMemory memory;
    private final Capability area;
    private final long areaBase;
    private final long areaTop;
    private final boolean fenced;
    private final FileDescriptorTable fds;
    private final List<ExitHandler> atexit;
    private final Waiter waiter;
    private Arena arena;
    private MemorySegment kernelSegment;
    private ByteBuffer kernelBuffer;
    private boolean exiting;

    Posix(final PosixSystem system, final ProcessContext ctx, final FileDescriptorTable fds,
        final List<ExitHandler> atexit, final boolean fresh)
    {
        this.system = system;
        this.ctx = ctx;
        this.memory = ctx.memory();
        this.area = ctx.area();
        this.areaBase = area.base();
        this.areaTop = area.base() + area.length();
        this.fenced = ctx.isolation() != IsolationLevel.OFF;
        this.fds = fds;
        this.atexit = new ArrayList<>(atexit);
        this.waiter = new Waiter(Thread.currentThread());
        if (fresh)
        {
            memory.storeLong(area, PosixAreaDescriptor.ERRNO, 0);
            memory.storeLong(area, PosixAreaDescriptor.BRK_BASE, PosixAreaDescriptor.HEAP_START);
            memory.storeLong(area, PosixAreaDescriptor.BRK, PosixAreaDescriptor.HEAP_START);
            memory.storeLong(area, PosixAreaDescriptor.MMAP_FLOOR, area.length());
        }
    }

    /** At the end of the µprocess, whatever ended it: closes the descriptors and frees the kernel buffer. */
    void release()
    {
        fds.closeAll();
        waiter.close();
        if (arena != null)
        {
            arena.close();
            arena = null;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // The µprocess

    /** @return the kernel context underneath: memory, registers and the kernel's own calls. */
    public ProcessContext context()
    {
        return ctx;
    }

    /** @return checked access to this µprocess's memory. */
    public CapabilityMemory memory()
    {
        return memory;
    }

    /** @return the capability over this µprocess's whole area. */
    public Capability area()
    {
        return area;
    }

    /**
     * @return a capability over {@value PosixAreaDescriptor#SCRATCH_SIZE} bytes of this µprocess's memory reserved
     *         for out-parameters (status words, descriptor pairs, small pollfd arrays), so Java callers need not
     *         allocate for them.
     */
    public Capability scratch()
    {
        return area.add(PosixAreaDescriptor.SCRATCH).setBoundsExact(PosixAreaDescriptor.SCRATCH_SIZE);
    }

    /** @return the system this µprocess runs on. */
    public PosixSystem system()
    {
        return system;
    }

    // ------------------------------------------------------------------------------------------------------------
    // errno

    /** @return the error number of the last failed call (0 if none has failed since it was cleared). */
    public int errno()
    {
        return (int)memory.loadLong(area, PosixAreaDescriptor.ERRNO);
    }

    /** @param value the new errno, as C's {@code errno = value}. */
    public void setErrno(final int value)
    {
        memory.storeLong(area, PosixAreaDescriptor.ERRNO, value);
    }

    /** @return the last error as an {@link Errno}, or null if errno is 0 or not one the library knows. */
    public Errno lastError()
    {
        return Errno.ofCode(errno());
    }

    private int fail(final ErrnoException e)
    {
        setErrno(e.errno().code());
        return -1;
    }

    private long failLong(final ErrnoException e)
    {
        setErrno(e.errno().code());
        return -1;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Processes

    /** @return this µprocess's pid. */
    public int getpid()
    {
        return ctx.getpid();
    }

    /** @return the parent's pid (1 once the parent has gone and init adopted this µprocess). */
    public int getppid()
    {
        return ctx.getppid();
    }

    /**
     * fork in the kernel's default copy mode; see {@link #fork(PosixProgram, CopyMode)}.
     *
     * @param child what the child runs.
     * @return the child's pid, or −1 with errno (ENOMEM, EAGAIN).
     */
    public int fork(final PosixProgram child)
    {
        return forkWith(child, null);
    }

    /**
     * fork: a new µprocess whose memory is a copy of this one's at another address (every pointer relocated),
     * running {@code child} with its own libc. The child inherits the descriptors (sharing each open file
     * description, offsets included), the signal actions and mask and the {@code atexit} handlers; not the pending
     * signals.
     *
     * @param child what the child runs; returning from it is {@code exit}.
     * @param mode  when the child's pages are copied; the child's view is the same in every mode.
     * @return the child's pid, or −1 with errno: ENOMEM if the address space has no room for the child.
     */
    public int fork(final PosixProgram child, final CopyMode mode)
    {
        if (mode == null)
        {
            setErrno(Errno.EINVAL.code());
            return -1;
        }
        return forkWith(child, mode);
    }

    private int forkWith(final PosixProgram child, final CopyMode mode)
    {
        if (child == null)
        {
            setErrno(Errno.EINVAL.code());
            return -1;
        }
        final FileDescriptorTable childFds = fds.forkCopy();
        try
        {
            final dev.ufork.kernel.Program program = system.program(child, childFds, atexit, false);
            return mode == null ? ctx.fork(program) : ctx.fork(program, mode);
        }
        catch (final ErrnoException e)
        {
            childFds.closeAll();
            return fail(e);
        }
        catch (final RuntimeException | Error e)
        {
            childFds.closeAll();
            throw e;
        }
    }

    /**
     * {@code exit}: runs the {@code atexit} handlers (most recent first, each once), then {@link #_exit}. Does not
     * return.
     *
     * @param status the exit status (its low 8 bits are reported).
     */
    public void exit(final int status)
    {
        if (!exiting)
        {
            exiting = true;
            for (int i = atexit.size() - 1; i >= 0; i--)
            {
                atexit.get(i).run(this);
            }
        }
        _exit(status);
    }

    /**
     * {@code _exit}: ends the µprocess at once, without the {@code atexit} handlers. Its descriptors close, its
     * parent gets SIGCHLD, and it stays a zombie until reaped. Does not return.
     *
     * @param status the exit status (its low 8 bits are reported).
     */
    public void _exit(final int status)
    {
        ctx.exit(status);
    }

    /**
     * {@code atexit}: registers a handler for {@link #exit}.
     *
     * @param handler the handler.
     * @return 0, or −1 with errno EINVAL for null.
     */
    public int atexit(final ExitHandler handler)
    {
        if (handler == null)
        {
            setErrno(Errno.EINVAL.code());
            return -1;
        }
        atexit.add(handler);
        return 0;
    }

    /**
     * {@code waitpid}: waits for a child to change state and reaps it.
     *
     * @param pid     a child's pid, or −1 for any child.
     * @param wstatus where to store the wait status (a 4-byte int), or an untagged capability (NULL) for nowhere.
     * @param options 0 or {@link #WNOHANG}.
     * @return the reaped child's pid; 0 with WNOHANG if no child has exited; −1 with errno: ECHILD (no such
     *         child), EINTR (a caught signal), EINVAL (bad options or pid), EFAULT (bad wstatus, checked before
     *         anything is reaped).
     */
    public int waitpid(final int pid, final Capability wstatus, final int options)
    {
        try
        {
            if (wstatus.isTagged())
            {
                checkUser(wstatus, Integer.BYTES, true);
            }
            final WaitResult result = ctx.waitpid(pid, options);
            if (result.pid() != 0 && wstatus.isTagged())
            {
                memory.storeInt(wstatus, 0, result.status());
            }
            return result.pid();
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code waitpid} with the status stored into a Java array.
     *
     * @param pid     a child's pid, or −1.
     * @param wstatus receives the status in element 0, or null.
     * @param options 0 or {@link #WNOHANG}.
     * @return as {@link #waitpid(int, Capability, int)}.
     */
    public int waitpid(final int pid, final int[] wstatus, final int options)
    {
        try
        {
            final WaitResult result = ctx.waitpid(pid, options);
            if (result.pid() != 0 && wstatus != null)
            {
                wstatus[0] = result.status();
            }
            return result.pid();
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code wait}: {@code waitpid(-1, wstatus, 0)}.
     *
     * @param wstatus receives the status in element 0, or null.
     * @return the reaped child's pid, or −1 with errno.
     */
    public int wait(final int[] wstatus)
    {
        return waitpid(-1, wstatus, 0);
    }

    /** @param status a wait status. @return whether the child exited normally. */
    public static boolean WIFEXITED(final int status)
    {
        return (status & 0x7F) == 0;
    }

    /** @param status a wait status of an exited child. @return its exit status. */
    public static int WEXITSTATUS(final int status)
    {
        return (status >>> 8) & 0xFF;
    }

    /** @param status a wait status. @return whether a signal ended the child. */
    public static boolean WIFSIGNALED(final int status)
    {
        return (status & 0x7F) != 0 && (status & 0x7F) != 0x7F;
    }

    /** @param status a wait status of a signalled child. @return the signal number. */
    public static int WTERMSIG(final int status)
    {
        return status & 0x7F;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Signals

    /**
     * {@code kill}: sends a signal; {@code sig} 0 only checks that the µprocess exists. A signal to oneself is
     * delivered before this returns.
     *
     * @param pid the target.
     * @param sig a signal number, or 0.
     * @return 0, or −1 with errno: ESRCH (no such µprocess), EINVAL (unknown signal), EPERM (init).
     */
    public int kill(final int pid, final int sig)
    {
        try
        {
            if (sig == 0)
            {
                if (!ctx.exists(pid))
                {
                    throw new ErrnoException(Errno.ESRCH, "no µprocess " + pid);
                }
                return 0;
            }
            ctx.kill(pid, Signal.of(sig));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code raise}: a signal to oneself.
     *
     * @param sig a signal number.
     * @return 0, or −1 with errno EINVAL.
     */
    public int raise(final int sig)
    {
        return kill(getpid(), sig);
    }

    /**
     * {@code signal} / {@code sigaction}: sets what this µprocess does when {@code sig} arrives. The handler stays
     * installed after it runs (BSD and Linux semantics) and runs with {@code sig} blocked.
     *
     * @param sig     a signal number; not SIGKILL.
     * @param handler a handler, {@link #SIG_DFL} or {@link #SIG_IGN}.
     * @return the previous handler ({@link #SIG_DFL}, {@link #SIG_IGN} or a handler), or null with errno EINVAL.
     */
    public PosixSignalHandler signal(final int sig, final PosixSignalHandler handler)
    {
        try
        {
            if (handler == null)
            {
                throw new ErrnoException(Errno.EINVAL, "no handler");
            }
            final SignalAction action = handler == SIG_DFL ? SignalAction.DEFAULT
                : handler == SIG_IGN ? SignalAction.IGNORE : SignalAction.handle(new Adapter(system, handler));
            return fromAction(ctx.sigaction(Signal.of(sig), action));
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return null;
        }
    }

    /** {@link #signal}, under its POSIX name. @return as {@link #signal}. */
    public PosixSignalHandler sigaction(final int sig, final PosixSignalHandler handler)
    {
        return signal(sig, handler);
    }

    private static PosixSignalHandler fromAction(final SignalAction action)
    {
        return switch (action.disposition())
        {
            case DEFAULT -> SIG_DFL;
            case IGNORE -> SIG_IGN;
            case HANDLE -> action.handler() instanceof Adapter adapter ? adapter.handler
                : (posix, signal) -> action.handler().handle(posix.ctx, Signal.of(signal));
        };
    }

    /** Runs a libc-level handler with the libc of the µprocess the signal is delivered to. */
    private record Adapter(PosixSystem system, PosixSignalHandler handler) implements SignalHandler
    {
        @Override
        public void handle(final ProcessContext context, final Signal signal)
        {
            handler.handle(system.posixOf(context), signal.number());
        }
    }

    /**
     * {@code sigprocmask}: changes the blocked signals (bit n = signal n). SIGKILL cannot be blocked. Signals it
     * unblocks that are pending are delivered before it returns.
     *
     * @param how {@link #SIG_BLOCK}, {@link #SIG_UNBLOCK} or {@link #SIG_SETMASK}.
     * @param set the signals.
     * @return the previous mask, or −1 with errno EINVAL.
     */
    public long sigprocmask(final int how, final long set)
    {
        try
        {
            return ctx.sigprocmask(how, set);
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /** @return the pending signals (bit n = signal n). */
    public long sigpending()
    {
        return ctx.sigpending();
    }

    /**
     * Delivers pending signals now (handlers run; a fatal signal ends the µprocess). Long computations that make no
     * libc call should call this now and then.
     *
     * @return whether a handler ran.
     */
    public boolean checkSignals()
    {
        return ctx.checkSignals();
    }

    /**
     * {@code pause}: waits for a signal that runs a handler (or ends the µprocess).
     *
     * @return −1 with errno EINTR, always.
     */
    public int pause()
    {
        try
        {
            ctx.pause();
            throw new IllegalStateException("pause returned");
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code sigsuspend}: waits with {@code set} as the mask until a signal runs a handler (or ends the µprocess),
     * then restores the mask. The race-free way to wait for a signal that was blocked until now.
     *
     * @param set the signals blocked while waiting (bit n = signal n).
     * @return −1 with errno EINTR, always.
     */
    public int sigsuspend(final long set)
    {
        try
        {
            ctx.sigsuspend(set);
            throw new IllegalStateException("sigsuspend returned");
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code sleep}: sleeps unless a caught signal interrupts it.
     *
     * @param seconds how long.
     * @return 0, or the seconds left (rounded up) when a handler interrupted it.
     */
    public int sleep(final int seconds)
    {
        final long left = ctx.sleep(Math.max(0, seconds) * 1_000_000_000L);
        return (int)((left + 999_999_999L) / 1_000_000_000L);
    }

    /**
     * {@code nanosleep}, with Java arguments.
     *
     * @param nanos how long, not negative.
     * @return 0 if it slept the whole time, else −1 with errno EINTR (a handler ran) or EINVAL (negative).
     */
    public int nanosleep(final long nanos)
    {
        try
        {
            if (ctx.sleep(nanos) != 0)
            {
                throw new ErrnoException(Errno.EINTR, "nanosleep interrupted by a signal");
            }
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code nanosleep(req, rem)}: {@code struct timespec} is two 8-byte words, seconds then nanoseconds.
     *
     * @param req how long.
     * @param rem where to store what was left if a handler interrupted the sleep, or NULL.
     * @return 0, or −1 with errno EINTR, EINVAL (nanoseconds outside [0, 10^9) or negative seconds), EFAULT.
     */
    public int nanosleep(final Capability req, final Capability rem)
    {
        try
        {
            checkUser(req, 16, false);
            if (rem.isTagged())
            {
                checkUser(rem, 16, true);
            }
            final long seconds = memory.loadLong(req, 0);
            final long nanos = memory.loadLong(req, 8);
            if (seconds < 0 || nanos < 0 || nanos >= 1_000_000_000L)
            {
                throw new ErrnoException(Errno.EINVAL, "bad timespec " + seconds + "s " + nanos + "ns");
            }
            final long total = seconds > Long.MAX_VALUE / 1_000_000_000L - 1 ? Long.MAX_VALUE
                : seconds * 1_000_000_000L + nanos;
            final long left = ctx.sleep(total);
            if (left != 0)
            {
                if (rem.isTagged())
                {
                    memory.storeLong(rem, 0, left / 1_000_000_000L);
                    memory.storeLong(rem, 8, left % 1_000_000_000L);
                }
                throw new ErrnoException(Errno.EINTR, "nanosleep interrupted by a signal");
            }
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /** Called when a write finds no reader: SIGPIPE to oneself (which may end the µprocess) before EPIPE. */
    void brokenPipe()
    {
        ctx.kill(getpid(), Signal.SIGPIPE);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Descriptors

    /**
     * {@code close}.
     *
     * @param fd a descriptor.
     * @return 0, or −1 with errno EBADF.
     */
    public int close(final int fd)
    {
        try
        {
            enter(system.fileService);
            fds.close(fd);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code dup}: a new descriptor (the lowest free) for the same open file description.
     *
     * @param fd a descriptor.
     * @return the new descriptor, or −1 with errno EBADF or EMFILE.
     */
    public int dup(final int fd)
    {
        return duplicate(fd, 0, false);
    }

    /**
     * {@code dup2}: makes {@code newfd} refer to what {@code oldfd} does, closing {@code newfd} first if open.
     *
     * @param oldfd an open descriptor.
     * @param newfd the descriptor to (re)use.
     * @return {@code newfd}, or −1 with errno EBADF (oldfd not open, newfd out of range).
     */
    public int dup2(final int oldfd, final int newfd)
    {
        try
        {
            enter(system.fileService);
            final OpenFile file = fds.get(oldfd);
            if (oldfd == newfd)
            {
                return newfd;
            }
            file.retain();
            try
            {
                fds.replace(newfd, file, false);
            }
            catch (final ErrnoException e)
            {
                file.release();
                throw e;
            }
            return newfd;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    private int duplicate(final int fd, final int min, final boolean cloexec)
    {
        try
        {
            enter(system.fileService);
            final OpenFile file = fds.get(fd);
            file.retain();
            try
            {
                return fds.install(file, min, cloexec);
            }
            catch (final ErrnoException e)
            {
                file.release();
                throw e;
            }
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code fcntl}: F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD (FD_CLOEXEC), F_GETFL, F_SETFL (O_APPEND and
     * O_NONBLOCK; shared by every descriptor of the description).
     *
     * @param fd  a descriptor.
     * @param cmd the command.
     * @param arg its argument.
     * @return what the command returns, or −1 with errno EBADF, EINVAL (unknown command), EMFILE.
     */
    public int fcntl(final int fd, final int cmd, final int arg)
    {
        try
        {
            enter(system.fileService);
            final OpenFile file = fds.get(fd);
            return switch (cmd)
            {
                case Fcntl.F_DUPFD -> duplicateOrThrow(fd, arg, false);
                case Fcntl.F_DUPFD_CLOEXEC -> duplicateOrThrow(fd, arg, true);
                case Fcntl.F_GETFD -> fds.closeOnExec(fd) ? Fcntl.FD_CLOEXEC : 0;
                case Fcntl.F_SETFD ->
                {
                    fds.setCloseOnExec(fd, (arg & Fcntl.FD_CLOEXEC) != 0);
                    yield 0;
                }
                case Fcntl.F_GETFL -> file.statusFlags();
                case Fcntl.F_SETFL ->
                {
                    file.setStatusFlags(arg);
                    yield 0;
                }
                default -> throw new ErrnoException(Errno.EINVAL, "unknown fcntl command " + cmd);
            };
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    private int duplicateOrThrow(final int fd, final int min, final boolean cloexec)
    {
        final int result = duplicate(fd, min, cloexec);
        if (result < 0)
        {
            throw new ErrnoException(Errno.ofCode(errno()), "fcntl duplicate of " + fd);
        }
        return result;
    }

    /**
     * Installs a new open file under the lowest free descriptor; on EMFILE the file is released.
     *
     * @return the descriptor.
     */
    int installNew(final OpenFile file, final boolean cloexec)
    {
        try
        {
            return fds.install(file, 0, cloexec);
        }
        catch (final ErrnoException e)
        {
            file.release();
            throw e;
        }
    }

    /** @return the open file behind a descriptor (EBADF if none), for the other parts of libc. */
    OpenFile file(final int fd)
    {
        return fds.get(fd);
    }

    /** @return the descriptor table, for the other parts of libc. */
    FileDescriptorTable descriptors()
    {
        return fds;
    }

    // ------------------------------------------------------------------------------------------------------------
    // read and write

    /**
     * {@code read}: up to {@code count} bytes into {@code buf}.
     *
     * @param fd    a descriptor open for reading.
     * @param buf   the buffer: needs STORE over {@code count} bytes from its address.
     * @param count bytes wanted.
     * @return bytes read (0 at end of file), or −1 with errno: EBADF, EFAULT, EINVAL, EAGAIN, EINTR, EISDIR, ...
     */
    public long read(final int fd, final Capability buf, final long count)
    {
        try
        {
            final OpenFile file = readable(fd);
            checkCount(count);
            checkUser(buf, count, true);
            return readInto(file, buf, null, 0, count);
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code read} into a Java byte array, for Java callers.
     *
     * @param fd    a descriptor open for reading.
     * @param bytes the destination.
     * @param from  first index.
     * @param count bytes wanted.
     * @return bytes read (0 at end of file), or −1 with errno.
     */
    public long read(final int fd, final byte[] bytes, final int from, final int count)
    {
        try
        {
            final OpenFile file = readable(fd);
            java.util.Objects.checkFromIndexSize(from, count, bytes.length);
            return readInto(file, null, bytes, from, count);
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code write}: up to {@code count} bytes from {@code buf}.
     *
     * @param fd    a descriptor open for writing.
     * @param buf   the bytes: needs LOAD over {@code count} bytes from its address.
     * @param count bytes to write.
     * @return bytes written, or −1 with errno: EBADF, EFAULT, EINVAL, EAGAIN, EINTR, EPIPE (after SIGPIPE), ...
     */
    public long write(final int fd, final Capability buf, final long count)
    {
        try
        {
            final OpenFile file = writable(fd);
            checkCount(count);
            checkUser(buf, count, false);
            return writeFrom(file, buf, null, 0, count);
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code write} of a Java byte array, for Java callers (the bytes are copied in as from a buffer).
     *
     * @param fd    a descriptor open for writing.
     * @param bytes the bytes.
     * @param from  first index.
     * @param count bytes to write.
     * @return bytes written, or −1 with errno.
     */
    public long write(final int fd, final byte[] bytes, final int from, final int count)
    {
        try
        {
            final OpenFile file = writable(fd);
            java.util.Objects.checkFromIndexSize(from, count, bytes.length);
            return writeFrom(file, null, bytes, from, count);
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    private OpenFile readable(final int fd)
    {
        enter(system.fileService);
        final OpenFile file = fds.get(fd);
        if (!file.readable())
        {
            throw new ErrnoException(Errno.EBADF, "descriptor " + fd + " is not open for reading");
        }
        return file;
    }

    private OpenFile writable(final int fd)
    {
        enter(system.fileService);
        final OpenFile file = fds.get(fd);
        if (!file.writable())
        {
            throw new ErrnoException(Errno.EBADF, "descriptor " + fd + " is not open for writing");
        }
        return file;
    }

    /**
     * The read loop: kernel-buffer-sized chunks from the file, each copied out into µprocess memory ({@code buf}) or
     * a Java array ({@code bytes}, when {@code buf} is null). A regular file keeps filling; anything else returns
     * what one read gave. An error after some progress returns the progress.
     */
    private long readInto(final OpenFile file, final Capability buf, final byte[] bytes, final int from,
        final long count)
    {
        file.beginTransfer(false);
        try
        {
            return readChunks(file, buf, bytes, from, count);
        }
        finally
        {
            file.endTransfer(false);
        }
    }

    private long readChunks(final OpenFile file, final Capability buf, final byte[] bytes, final int from,
        final long count)
    {
        long done = 0;
        while (done < count)
        {
            final ByteBuffer chunk = kernelBuffer(count - done);
            final int asked = chunk.remaining();
            final long n;
            try
            {
                n = file.read(this, chunk);
            }
            catch (final ErrnoException e)
            {
                // As a system call does: an error after some progress returns the progress; the next call sees it.
                if (done > 0)
                {
                    return done;
                }
                throw e;
            }
            if (n <= 0)
            {
                break;
            }
            if (buf != null)
            {
                memory.storeBytes(buf, done, kernelSegment, 0, n);
            }
            else
            {
                chunk.flip().get(bytes, from + (int)done, (int)n);
            }
            done += n;
            if (n < asked || !file.readsFully())
            {
                break;
            }
        }
        return done;
    }

    /**
     * The write loop: kernel-buffer-sized chunks copied in from µprocess memory ({@code buf}) or a Java array
     * ({@code bytes}, when {@code buf} is null), each written whole unless the file takes less. An error after some
     * progress returns the progress.
     */
    private long writeFrom(final OpenFile file, final Capability buf, final byte[] bytes, final int from,
        final long count)
    {
        file.beginTransfer(true);
        try
        {
            return writeChunks(file, buf, bytes, from, count);
        }
        finally
        {
            file.endTransfer(true);
        }
    }

    private long writeChunks(final OpenFile file, final Capability buf, final byte[] bytes, final int from,
        final long count)
    {
        long done = 0;
        while (done < count)
        {
            final ByteBuffer chunk = kernelBuffer(count - done);
            final int asked = chunk.remaining();
            if (buf != null)
            {
                memory.loadBytes(buf, done, kernelSegment, 0, asked);
            }
            else
            {
                chunk.put(bytes, from + (int)done, asked).flip();
            }
            final long n;
            try
            {
                n = file.write(this, chunk);
            }
            catch (final ErrnoException e)
            {
                // As a system call does: an error after some progress returns the progress; the next call sees it.
                if (done > 0)
                {
                    return done;
                }
                throw e;
            }
            done += n;
            if (n < asked)
            {
                break;
            }
        }
        return done;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Pipes

    /**
     * {@code pipe2}: a pipe; stores the read end's descriptor at {@code fds[0]} and the write end's at {@code fds[1]}
     * (two 4-byte ints).
     *
     * @param pipefd where to store the two descriptors: needs STORE over 8 bytes.
     * @param flags  0, or O_NONBLOCK and O_CLOEXEC.
     * @return 0, or −1 with errno EFAULT, EMFILE, EINVAL (unknown flags).
     */
    public int pipe2(final Capability pipefd, final int flags)
    {
        try
        {
            enter(system.fileService);
            checkUser(pipefd, 2 * Integer.BYTES, true);
            final int[] pair = openPipe(flags);
            memory.storeInt(pipefd, 0, pair[0]);
            memory.storeInt(pipefd, Integer.BYTES, pair[1]);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /** {@code pipe}: {@link #pipe2} with no flags. @param pipefd where to store the pair. @return 0 or −1. */
    public int pipe(final Capability pipefd)
    {
        return pipe2(pipefd, 0);
    }

    /**
     * {@code pipe} into a Java array.
     *
     * @param pipefd receives the read end in element 0 and the write end in element 1.
     * @return 0, or −1 with errno EMFILE.
     */
    public int pipe(final int[] pipefd)
    {
        try
        {
            enter(system.fileService);
            final int[] pair = openPipe(0);
            pipefd[0] = pair[0];
            pipefd[1] = pair[1];
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    private int[] openPipe(final int flags)
    {
        if ((flags & ~(Fcntl.O_NONBLOCK | Fcntl.O_CLOEXEC)) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, "unknown pipe2 flags 0" + Integer.toOctalString(flags));
        }
        final boolean cloexec = (flags & Fcntl.O_CLOEXEC) != 0;
        final Pipe pipe = new Pipe(flags);
        final int readFd = installNew(pipe.readEnd(), cloexec);
        final int writeFd;
        try
        {
            writeFd = installNew(pipe.writeEnd(), cloexec);
        }
        catch (final ErrnoException e)
        {
            fds.close(readFd);
            throw e;
        }
        return new int[] {readFd, writeFd};
    }

    // ------------------------------------------------------------------------------------------------------------
    // Files: open, creat, pread, pwrite, lseek, fsync, ftruncate, rename, unlink, stat, fstat, mkdir

    /**
     * {@code open}: a file or directory under the system's root ({@link PosixConfig#root()}), which is this
     * µprocess's {@code /} and also its working directory (there is no {@code chdir}). Paths resolve as in a
     * chroot: {@code ..} stops at the root, a symbolic link's text is resolved from the link's directory or, if
     * absolute, from the root, and no path, link or rename race leads out of the root. The new descriptor is the
     * lowest free one; its open file description holds the offset, shared with every descriptor {@code dup} and
     * {@code fork} make from it.
     * <p>
     * Regular files and directories open; directories only read-only, and reading one fails with EISDIR. A created
     * file gets {@code mode & ~022 & 0777}. Where this differs from Linux: unknown flags and the access mode 3 fail
     * with EINVAL (Linux ignores unknown flags); O_TRUNC with O_RDONLY does nothing; paths must be UTF-8 (else
     * EINVAL).
     *
     * @param path  a NUL-terminated path: needs LOAD up to and including its NUL. No NUL within the capability's
     *              bounds gives EFAULT, no NUL within {@value HostFileSystem#PATH_MAX} bytes ENAMETOOLONG.
     * @param flags {@link Fcntl#O_RDONLY}, {@link Fcntl#O_WRONLY} or {@link Fcntl#O_RDWR}, with any of O_CREAT,
     *              O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK (no effect on files), O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC.
     * @param mode  the permission bits of a created file.
     * @return the descriptor, or −1 with errno: ENOENT, EEXIST (O_CREAT|O_EXCL), EISDIR (a directory for writing
     *         or with O_CREAT), ENOTDIR, ELOOP (too many links, or a link with O_NOFOLLOW), ENAMETOOLONG, EACCES,
     *         EFAULT, EMFILE, ENFILE (the host is out of descriptors), EINVAL (bad flags, O_CREAT|O_DIRECTORY),
     *         EOPNOTSUPP (not a regular file or directory).
     */
    public int open(final Capability path, final int flags, final int mode)
    {
        try
        {
            enter(system.fileService);
            return openPath(pathArgument(path), flags, mode);
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code open} with a Java string for the path; see {@link #open(Capability, int, int)}.
     *
     * @param path  the path; a NUL in it gives EINVAL.
     * @param flags the open flags.
     * @param mode  the permission bits of a created file.
     * @return the descriptor, or −1 with errno.
     */
    public int open(final String path, final int flags, final int mode)
    {
        try
        {
            enter(system.fileService);
            return openPath(HostFileSystem.checkPath(path), flags, mode);
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code open} without a mode (for calls without O_CREAT, as C's two-argument form).
     *
     * @param path  the path.
     * @param flags the open flags.
     * @return the descriptor, or −1 with errno.
     */
    public int open(final String path, final int flags)
    {
        return open(path, flags, 0);
    }

    /**
     * {@code creat}: {@code open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)}.
     *
     * @param path a NUL-terminated path.
     * @param mode the permission bits of a created file.
     * @return the descriptor, or −1 with errno.
     */
    public int creat(final Capability path, final int mode)
    {
        return open(path, Fcntl.O_WRONLY | Fcntl.O_CREAT | Fcntl.O_TRUNC, mode);
    }

    /**
     * {@code creat} with a Java string for the path.
     *
     * @param path the path.
     * @param mode the permission bits of a created file.
     * @return the descriptor, or −1 with errno.
     */
    public int creat(final String path, final int mode)
    {
        return open(path, Fcntl.O_WRONLY | Fcntl.O_CREAT | Fcntl.O_TRUNC, mode);
    }

    private int openPath(final String path, final int flags, final int mode)
    {
        // As Linux, find room for the descriptor before opening, so that EMFILE creates nothing.
        if (fds.openCount() >= fds.limit())
        {
            throw new ErrnoException(Errno.EMFILE, "all " + fds.limit() + " descriptors are in use");
        }
        return installNew(system.files.open(path, flags, mode), (flags & Fcntl.O_CLOEXEC) != 0);
    }

    /**
     * {@code pread}: up to {@code count} bytes at {@code offset}, without using or moving the file offset. A regular
     * file fills the buffer unless it ends first.
     *
     * @param fd     a descriptor open for reading.
     * @param buf    the buffer: needs STORE over {@code count} bytes.
     * @param count  bytes wanted.
     * @param offset where in the file, not negative.
     * @return bytes read (0 at or past the end), or −1 with errno: EBADF, EINVAL (negative count or offset, or
     *         their sum overflows), EFAULT, ESPIPE (a pipe), EISDIR.
     */
    public long pread(final int fd, final Capability buf, final long count, final long offset)
    {
        try
        {
            enter(system.fileService);
            final OpenFile file = positional(fd, count, offset, false);
            checkUser(buf, count, true);
            file.beginTransfer(false);
            try
            {
                long done = 0;
                do
                {
                    final ByteBuffer chunk = kernelBuffer(count - done);
                    final int asked = chunk.remaining();
                    final long n = file.pread(this, chunk, offset + done);
                    if (n <= 0)
                    {
                        break;
                    }
                    memory.storeBytes(buf, done, kernelSegment, 0, n);
                    done += n;
                    if (n < asked || !file.readsFully())
                    {
                        break;
                    }
                }
                while (done < count);
                return done;
            }
            finally
            {
                file.endTransfer(false);
            }
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code pread} into a Java array.
     *
     * @param fd     a descriptor open for reading.
     * @param bytes  the destination.
     * @param from   first index.
     * @param count  bytes wanted.
     * @param offset where in the file.
     * @return bytes read, or −1 with errno.
     */
    public long pread(final int fd, final byte[] bytes, final int from, final int count, final long offset)
    {
        try
        {
            enter(system.fileService);
            final OpenFile file = positional(fd, count, offset, false);
            java.util.Objects.checkFromIndexSize(from, count, bytes.length);
            file.beginTransfer(false);
            try
            {
                int done = 0;
                do
                {
                    final ByteBuffer chunk = kernelBuffer(count - done);
                    final int asked = chunk.remaining();
                    final long n = file.pread(this, chunk, offset + done);
                    if (n <= 0)
                    {
                        break;
                    }
                    chunk.flip().get(bytes, from + done, (int)n);
                    done += (int)n;
                    if (n < asked || !file.readsFully())
                    {
                        break;
                    }
                }
                while (done < count);
                return done;
            }
            finally
            {
                file.endTransfer(false);
            }
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code pwrite}: {@code count} bytes at {@code offset}, without using or moving the file offset; writing past
     * the end leaves a hole that reads as zeros. Where this differs from Linux: on an O_APPEND description it still
     * writes at {@code offset}, as POSIX says (Linux appends).
     *
     * @param fd     a descriptor open for writing.
     * @param buf    the bytes: needs LOAD over {@code count} bytes.
     * @param count  bytes to write.
     * @param offset where in the file, not negative.
     * @return bytes written, or −1 with errno: EBADF, EINVAL, EFAULT, ESPIPE, ENOSPC, EFBIG.
     */
    public long pwrite(final int fd, final Capability buf, final long count, final long offset)
    {
        try
        {
            enter(system.fileService);
            final OpenFile file = positional(fd, count, offset, true);
            checkUser(buf, count, false);
            file.beginTransfer(true);
            try
            {
                long done = 0;
                do
                {
                    final ByteBuffer chunk = kernelBuffer(count - done);
                    final int asked = chunk.remaining();
                    memory.loadBytes(buf, done, kernelSegment, 0, asked);
                    final long n = file.pwrite(this, chunk, offset + done);
                    done += n;
                    if (n < asked)
                    {
                        break;
                    }
                }
                while (done < count);
                return done;
            }
            finally
            {
                file.endTransfer(true);
            }
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code pwrite} from a Java array.
     *
     * @param fd     a descriptor open for writing.
     * @param bytes  the bytes.
     * @param from   first index.
     * @param count  bytes to write.
     * @param offset where in the file.
     * @return bytes written, or −1 with errno.
     */
    public long pwrite(final int fd, final byte[] bytes, final int from, final int count, final long offset)
    {
        try
        {
            enter(system.fileService);
            final OpenFile file = positional(fd, count, offset, true);
            java.util.Objects.checkFromIndexSize(from, count, bytes.length);
            file.beginTransfer(true);
            try
            {
                int done = 0;
                do
                {
                    final ByteBuffer chunk = kernelBuffer(count - done);
                    final int asked = chunk.remaining();
                    chunk.put(bytes, from + done, asked).flip();
                    final long n = file.pwrite(this, chunk, offset + done);
                    done += (int)n;
                    if (n < asked)
                    {
                        break;
                    }
                }
                while (done < count);
                return done;
            }
            finally
            {
                file.endTransfer(true);
            }
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /** The checks of pread and pwrite, in Linux's order. @return the open file. */
    private OpenFile positional(final int fd, final long count, final long offset, final boolean writing)
    {
        if (offset < 0)
        {
            throw new ErrnoException(Errno.EINVAL, "negative offset " + offset);
        }
        final OpenFile file = fds.get(fd);
        if (writing ? !file.writable() : !file.readable())
        {
            throw new ErrnoException(Errno.EBADF, "descriptor " + fd + " is not open for "
                + (writing ? "writing" : "reading"));
        }
        checkCount(count);
        if (count > Long.MAX_VALUE - offset)
        {
            throw new ErrnoException(Errno.EINVAL, "offset " + offset + " + count " + count + " overflows");
        }
        return file;
    }

    /**
     * {@code lseek}: moves the file offset of the open file description (for every descriptor and µprocess sharing
     * it). Seeking past the end is allowed; a later write there leaves a hole that reads as zeros.
     *
     * @param fd     a descriptor.
     * @param offset the distance.
     * @param whence {@link Fcntl#SEEK_SET}, {@link Fcntl#SEEK_CUR} or {@link Fcntl#SEEK_END}.
     * @return the new offset, or −1 with errno: EBADF, EINVAL (unknown whence, a negative result; also a result
     *         past {@code Long.MAX_VALUE}, where Linux says EOVERFLOW; SEEK_END on a directory), ESPIPE (a pipe).
     */
    public long lseek(final int fd, final long offset, final int whence)
    {
        try
        {
            enter(system.fileService);
            return fds.get(fd).lseek(offset, whence);
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code fsync}: writes the file's data and metadata through to the host's storage.
     *
     * @param fd a descriptor of a file or directory.
     * @return 0, or −1 with errno: EBADF, EINVAL (a pipe or device), EIO.
     */
    public int fsync(final int fd)
    {
        try
        {
            enter(system.fileService);
            fds.get(fd).fsync();
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code ftruncate}: cuts the file to {@code length} bytes or extends it with zeros. The file offset does not
     * move.
     *
     * @param fd     a descriptor of a regular file open for writing.
     * @param length the new size, not negative.
     * @return 0, or −1 with errno: EINVAL (negative length; not open for writing or not a regular file, as Linux
     *         says), EBADF, EFBIG, ENOSPC.
     */
    public int ftruncate(final int fd, final long length)
    {
        try
        {
            enter(system.fileService);
            if (length < 0)
            {
                throw new ErrnoException(Errno.EINVAL, "negative length " + length);
            }
            final OpenFile file = fds.get(fd);
            if (!file.writable())
            {
                throw new ErrnoException(Errno.EINVAL, "descriptor " + fd + " is not open for writing");
            }
            file.truncate(length);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code rename}: gives {@code oldpath}'s file the name {@code newpath}, atomically replacing what was there.
     * Neither last component is followed if it is a link.
     *
     * @param oldpath a NUL-terminated path.
     * @param newpath a NUL-terminated path.
     * @return 0, or −1 with errno: ENOENT, EISDIR (a file over a directory), ENOTDIR (a directory over a file),
     *         ENOTEMPTY (over a non-empty directory), EINVAL (a directory into itself), EBUSY (a path ending in
     *         {@code .} or {@code ..}, or the root), EXDEV, EFAULT, ENAMETOOLONG, ELOOP.
     */
    public int rename(final Capability oldpath, final Capability newpath)
    {
        try
        {
            enter(system.fileService);
            final String from = pathArgument(oldpath);
            system.files.rename(from, pathArgument(newpath));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code rename} with Java strings.
     *
     * @param oldpath the file's path.
     * @param newpath its new path.
     * @return 0, or −1 with errno.
     */
    public int rename(final String oldpath, final String newpath)
    {
        try
        {
            enter(system.fileService);
            system.files.rename(HostFileSystem.checkPath(oldpath), HostFileSystem.checkPath(newpath));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code unlink}: removes a name; the file goes when its last name and last open description do.
     *
     * @param path a NUL-terminated path; a link in the last place is removed, not followed.
     * @return 0, or −1 with errno: ENOENT, EISDIR (a directory, as Linux says), ENOTDIR, EFAULT, ENAMETOOLONG.
     */
    public int unlink(final Capability path)
    {
        try
        {
            enter(system.fileService);
            system.files.unlink(pathArgument(path));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /** {@code unlink} with a Java string. @param path the path. @return 0, or −1 with errno. */
    public int unlink(final String path)
    {
        try
        {
            enter(system.fileService);
            system.files.unlink(HostFileSystem.checkPath(path));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code rmdir}: removes an empty directory.
     *
     * @param path a NUL-terminated path.
     * @return 0, or −1 with errno: ENOENT, ENOTDIR, ENOTEMPTY, EINVAL (ends in {@code .}), EBUSY (the root), EFAULT.
     */
    public int rmdir(final Capability path)
    {
        try
        {
            enter(system.fileService);
            system.files.rmdir(pathArgument(path));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /** {@code rmdir} with a Java string. @param path the path. @return 0, or −1 with errno. */
    public int rmdir(final String path)
    {
        try
        {
            enter(system.fileService);
            system.files.rmdir(HostFileSystem.checkPath(path));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code mkdir}: a new directory with {@code mode & ~022 & 0777}. Where this differs from Linux: the directory
     * is made in the root under a random name and renamed into place (Java has no {@code mkdirat}, and making it
     * by its path could be redirected out of the root by a link swapped into that path), so in a file system
     * mounted below the root it fails with EXDEV, and an empty directory another µprocess makes under the same
     * name at the same moment may be replaced rather than reported as EEXIST.
     *
     * @param path a NUL-terminated path; its parent must exist.
     * @param mode the permission bits.
     * @return 0, or −1 with errno: EEXIST (any file of that name, even a dangling link), ENOENT (no parent),
     *         ENOTDIR, ENOSPC, EFAULT, ENAMETOOLONG, ELOOP.
     */
    public int mkdir(final Capability path, final int mode)
    {
        try
        {
            enter(system.fileService);
            system.files.mkdir(pathArgument(path), mode);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /** {@code mkdir} with a Java string. @param path the path. @param mode the permission bits. @return 0 or −1. */
    public int mkdir(final String path, final int mode)
    {
        try
        {
            enter(system.fileService);
            system.files.mkdir(HostFileSystem.checkPath(path), mode);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code stat}: a file's attributes, following a link in the last place, stored as {@code struct stat} (see
     * {@link Stat} for the layout).
     *
     * @param path    a NUL-terminated path.
     * @param statbuf where to store them: needs STORE over {@value Stat#SIZE} bytes.
     * @return 0, or −1 with errno: ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EFAULT.
     */
    public int stat(final Capability path, final Capability statbuf)
    {
        return statInto(path, statbuf, true);
    }

    /**
     * {@code lstat}: as {@link #stat(Capability, Capability)}, but a link in the last place is reported itself.
     *
     * @param path    a NUL-terminated path.
     * @param statbuf where to store the attributes.
     * @return 0, or −1 with errno.
     */
    public int lstat(final Capability path, final Capability statbuf)
    {
        return statInto(path, statbuf, false);
    }

    private int statInto(final Capability path, final Capability statbuf, final boolean follow)
    {
        try
        {
            enter(system.fileService);
            final String p = pathArgument(path);
            checkUser(statbuf, Stat.SIZE, true);
            memory.storeBytes(statbuf, 0, system.files.stat(p, follow).toBytes(), 0, Stat.SIZE);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code stat} into a Java record.
     *
     * @param path the path.
     * @return the attributes, or null with errno.
     */
    public Stat stat(final String path)
    {
        return statOf(path, true);
    }

    /**
     * {@code lstat} into a Java record.
     *
     * @param path the path.
     * @return the attributes (of a link itself), or null with errno.
     */
    public Stat lstat(final String path)
    {
        return statOf(path, false);
    }

    private Stat statOf(final String path, final boolean follow)
    {
        try
        {
            enter(system.fileService);
            return system.files.stat(HostFileSystem.checkPath(path), follow);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return null;
        }
    }

    /**
     * {@code fstat}: the attributes of an open file, even if it has been renamed or unlinked since (then
     * {@code st_nlink} is 0). Pipes report S_IFIFO, {@code /dev/null} and the host's standard streams S_IFCHR.
     *
     * @param fd      a descriptor.
     * @param statbuf where to store them: needs STORE over {@value Stat#SIZE} bytes.
     * @return 0, or −1 with errno: EBADF, EFAULT, EIO.
     */
    public int fstat(final int fd, final Capability statbuf)
    {
        try
        {
            enter(system.fileService);
            final OpenFile file = fds.get(fd);
            checkUser(statbuf, Stat.SIZE, true);
            memory.storeBytes(statbuf, 0, Stat.of(file).toBytes(), 0, Stat.SIZE);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code fstat} into a Java record.
     *
     * @param fd a descriptor.
     * @return the attributes, or null with errno EBADF or EIO.
     */
    public Stat fstat(final int fd)
    {
        try
        {
            enter(system.fileService);
            return Stat.of(fds.get(fd));
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return null;
        }
    }

    /**
     * Copies a NUL-terminated path in from µprocess memory, once (what is resolved is this copy, which the
     * µprocess cannot change any more).
     *
     * @throws ErrnoException EFAULT (unreadable, or no NUL before the capability ends), ENAMETOOLONG (no NUL within
     *                        {@value HostFileSystem#PATH_MAX} bytes), EINVAL (not UTF-8).
     */
    private String pathArgument(final Capability path)
    {
        final long address = path.address();
        long available = HostFileSystem.PATH_MAX;
        if (!path.isTopMax())
        {
            final long room = path.top() - address;
            if (Long.compareUnsigned(path.top(), address) <= 0)
            {
                available = 0;
            }
            else if (Long.compareUnsigned(room, available) < 0)
            {
                available = room;
            }
        }
        if (fenced && address >= areaBase && address < areaTop)
        {
            available = Math.min(available, areaTop - address);
        }
        // At least one byte must be readable: an empty or unreadable capability is EFAULT.
        checkUser(path, Math.max(1, available), false);
        final int length = (int)available;
        final byte[] bytes = new byte[length];
        memory.loadBytes(path, 0, bytes, 0, length);
        for (int i = 0; i < length; i++)
        {
            if (bytes[i] == 0)
            {
                return HostFileSystem.decodePath(bytes, i);
            }
        }
        if (length == HostFileSystem.PATH_MAX)
        {
            throw new ErrnoException(Errno.ENAMETOOLONG, "no NUL within " + length + " bytes of the path");
        }
        throw new ErrnoException(Errno.EFAULT, "the path runs out of its capability before its NUL");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Sockets and poll: socket, bind, listen, accept, connect, send, recv, shutdown, setsockopt, getsockname, poll

    // Per-µprocess socket state, made on first use (kept in this section so the sections merge cleanly).
    private SocketSelector socketSelector;
    private Poller poller;

    /**
     * {@code socket}: a new unconnected TCP socket. Like any descriptor it is shared across {@code dup} and
     * {@code fork}: several µprocesses may accept on one listening socket, or use one connection.
     * <p>
     * Differs from Linux: only TCP (SOCK_STREAM over AF_INET and AF_INET6); {@code connect} to AF_UNSPEC (to
     * dissolve a connection) is EAFNOSUPPORT; {@code listen}'s backlog is fixed by its first call; {@code shutdown}
     * of a socket still connecting is ENOTCONN (Linux aborts the attempt). When the last descriptor of a socket
     * closes while other µprocesses have waited on it, the host socket closes (the port is freed) once each of them
     * has made its next wait or exited; closed by the µprocess that waited on it, it closes at once.
     *
     * @param domain   {@link Net#AF_INET} or {@link Net#AF_INET6}.
     * @param type     {@link Net#SOCK_STREAM}, or-ed with {@link Net#SOCK_NONBLOCK} and {@link Net#SOCK_CLOEXEC}.
     * @param protocol 0 or {@link Net#IPPROTO_TCP}.
     * @return the descriptor, or −1 with errno: EAFNOSUPPORT (another family), EINVAL (unknown type or flags),
     *         EPROTONOSUPPORT (another protocol, or a known type other than SOCK_STREAM, which this layer lacks),
     *         EMFILE, ENFILE.
     */
    public int socket(final int domain, final int type, final int protocol)
    {
        try
        {
            enter(system.netService);
            if (domain != Net.AF_INET && domain != Net.AF_INET6)
            {
                throw new ErrnoException(Errno.EAFNOSUPPORT, "address family " + domain);
            }
            final int flags = type & (Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC);
            final int kind = type & ~flags;
            if (kind != Net.SOCK_STREAM)
            {
                // Linux knows types 1 to 6 and 10 (SOCK_PACKET); anything else is EINVAL.
                throw new ErrnoException(kind >= 1 && kind <= 10 ? Errno.EPROTONOSUPPORT : Errno.EINVAL,
                    "socket type " + type);
            }
            if (protocol != Net.IPPROTO_IP && protocol != Net.IPPROTO_TCP)
            {
                throw new ErrnoException(Errno.EPROTONOSUPPORT, "protocol " + protocol + " for SOCK_STREAM");
            }
            checkDescriptorFree();
            return installNew(TcpSocket.open(domain, flags), (flags & Net.SOCK_CLOEXEC) != 0);
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code bind}: gives the socket a local address; port 0 picks an ephemeral port ({@link #getsockname} tells
     * which).
     *
     * @param sockfd  a socket.
     * @param addr    a {@code struct sockaddr_in} (or {@code sockaddr_in6} for an AF_INET6 socket): needs LOAD over
     *                {@code addrlen} bytes.
     * @param addrlen its length.
     * @return 0, or −1 with errno: EBADF, ENOTSOCK, EINVAL (already bound, or a bad length), EFAULT,
     *         EAFNOSUPPORT (another family), EADDRINUSE, EADDRNOTAVAIL, EACCES.
     */
    public int bind(final int sockfd, final Capability addr, final int addrlen)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            socket.bind(loadAddress(addr, addrlen, socket.family()));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code bind} with a Java address (an IPv4 address on an AF_INET6 socket is taken as IPv4-mapped).
     *
     * @param sockfd a socket.
     * @param addr   a resolved address.
     * @return 0, or −1 with errno as {@link #bind(int, Capability, int)}; EINVAL for an unresolved address.
     */
    public int bind(final int sockfd, final InetSocketAddress addr)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            socket.bind(SocketAddresses.check(addr, socket.family()));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code listen}: the socket accepts connections from now on (an unbound one gets an ephemeral port on the
     * wildcard address). Calling it again changes nothing: unlike Linux, the backlog is fixed by the first call.
     *
     * @param sockfd  a socket.
     * @param backlog connections the host may queue before {@code accept} (at least 1, at most its limit).
     * @return 0, or −1 with errno: EBADF, ENOTSOCK, EINVAL (connected), EADDRINUSE.
     */
    public int listen(final int sockfd, final int backlog)
    {
        try
        {
            enter(system.netService);
            socketOf(sockfd).listen(backlog);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code accept}: {@link #accept4} with no flags.
     *
     * @param sockfd  a listening socket.
     * @param addr    where to store the peer's address, or NULL (an untagged capability) for nowhere.
     * @param addrlen with {@code addr}: an int holding its room in bytes; receives the address's full length.
     * @return the new descriptor, or −1 with errno as {@link #accept4}.
     */
    public int accept(final int sockfd, final Capability addr, final Capability addrlen)
    {
        return accept4(sockfd, addr, addrlen, 0);
    }

    /**
     * {@code accept4}: the next connection on a listening socket, as a new descriptor; waits for one unless the
     * socket is non-blocking. When several µprocesses wait on one listening socket (inherited across fork), each
     * connection goes to one of them; the others keep waiting. The peer's address is truncated to the room given.
     * The buffers are checked before a connection is taken, and a full descriptor table fails before one is taken,
     * so neither loses a connection (Linux would lose it to EFAULT).
     *
     * @param sockfd  a listening socket.
     * @param addr    where to store the peer's address, or NULL for nowhere.
     * @param addrlen with {@code addr}: an int holding its room in bytes (LOAD and STORE); receives the full length.
     * @param flags   0, or {@link Net#SOCK_NONBLOCK} and {@link Net#SOCK_CLOEXEC} for the new descriptor.
     * @return the new descriptor, or −1 with errno: EBADF, ENOTSOCK, EINVAL (not listening, bad flags, negative
     *         room), EFAULT, EAGAIN, EINTR, EMFILE, ENFILE, ECONNABORTED.
     */
    public int accept4(final int sockfd, final Capability addr, final Capability addrlen, final int flags)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            checkSocketFlags(flags);
            final int room = addr.isTagged() ? loadRoom(addr, addrlen) : -1;
            checkDescriptorFree();
            final TcpSocket accepted = socket.accept(this, flags);
            final byte[] peer = room >= 0 ? SocketAddresses.encode(accepted.acceptedFrom(), socket.family()) : null;
            final int fd = installNew(accepted, (flags & Net.SOCK_CLOEXEC) != 0);
            if (peer != null)
            {
                storeAddress(addr, addrlen, room, peer);
            }
            return fd;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code accept} for Java callers.
     *
     * @param sockfd a listening socket.
     * @param addr   receives the peer's address in element 0, or null.
     * @return the new descriptor, or −1 with errno as {@link #accept4}.
     */
    public int accept(final int sockfd, final InetSocketAddress[] addr)
    {
        return accept4(sockfd, addr, 0);
    }

    /**
     * {@code accept4} for Java callers.
     *
     * @param sockfd a listening socket.
     * @param addr   receives the peer's address in element 0, or null.
     * @param flags  0, or {@link Net#SOCK_NONBLOCK} and {@link Net#SOCK_CLOEXEC}.
     * @return the new descriptor, or −1 with errno as {@link #accept4}.
     */
    public int accept4(final int sockfd, final InetSocketAddress[] addr, final int flags)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            checkSocketFlags(flags);
            checkDescriptorFree();
            final TcpSocket accepted = socket.accept(this, flags);
            final InetSocketAddress peer = accepted.acceptedFrom();
            final int fd = installNew(accepted, (flags & Net.SOCK_CLOEXEC) != 0);
            if (addr != null)
            {
                addr[0] = peer;
            }
            return fd;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code connect}: connects to a listening peer, waiting for the handshake unless the socket is non-blocking.
     * Non-blocking, it fails with EINPROGRESS; poll for POLLOUT, then read {@link Net#SO_ERROR}. Connecting to the
     * wildcard address connects to this host.
     *
     * @param sockfd  a socket.
     * @param addr    the peer's {@code struct sockaddr_in} (or {@code sockaddr_in6}): needs LOAD over
     *                {@code addrlen} bytes.
     * @param addrlen its length.
     * @return 0, or −1 with errno: EBADF, ENOTSOCK, EFAULT, EINVAL (bad length), EAFNOSUPPORT, EISCONN, EALREADY,
     *         EINPROGRESS, ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, EINTR (the attempt
     *         goes on, as on Linux).
     */
    public int connect(final int sockfd, final Capability addr, final int addrlen)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            socket.connect(this, loadAddress(addr, addrlen, socket.family()));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code connect} with a Java address (an IPv4 address on an AF_INET6 socket is taken as IPv4-mapped).
     *
     * @param sockfd a socket.
     * @param addr   a resolved address.
     * @return 0, or −1 with errno as {@link #connect(int, Capability, int)}.
     */
    public int connect(final int sockfd, final InetSocketAddress addr)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            socket.connect(this, SocketAddresses.check(addr, socket.family()));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code getsockname}: the socket's local address (the wildcard and port 0 if unbound).
     *
     * @param sockfd  a socket.
     * @param addr    where to store it (truncated to the room given).
     * @param addrlen an int holding the room in bytes (LOAD and STORE); receives the full length.
     * @return 0, or −1 with errno: EBADF, ENOTSOCK, EFAULT, EINVAL (negative room).
     */
    public int getsockname(final int sockfd, final Capability addr, final Capability addrlen)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            final int room = loadRoom(addr, addrlen);
            storeAddress(addr, addrlen, room, SocketAddresses.encode(socket.localAddress(), socket.family()));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code getsockname} for Java callers.
     *
     * @param sockfd a socket.
     * @param addr   receives the local address in element 0 (the wildcard and port 0 if unbound).
     * @return 0, or −1 with errno EBADF, ENOTSOCK.
     */
    public int getsockname(final int sockfd, final InetSocketAddress[] addr)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            final InetSocketAddress local = socket.localAddress();
            addr[0] = local != null ? local : SocketAddresses.wildcard(socket.family(), 0);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code getpeername}: the connected peer's address.
     *
     * @param sockfd  a socket.
     * @param addr    where to store it (truncated to the room given).
     * @param addrlen an int holding the room in bytes (LOAD and STORE); receives the full length.
     * @return 0, or −1 with errno: EBADF, ENOTSOCK, ENOTCONN, EFAULT, EINVAL.
     */
    public int getpeername(final int sockfd, final Capability addr, final Capability addrlen)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            final int room = loadRoom(addr, addrlen);
            storeAddress(addr, addrlen, room, SocketAddresses.encode(socket.remoteAddress(), socket.family()));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code getpeername} for Java callers.
     *
     * @param sockfd a socket.
     * @param addr   receives the peer's address in element 0.
     * @return 0, or −1 with errno EBADF, ENOTSOCK, ENOTCONN.
     */
    public int getpeername(final int sockfd, final InetSocketAddress[] addr)
    {
        try
        {
            enter(system.netService);
            addr[0] = socketOf(sockfd).remoteAddress();
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code send}: sends bytes on a connected socket, waiting for room unless non-blocking or
     * {@link Net#MSG_DONTWAIT}. {@code write} on a socket is {@code send} with no flags.
     *
     * @param sockfd a connected socket.
     * @param buf    the bytes: needs LOAD over {@code len} bytes.
     * @param len    bytes to send.
     * @param flags  0, or {@link Net#MSG_DONTWAIT} and {@link Net#MSG_NOSIGNAL}.
     * @return bytes sent (fewer only if non-blocking, or a signal or error came after some), or −1 with errno:
     *         EBADF, ENOTSOCK, EFAULT, EINVAL (negative length), EOPNOTSUPP (other flags), EAGAIN, EINTR, EPIPE (not
     *         connected, shut down, or the peer is gone; SIGPIPE first unless MSG_NOSIGNAL), ECONNRESET.
     */
    public long send(final int sockfd, final Capability buf, final long len, final int flags)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            checkMessageFlags(flags, Net.MSG_DONTWAIT | Net.MSG_NOSIGNAL);
            checkCount(len);
            checkUser(buf, len, false);
            long done = 0;
            do
            {
                final ByteBuffer chunk = kernelBuffer(len - done);
                final int asked = chunk.remaining();
                memory.loadBytes(buf, done, kernelSegment, 0, asked);
                final long n;
                try
                {
                    n = socket.send(this, chunk, flags);
                }
                catch (final ErrnoException e)
                {
                    if (done > 0)
                    {
                        return done;
                    }
                    throw e;
                }
                done += n;
                if (n < asked)
                {
                    break;
                }
            }
            while (done < len);
            return done;
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code send} of a Java byte array, for Java callers (the bytes are copied in as from a buffer).
     *
     * @param sockfd a connected socket.
     * @param bytes  the bytes.
     * @param from   first index.
     * @param count  bytes to send.
     * @param flags  as {@link #send(int, Capability, long, int)}.
     * @return bytes sent, or −1 with errno as {@link #send(int, Capability, long, int)}.
     */
    public long send(final int sockfd, final byte[] bytes, final int from, final int count, final int flags)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            checkMessageFlags(flags, Net.MSG_DONTWAIT | Net.MSG_NOSIGNAL);
            java.util.Objects.checkFromIndexSize(from, count, bytes.length);
            long done = 0;
            do
            {
                final ByteBuffer chunk = kernelBuffer(count - done);
                final int asked = chunk.remaining();
                chunk.put(bytes, from + (int)done, asked).flip();
                final long n;
                try
                {
                    n = socket.send(this, chunk, flags);
                }
                catch (final ErrnoException e)
                {
                    if (done > 0)
                    {
                        return done;
                    }
                    throw e;
                }
                done += n;
                if (n < asked)
                {
                    break;
                }
            }
            while (done < count);
            return done;
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code recv}: what has arrived on a connected socket, up to {@code len} bytes; waits for something unless
     * non-blocking or {@link Net#MSG_DONTWAIT}. {@code read} on a socket is {@code recv} with no flags. A peek sees at
     * most {@value #KERNEL_BUFFER} bytes.
     *
     * @param sockfd a connected socket.
     * @param buf    the buffer: needs STORE over {@code len} bytes.
     * @param len    bytes wanted.
     * @param flags  0, or {@link Net#MSG_PEEK}, {@link Net#MSG_DONTWAIT}, {@link Net#MSG_WAITALL}.
     * @return bytes received, 0 at end of stream, or −1 with errno: EBADF, ENOTSOCK, EFAULT, EINVAL, EOPNOTSUPP
     *         (other flags), ENOTCONN, EAGAIN, EINTR, ECONNRESET (once; then end of stream).
     */
    public long recv(final int sockfd, final Capability buf, final long len, final int flags)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            checkMessageFlags(flags, Net.MSG_PEEK | Net.MSG_DONTWAIT | Net.MSG_WAITALL | Net.MSG_NOSIGNAL);
            checkCount(len);
            checkUser(buf, len, true);
            long done = 0;
            int chunkFlags = flags;
            do
            {
                final ByteBuffer chunk = kernelBuffer(len - done);
                final int asked = chunk.remaining();
                final long n;
                try
                {
                    n = socket.recv(this, chunk, chunkFlags);
                }
                catch (final ErrnoException e)
                {
                    if (done > 0)
                    {
                        return done;
                    }
                    throw e;
                }
                if (n > 0)
                {
                    memory.storeBytes(buf, done, kernelSegment, 0, n);
                    done += n;
                }
                if (n < asked || (flags & Net.MSG_PEEK) != 0)
                {
                    break;
                }
                if ((flags & Net.MSG_WAITALL) == 0)
                {
                    // Past the first buffer, take only what has already arrived.
                    chunkFlags |= Net.MSG_DONTWAIT;
                }
            }
            while (done < len);
            return done;
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code recv} into a Java byte array, for Java callers.
     *
     * @param sockfd a connected socket.
     * @param bytes  the destination.
     * @param from   first index.
     * @param count  bytes wanted (at most {@value #KERNEL_BUFFER} are taken in one call).
     * @param flags  as {@link #recv(int, Capability, long, int)}.
     * @return bytes received, 0 at end of stream, or −1 with errno as {@link #recv(int, Capability, long, int)}.
     */
    public long recv(final int sockfd, final byte[] bytes, final int from, final int count, final int flags)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            checkMessageFlags(flags, Net.MSG_PEEK | Net.MSG_DONTWAIT | Net.MSG_WAITALL | Net.MSG_NOSIGNAL);
            java.util.Objects.checkFromIndexSize(from, count, bytes.length);
            final ByteBuffer chunk = kernelBuffer(count);
            final long n = socket.recv(this, chunk, flags);
            if (n > 0)
            {
                chunk.flip().get(bytes, from, (int)n);
            }
            return n;
        }
        catch (final ErrnoException e)
        {
            return failLong(e);
        }
    }

    /**
     * {@code shutdown}: ends one or both directions of a connection for every descriptor sharing it. After
     * SHUT_WR the peer reads end of file and sends here fail with EPIPE; after SHUT_RD reads here find end of
     * file.
     *
     * @param sockfd a connected socket.
     * @param how    {@link Net#SHUT_RD}, {@link Net#SHUT_WR} or {@link Net#SHUT_RDWR}.
     * @return 0, or −1 with errno: EBADF, ENOTSOCK, EINVAL (bad {@code how}), ENOTCONN, EOPNOTSUPP (SHUT_RD of a
     *         listening socket, which Linux would stop listening).
     */
    public int shutdown(final int sockfd, final int how)
    {
        try
        {
            enter(system.netService);
            socketOf(sockfd).shutdown(how);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code setsockopt} of an int option: SOL_SOCKET's {@link Net#SO_REUSEADDR}, {@link Net#SO_REUSEPORT},
     * {@link Net#SO_KEEPALIVE}, {@link Net#SO_RCVBUF}, {@link Net#SO_SNDBUF}, and IPPROTO_TCP's
     * {@link Net#TCP_NODELAY}. A listening socket passes its options to the connections it accepts.
     *
     * @param sockfd  a socket.
     * @param level   {@link Net#SOL_SOCKET} or {@link Net#IPPROTO_TCP}.
     * @param optname the option.
     * @param optval  the int value: needs LOAD over 4 bytes.
     * @param optlen  at least 4.
     * @return 0, or −1 with errno: EBADF, ENOTSOCK, EFAULT, EINVAL (optlen below 4), ENOPROTOOPT (unknown level or
     *         option, or a read-only one).
     */
    public int setsockopt(final int sockfd, final int level, final int optname, final Capability optval,
        final int optlen)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            if (optlen < Integer.BYTES)
            {
                throw new ErrnoException(Errno.EINVAL, "option length " + optlen);
            }
            checkUser(optval, Integer.BYTES, false);
            socket.setOption(level, optname, memory.loadInt(optval, 0));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code setsockopt} of an int option, for Java callers.
     *
     * @param sockfd  a socket.
     * @param level   the level.
     * @param optname the option.
     * @param value   its value.
     * @return 0, or −1 with errno as {@link #setsockopt(int, int, int, Capability, int)}.
     */
    public int setsockopt(final int sockfd, final int level, final int optname, final int value)
    {
        try
        {
            enter(system.netService);
            socketOf(sockfd).setOption(level, optname, value);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code getsockopt} of an int option: those of {@link #setsockopt(int, int, int, Capability, int)}, plus
     * {@link Net#SO_ERROR} (the pending error, cleared by reading it; how a non-blocking connect's outcome is
     * learnt) and {@link Net#SO_TYPE}.
     *
     * @param sockfd  a socket.
     * @param level   {@link Net#SOL_SOCKET} or {@link Net#IPPROTO_TCP}.
     * @param optname the option.
     * @param optval  where to store the value (truncated to the room given).
     * @param optlen  an int holding the room in bytes (LOAD and STORE); receives the length stored.
     * @return 0, or −1 with errno: EBADF, ENOTSOCK, EFAULT, EINVAL (negative room), ENOPROTOOPT.
     */
    public int getsockopt(final int sockfd, final int level, final int optname, final Capability optval,
        final Capability optlen)
    {
        try
        {
            enter(system.netService);
            final TcpSocket socket = socketOf(sockfd);
            checkUser(optlen, Integer.BYTES, false);
            checkUser(optlen, Integer.BYTES, true);
            final int room = memory.loadInt(optlen, 0);
            if (room < 0)
            {
                throw new ErrnoException(Errno.EINVAL, "option length " + room);
            }
            final int length = Math.min(room, Integer.BYTES);
            checkUser(optval, length, true);
            final int value = socket.option(level, optname);
            for (int i = 0; i < length; i++)
            {
                memory.storeByte(optval, i, (byte)(value >>> (8 * i)));
            }
            memory.storeInt(optlen, 0, length);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code getsockopt} of an int option, for Java callers.
     *
     * @param sockfd  a socket.
     * @param level   the level.
     * @param optname the option.
     * @param optval  receives the value in element 0.
     * @return 0, or −1 with errno as {@link #getsockopt(int, int, int, Capability, Capability)}.
     */
    public int getsockopt(final int sockfd, final int level, final int optname, final int[] optval)
    {
        try
        {
            enter(system.netService);
            optval[0] = socketOf(sockfd).option(level, optname);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code poll}: waits until one of the descriptors is ready, over any mix of sockets, pipes, files and devices
     * ({@code struct pollfd}: {@code int fd}, {@code short events}, {@code short revents}; 8 bytes each). Negative
     * descriptors are skipped; one that is not open reports POLLNVAL. POLLERR and POLLHUP are reported whether
     * asked for or not. Regular files and devices are always ready.
     * <p>
     * Differs from Linux: a connection reset or a peer's close shows as POLLIN (and POLLOUT) readiness until a read
     * or write meets it, and POLLRDHUP only once the end of the stream has been read up to or seen by looking ahead
     * (which a poll for POLLRDHUP does when the socket is readable and nothing is held back).
     *
     * @param fds     the {@code struct pollfd} array: needs LOAD and STORE over {@code 8 * nfds} bytes.
     * @param nfds    entries.
     * @param timeout milliseconds; −1 (any negative) waits without limit, 0 does not wait.
     * @return entries with non-zero revents (0 on timeout), or −1 with errno: EFAULT, EINVAL ({@code nfds}
     *         negative or above the descriptor limit), EINTR (revents untouched).
     */
    public int poll(final Capability fds, final long nfds, final int timeout)
    {
        try
        {
            enter(system.netService);
            checkPollCount(nfds);
            final int n = (int)nfds;
            checkUser(fds, (long)n * Net.POLLFD_SIZE, false);
            checkUser(fds, (long)n * Net.POLLFD_SIZE, true);
            final Poller p = poller();
            final int[] fd = p.scratchFds(n);
            final short[] events = p.scratchEvents();
            final short[] revents = p.scratchRevents();
            for (int i = 0; i < n; i++)
            {
                // One load per entry: fd, events and the old revents, little-endian as the struct lies.
                final long entry = memory.loadLong(fds, (long)i * Net.POLLFD_SIZE);
                fd[i] = (int)entry;
                events[i] = (short)(entry >>> 32);
                revents[i] = (short)(entry >>> 48);
            }
            final short[] before = p.scratchPrevious(n);
            System.arraycopy(revents, 0, before, 0, n);
            final int count = p.poll(fd, events, revents, n, timeout);
            for (int i = 0; i < n; i++)
            {
                // Only this µprocess's thread sees its memory, so an unchanged revents need not be stored again.
                if (revents[i] != before[i])
                {
                    memory.storeShort(fds, (long)i * Net.POLLFD_SIZE + 6, revents[i]);
                }
            }
            return count;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code poll} over Java arrays, for Java callers; as {@link #poll(Capability, long, int)}.
     *
     * @param fds     descriptors (negative ones are skipped).
     * @param events  the events wanted of each.
     * @param revents receives the events ready.
     * @param nfds    entries (each array holds at least as many).
     * @param timeout milliseconds; negative for no limit, 0 for no wait.
     * @return entries with non-zero revents, or −1 with errno EINVAL, EINTR.
     */
    public int poll(final int[] fds, final short[] events, final short[] revents, final int nfds, final int timeout)
    {
        try
        {
            enter(system.netService);
            checkPollCount(nfds);
            java.util.Objects.checkFromIndexSize(0, nfds, fds.length);
            java.util.Objects.checkFromIndexSize(0, nfds, events.length);
            java.util.Objects.checkFromIndexSize(0, nfds, revents.length);
            return poller().poll(fds, events, revents, nfds, timeout);
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /** @return this µprocess's socket waits, made on first use. */
    SocketSelector socketSelector()
    {
        if (socketSelector == null)
        {
            socketSelector = new SocketSelector(waiter);
        }
        return socketSelector;
    }

    private Poller poller()
    {
        if (poller == null)
        {
            poller = new Poller(this, socketSelector());
        }
        return poller;
    }

    private TcpSocket socketOf(final int fd)
    {
        if (fds.get(fd) instanceof TcpSocket socket)
        {
            return socket;
        }
        throw new ErrnoException(Errno.ENOTSOCK, "descriptor " + fd + " is not a socket");
    }

    /** EMFILE before a new socket is made or a connection taken, so that neither is lost to a full table. */
    private void checkDescriptorFree()
    {
        if (fds.openCount() >= fds.limit())
        {
            throw new ErrnoException(Errno.EMFILE, "all " + fds.limit() + " descriptors are in use");
        }
    }

    private static void checkSocketFlags(final int flags)
    {
        if ((flags & ~(Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC)) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, "unknown flags 0" + Integer.toOctalString(flags));
        }
    }

    private static void checkMessageFlags(final int flags, final int allowed)
    {
        if ((flags & ~allowed) != 0)
        {
            throw new ErrnoException(Errno.EOPNOTSUPP, "message flags 0x" + Integer.toHexString(flags));
        }
    }

    private void checkPollCount(final long nfds)
    {
        if (nfds < 0 || nfds > fds.limit())
        {
            throw new ErrnoException(Errno.EINVAL, "nfds " + nfds + " outside [0, " + fds.limit() + "]");
        }
    }

    /** Copies a socket address in (checked, then decoded from the copy). */
    private InetSocketAddress loadAddress(final Capability addr, final int addrlen, final int family)
    {
        SocketAddresses.checkLength(addrlen);
        checkUser(addr, addrlen, false);
        final byte[] bytes = new byte[addrlen];
        memory.loadBytes(addr, 0, bytes, 0, addrlen);
        return SocketAddresses.decode(bytes, family);
    }

    /** Checks an address out-parameter pair. @return the room {@code *addrlen} gives. */
    private int loadRoom(final Capability addr, final Capability addrlen)
    {
        checkUser(addrlen, Integer.BYTES, false);
        checkUser(addrlen, Integer.BYTES, true);
        final int room = memory.loadInt(addrlen, 0);
        if (room < 0)
        {
            throw new ErrnoException(Errno.EINVAL, "address length " + room);
        }
        checkUser(addr, room, true);
        return room;
    }

    /** Stores an address truncated to {@code room}, and its full length. */
    private void storeAddress(final Capability addr, final Capability addrlen, final int room, final byte[] encoded)
    {
        memory.storeBytes(addr, 0, encoded, 0, Math.min(room, encoded.length));
        memory.storeInt(addrlen, 0, encoded.length);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Memory: brk, sbrk, mmap, munmap, malloc, calloc, realloc, free
    //
    // The area is a fixed reservation: the heap grows up from HEAP_START with the break, mappings grow down from the
    // mmap ceiling, memory is committed only when touched, and ENOMEM comes when the two would meet (see AddressMap
    // and PosixAreaDescriptor). All of it, malloc's state included, is in the area, so a fork copies it.

    private AddressMap addressMap;
    private Malloc heap;

    /** @return the break and the mappings (state in the area; this object only caches capabilities). */
    AddressMap addressMap()
    {
        if (addressMap == null)
        {
            addressMap = new AddressMap(this);
        }
        return addressMap;
    }

    /** @return the allocator (state in the area; this object only caches capabilities). */
    Malloc heap()
    {
        if (heap == null)
        {
            heap = new Malloc(this, addressMap());
        }
        return heap;
    }

    /**
     * {@code brk}: sets the end of the heap (the break). The heap lives in this µprocess's area, which is a fixed
     * reservation: the break can move anywhere from {@link PosixAreaDescriptor#HEAP_START} up to the lowest
     * mapping (or the mmap ceiling), and memory is committed only when touched. Memory the break gives up is
     * zeroed and given back to the OS (whole pages), so memory it takes later is zero, as on Linux. Moving it
     * below memory that {@code malloc} uses destroys those blocks, as in C; {@code malloc} then fails to grow
     * (ENOMEM) rather than overlap them.
     *
     * @param addr the new break (only its address is used; it need not be tagged).
     * @return 0, or −1 with errno ENOMEM (below the heap's start, or into the mappings or past the reservation).
     */
    public int brk(final Capability addr)
    {
        try
        {
            enter(system.memoryService);
            addressMap().setBreak(addr == null ? 0 : addr.address());
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code sbrk}: moves the break by {@code increment} bytes, within the area's reservation as {@link #brk} does.
     * Differs from C in what it returns: a capability to the old break bounded to the {@code increment} new bytes,
     * so the memory can be used through it (bounds round outward for increments of megabytes, staying in the
     * area); for an increment of 0 or less, a capability to the old break with no length.
     *
     * @param increment bytes to add (negative to give back).
     * @return the old break, or NULL ({@link Capability#NULL}; C returns {@code (void *) -1}) with errno ENOMEM.
     */
    public Capability sbrk(final long increment)
    {
        try
        {
            enter(system.memoryService);
            return addressMap().sbrk(increment);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return Capability.NULL;
        }
    }

    /**
     * {@code mmap} of private anonymous memory ({@code MAP_PRIVATE | MAP_ANONYMOUS}), zero-filled, served from this
     * µprocess's own area: mappings are placed from the top of the area down (below a page map that records them),
     * never overlapping the heap; the area is a fixed reservation, pages are committed when first touched, and
     * ENOMEM comes when the mappings would meet the break. A fork gives the child its own copy.
     * <p>
     * The result is a capability bounded exactly to the mapping: a length of megabytes may be rounded up (and the
     * start aligned) so that the bounds are exact, and the mapping then covers the rounded length. Its permissions
     * follow {@code prot}: LOAD and LOAD_CAP for PROT_READ, STORE, STORE_CAP and STORE_LOCAL_CAP for PROT_WRITE,
     * none for PROT_NONE; pages themselves are not protected (there is no {@code mprotect}), the capability is the
     * protection. Differs from Linux: file mappings and MAP_SHARED are not supported (EOPNOTSUPP), unknown flags are
     * refused (EINVAL) rather than ignored, MAP_NORESERVE, MAP_POPULATE and MAP_STACK are accepted and ignored,
     * PROT_EXEC grants nothing, and MAP_FIXED may only place a mapping between the break and the mmap ceiling.
     *
     * @param addr   a hint (used if that range is free), the exact place with MAP_FIXED or MAP_FIXED_NOREPLACE
     *               (page-aligned), or NULL; only its address is used.
     * @param length bytes, rounded up to whole pages.
     * @param prot   {@link Mman#PROT_NONE} or PROT_READ, PROT_WRITE, PROT_EXEC.
     * @param flags  {@link Mman#MAP_PRIVATE} | {@link Mman#MAP_ANONYMOUS}, optionally MAP_FIXED,
     *               MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_POPULATE, MAP_STACK.
     * @param fd     ignored for anonymous memory (pass −1).
     * @param offset a multiple of the page size (0 for anonymous memory).
     * @return the mapping, or {@link Mman#MAP_FAILED} with errno: EINVAL (length 0, offset or MAP_FIXED address
     *         unaligned, neither MAP_PRIVATE nor MAP_SHARED, unknown prot or flags, MAP_FIXED bounds that cannot be
     *         exact), ENOMEM (no room), EEXIST (MAP_FIXED_NOREPLACE over a mapping), EBADF (a file mapping with a bad
     *         descriptor), EOPNOTSUPP (a file mapping, MAP_SHARED).
     */
    public Capability mmap(final Capability addr, final long length, final int prot, final int flags, final int fd,
        final long offset)
    {
        try
        {
            enter(system.memoryService);
            return addressMap().mmap(addr == null ? Capability.NULL : addr, length, prot, flags, fd, offset);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return Mman.MAP_FAILED;
        }
    }

    /**
     * {@code munmap}: unmaps the mapped pages of {@code [addr, addr + length)} (rounded up to whole pages); they
     * are given back to the OS at once, and a later mapping of the same range is zero again. Pages of the range
     * that are not mapped are left alone, as on Linux; differs from Linux in that the heap and libc's own pages
     * are never unmapped (they are not mappings). A child's unmapping does not touch its parent's copy.
     *
     * @param addr   page-aligned start (only its address is used).
     * @param length bytes, positive.
     * @return 0, or −1 with errno EINVAL (unaligned address, length not positive, range outside the area).
     */
    public int munmap(final Capability addr, final long length)
    {
        try
        {
            enter(system.memoryService);
            addressMap().munmap(addr == null ? 0 : addr.address(), length);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
    }

    /**
     * {@code malloc}: {@code size} bytes from the heap, not cleared. The capability is bounded exactly to the
     * allocation (its length is {@link Capability#representableLength}{@code (size)}, equal to {@code size} below
     * 4 KiB) and carries LOAD, STORE and the capability permissions, so the block may hold pointers; the
     * allocator's own data is out of its reach. {@code malloc(0)} returns a unique block of length 0. The heap
     * grows within the area's reservation (see {@link #brk}); requests are O(1) (two-level segregated fit, see
     * {@code Malloc}). As in C, the malloc family is not async-signal-safe: a signal handler must not call it.
     *
     * @param size bytes (as C's {@code size_t}: a negative value is a huge one).
     * @return the block, or NULL ({@link Capability#NULL}) with errno ENOMEM.
     */
    public Capability malloc(final long size)
    {
        try
        {
            enter(system.memoryService);
            return heap().malloc(size);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return Capability.NULL;
        }
    }

    /**
     * {@code calloc}: {@code nmemb * size} bytes, zeroed (no tags either).
     *
     * @param nmemb elements.
     * @param size  bytes each.
     * @return the block, or NULL with errno ENOMEM (also when the product overflows).
     */
    public Capability calloc(final long nmemb, final long size)
    {
        try
        {
            enter(system.memoryService);
            return heap().calloc(nmemb, size);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return Capability.NULL;
        }
    }

    /**
     * {@code realloc}: resizes a block, in place when its neighbours allow, else by moving it (capabilities in it
     * keep their tags). NULL is {@code malloc(size)}; size 0 frees the block and returns NULL, as glibc does. The
     * old capability is invalid afterwards (its bounds no longer match the block).
     *
     * @param ptr  a block from {@code malloc} and friends, or NULL.
     * @param size the new size.
     * @return the block, or NULL with errno ENOMEM (the old block is then untouched). An invalid {@code ptr} aborts
     *         the µprocess as {@link #free} does.
     */
    public Capability realloc(final Capability ptr, final long size)
    {
        try
        {
            enter(system.memoryService);
            return heap().realloc(ptr, size);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return Capability.NULL;
        }
        catch (final InvalidHeapPointer e)
        {
            throw heapAbort(e);
        }
    }

    /**
     * {@code free}: returns a block to the heap for reuse; NULL does nothing. Like glibc, it aborts the µprocess
     * (message on standard error, then {@link #abort}: SIGABRT) when {@code ptr} is not exactly what
     * {@code malloc} returned for a block in use: a second free of a block, a pointer into a block, bounds that
     * differ from the allocation's, an untagged or sealed capability, a block of another µprocess. Use
     * {@link #freeChecked} to get EINVAL instead. As in C, a pointer to a block freed and then handed out again
     * at the same place with the same length cannot be told from the new block's.
     *
     * @param ptr a block, or NULL.
     */
    public void free(final Capability ptr)
    {
        try
        {
            enter(system.memoryService);
            heap().free(ptr);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
        }
        catch (final InvalidHeapPointer e)
        {
            throw heapAbort(e);
        }
    }

    /**
     * {@link #free} that fails instead of aborting, for tests and tools (no C counterpart).
     *
     * @param ptr a block, or NULL.
     * @return 0, or −1 with errno EINVAL if {@code ptr} is not a block in use; nothing is freed then.
     */
    public int freeChecked(final Capability ptr)
    {
        try
        {
            enter(system.memoryService);
            heap().free(ptr);
            return 0;
        }
        catch (final ErrnoException e)
        {
            return fail(e);
        }
        catch (final InvalidHeapPointer e)
        {
            setErrno(Errno.EINVAL.code());
            return -1;
        }
    }

    /**
     * {@code malloc_usable_size}: the bytes a block's capability allows, which is what its allocation asked for
     * (rounded by {@link Capability#representableLength}); unlike glibc, never more, since the bounds are exact.
     *
     * @param ptr a block, or NULL.
     * @return its length; 0 for NULL. An invalid {@code ptr} aborts the µprocess as {@link #free} does.
     */
    public long malloc_usable_size(final Capability ptr)
    {
        try
        {
            enter(system.memoryService);
            return heap().usableSize(ptr);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return 0;
        }
        catch (final InvalidHeapPointer e)
        {
            throw heapAbort(e);
        }
    }

    /**
     * {@code posix_memalign}: an aligned block, stored at {@code *memptr}. Returns the error number instead of
     * setting errno, as POSIX says.
     *
     * @param memptr    where to store the block's capability: needs STORE and STORE_CAP over 16 aligned bytes.
     * @param alignment a power of two and a multiple of 16 (the size of a pointer, a capability).
     * @param size      bytes.
     * @return 0, or EINVAL (bad alignment), ENOMEM, or EFAULT (bad {@code memptr}; checked before allocating).
     */
    public int posix_memalign(final Capability memptr, final long alignment, final long size)
    {
        try
        {
            enter(system.memoryService);
            checkUser(memptr, 16, true);
            if ((memptr.address() & 15) != 0
                || !memptr.hasPermissions(dev.ufork.capability.Permission.STORE_CAP.mask()))
            {
                throw new ErrnoException(Errno.EFAULT, "cannot store a capability through " + memptr);
            }
            if (alignment < 16 || Long.bitCount(alignment) != 1)
            {
                throw new ErrnoException(Errno.EINVAL, "alignment " + alignment);
            }
            memory.storeCapability(memptr, 0, heap().memalign(alignment, size));
            return 0;
        }
        catch (final ErrnoException e)
        {
            return e.errno().code();
        }
    }

    /**
     * {@code aligned_alloc} (C11): {@code size} bytes at a multiple of {@code alignment}.
     *
     * @param alignment a power of two.
     * @param size      bytes.
     * @return the block, or NULL with errno EINVAL (not a power of two) or ENOMEM.
     */
    public Capability aligned_alloc(final long alignment, final long size)
    {
        try
        {
            enter(system.memoryService);
            if (alignment <= 0 || Long.bitCount(alignment) != 1)
            {
                throw new ErrnoException(Errno.EINVAL, "alignment " + alignment);
            }
            return heap().memalign(alignment, size);
        }
        catch (final ErrnoException e)
        {
            setErrno(e.errno().code());
            return Capability.NULL;
        }
    }

    /**
     * {@code abort}: ends the µprocess with SIGABRT, as C's does: SIGABRT is unblocked and raised; if a handler
     * catches it and returns, the default action is restored and it is raised again. No {@code atexit} handler
     * runs. Does not return.
     */
    public void abort()
    {
        final int sigabrt = Signal.SIGABRT.number();
        sigprocmask(SIG_UNBLOCK, 1L << sigabrt);
        raise(sigabrt);
        signal(sigabrt, SIG_DFL);
        raise(sigabrt);
        // Only a µprocess that wrecked its own kernel-entry table gets here: the kernel ends a µprocess whose
        // program throws with SIGABRT as well.
        throw new IllegalStateException("abort: SIGABRT did not end µprocess " + getpid());
    }

    /** What glibc does when the heap is misused: the message on standard error, then abort. */
    private IllegalStateException heapAbort(final InvalidHeapPointer e)
    {
        final byte[] message = (e.getMessage() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        write(2, message, 0, message.length);
        abort();
        return new IllegalStateException("unreachable", e);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals shared by the parts of libc

    /** Presents this µprocess's entry capability for a service (and delivers pending signals first). */
    void enter(final KernelService service)
    {
        ctx.enter(service);
    }

    /** @return the waiter through which this µprocess blocks. */
    Waiter waiter()
    {
        return waiter;
    }

    /**
     * Blocks the µprocess until woken or {@code deadline}; a signal that interrupts it is delivered here: if a
     * handler ran, the call fails with EINTR; a fatal signal ends the µprocess; otherwise the caller re-checks and
     * may block again.
     *
     * @throws ErrnoException EINTR.
     */
    void block(final Waiter w, final long deadline)
    {
        w.await(deadline);
        interruptionPoint();
    }

    /**
     * Delivers signals if the thread was interrupted (a signal was posted).
     *
     * @throws ErrnoException EINTR if a handler ran.
     */
    void interruptionPoint()
    {
        if (Thread.currentThread().isInterrupted() && ctx.checkSignals())
        {
            throw new ErrnoException(Errno.EINTR, "interrupted by a signal");
        }
    }

    /**
     * Checks a user buffer before anything is consumed: the capability must allow the access over {@code length}
     * bytes from its address, and (unless isolation is off) lie in this µprocess's area.
     *
     * @throws ErrnoException EFAULT.
     */
    void checkUser(final Capability buffer, final long length, final boolean store)
    {
        final long address;
        try
        {
            address = store ? CapabilityMemory.checkStorable(buffer, 0, length)
                : CapabilityMemory.checkLoadable(buffer, 0, length);
        }
        catch (final CapabilityFault fault)
        {
            final ErrnoException e = new ErrnoException(Errno.EFAULT, fault.getMessage());
            e.initCause(fault);
            throw e;
        }
        if (fenced && length > 0 && (address < areaBase || address + length > areaTop))
        {
            throw new ErrnoException(Errno.EFAULT, "buffer [0x" + Long.toHexString(address) + ", +" + length
                + ") is outside µprocess " + getpid() + "'s area");
        }
    }

    private static void checkCount(final long count)
    {
        if (count < 0)
        {
            throw new ErrnoException(Errno.EINVAL, "negative count " + count);
        }
    }

    /**
     * @param wanted bytes the caller still wants to transfer.
     * @return the kernel buffer, cleared, its limit at {@code min(wanted, its capacity)}; allocated on first use.
     */
    ByteBuffer kernelBuffer(final long wanted)
    {
        if (kernelBuffer == null)
        {
            arena = Arena.ofConfined();
            kernelSegment = arena.allocate(KERNEL_BUFFER, 64);
            kernelBuffer = kernelSegment.asByteBuffer();
        }
        kernelBuffer.clear().limit((int)Math.min(wanted, KERNEL_BUFFER));
        return kernelBuffer;
    }

    /** @return the kernel buffer's memory (what {@link #kernelBuffer(long)} views). */
    MemorySegment kernelSegment()
    {
        return kernelSegment;
    }

    @Override
    public String toString()
    {
        return "Posix[pid " + getpid() + "]";
    }
}
