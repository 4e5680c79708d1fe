package dev.ufork.posix;

import dev.ufork.kernel.Kernel;
import dev.ufork.kernel.KernelService;
import dev.ufork.kernel.ProcessContext;
import dev.ufork.kernel.Program;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The POSIX personality of one {@link Kernel}: the kernel services its calls enter through, its file system root
 * and limits, and the libc ({@link Posix}) of every µprocess running on it.
 * <p>
 * Start programs with {@link #spawn(PosixProgram)}; each gets descriptors 0, 1 and 2 (see
 * {@link PosixConfig#hostStdio()}) and its own libc, and may fork with {@link Posix#fork(PosixProgram)}.
 * <p>
 * Thread safety: safe for concurrent use. Lifetime: {@link #close()} closes the kernel (if this system booted it),
 * which kills every µprocess.
 */
public final class PosixSystem implements AutoCloseable
{
    private final Kernel kernel;
    private final boolean ownsKernel;
    private final PosixConfig config;
    private final ConcurrentHashMap<Integer, Posix> running = new ConcurrentHashMap<>();
    final KernelService processService;
    final KernelService fileService;
    final KernelService netService;
    final KernelService memoryService;
    /** The file system under {@link PosixConfig#root()}. */
    final HostFileSystem files;

    private PosixSystem(final Kernel kernel, final boolean ownsKernel, final PosixConfig config)
    {
        this.kernel = kernel;
        this.ownsKernel = ownsKernel;
        this.config = config;
        this.processService = kernel.registerService("posix.process");
        this.fileService = kernel.registerService("posix.file");
        this.netService = kernel.registerService("posix.net");
        this.memoryService = kernel.registerService("posix.memory");
        this.files = new HostFileSystem(config.root());
    }

    /**
     * Boots a kernel and the personality on it.
     *
     * @param config the configuration.
     * @return the system; close it.
     */
    public static PosixSystem boot(final PosixConfig config)
    {
        final Kernel kernel = Kernel.boot(config.kernel());
        try
        {
            return new PosixSystem(kernel, true, config);
        }
        catch (final RuntimeException | Error e)
        {
            kernel.close();
            throw e;
        }
    }

    /** @return the kernel underneath. */
    public Kernel kernel()
    {
        return kernel;
    }

    /** @return the configuration. */
    public PosixConfig config()
    {
        return config;
    }

    /**
     * Starts a program as a new µprocess (a child of init) in an area of the kernel's default size.
     *
     * @param main the program.
     * @return its pid.
     * @throws dev.ufork.kernel.ErrnoException ENOMEM if the address space has no room.
     */
    public int spawn(final PosixProgram main)
    {
        return spawn(kernel.config().defaultAreaSize(), main);
    }

    /**
     * Starts a program as a new µprocess (a child of init).
     *
     * @param areaBytes its area's size (rounded up to a power of two).
     * @param main      the program.
     * @return its pid.
     * @throws dev.ufork.kernel.ErrnoException ENOMEM if the address space has no room; EINVAL for a bad size.
     */
    public int spawn(final long areaBytes, final PosixProgram main)
    {
        final FileDescriptorTable fds = new FileDescriptorTable(config.maxOpenFiles());
        fds.install(new NullDevice(Fcntl.O_RDONLY), 0, false);
        fds.install(config.hostStdio() ? new HostOutput(System.out, "stdout") : new NullDevice(Fcntl.O_WRONLY), 1,
            false);
        fds.install(config.hostStdio() ? new HostOutput(System.err, "stderr") : new NullDevice(Fcntl.O_WRONLY), 2,
            false);
        try
        {
            return kernel.spawn(areaBytes, program(main, fds, List.of(), true));
        }
        catch (final RuntimeException | Error e)
        {
            fds.closeAll();
            throw e;
        }
    }

    /**
     * Waits for a µprocess started with {@link #spawn} to end (once per pid).
     *
     * @param pid its pid.
     * @return its wait status, decoded with {@link Posix#WIFEXITED(int)} and friends.
     * @throws InterruptedException if the calling thread is interrupted.
     */
    public int awaitExit(final int pid) throws InterruptedException
    {
        return kernel.awaitExit(pid);
    }

    /**
     * The kernel program that runs {@code main} with libc: it builds the µprocess's {@link Posix} on the µprocess's
     * own thread, runs {@code main}, calls {@code exit} with its result, and, however the µprocess ends, closes its
     * descriptors before the kernel makes it a zombie (so a parent that has reaped it sees its pipes closed).
     */
    Program program(final PosixProgram main, final FileDescriptorTable fds, final List<ExitHandler> atexit,
        final boolean fresh)
    {
        return ctx ->
        {
            final Posix posix;
            try
            {
                posix = new Posix(this, ctx, fds, atexit, fresh);
            }
            catch (final RuntimeException | Error e)
            {
                fds.closeAll();
                throw e;
            }
            running.put(ctx.getpid(), posix);
            try
            {
                posix.exit(main.main(posix));
            }
            finally
            {
                running.remove(ctx.getpid(), posix);
                posix.release();
            }
        };
    }

    /** @return the libc of the µprocess whose context this is (for signal handlers). */
    Posix posixOf(final ProcessContext ctx)
    {
        final Posix posix = running.get(ctx.getpid());
        if (posix == null)
        {
            throw new IllegalStateException("µprocess " + ctx.getpid() + " has no libc");
        }
        return posix;
    }

    @Override
    public void close()
    {
        if (ownsKernel)
        {
            kernel.close();
        }
        files.close();
    }
}
