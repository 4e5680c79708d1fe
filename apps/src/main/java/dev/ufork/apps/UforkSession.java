package dev.ufork.apps;

import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.IsolationLevel;
import dev.ufork.kernel.KernelConfig;
import dev.ufork.kernel.ProcessTermination;
import dev.ufork.memory.AddressSpaceConfig;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixConfig;
import dev.ufork.posix.PosixSystem;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A booted ufork for one command: a {@link PosixSystem} over a 64 GiB {@code MAP_NORESERVE} address space (free
 * until touched), an empty temporary directory as its file system root, and whatever else the command must release
 * (C baselines). {@link #close()} releases all of it, and so does Ctrl-C: a shutdown hook closes the session if the
 * JVM ends while it is open, which kills every µprocess, unmaps the space and ends running C programs.
 * <p>
 * {@link #call} runs Java code as a µprocess and hands back its result or its failure: the code of a parent
 * µprocess may report through Java objects (it is never copied); the programs it forks must not capture them.
 * <p>
 * Thread safety: {@link #call} from one host thread at a time; {@link #close()} from any thread, once effective.
 * Lifetime: from {@link #boot} to {@link #close()}.
 */
public final class UforkSession implements AutoCloseable
{
    /** The address space reserved by default: 64 GiB, MAP_NORESERVE. */
    public static final long DEFAULT_SPACE = 64L << 30;

    /** Java code run as a µprocess. */
    @FunctionalInterface
    public interface Body<T>
    {
        /**
         * @param posix the µprocess's libc.
         * @return the result handed to the host.
         * @throws Exception to fail the call.
         */
        T run(Posix posix) throws Exception;
    }

    private final PosixSystem system;
    private final Path root;
    private final PrintStream err;
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread hook;

    private UforkSession(final PosixSystem system, final Path root, final PrintStream err)
    {
        this.system = system;
        this.root = root;
        this.err = err;
        this.hook = new Thread(this::closeFromHook, "ufork-shutdown");
    }

    /**
     * Boots a kernel with COPA as the default copy mode and adversarial isolation.
     *
     * @param spaceBytes bytes of address space to reserve.
     * @param err        where to say that an interrupted run was cleaned up.
     * @return the session; close it.
     */
    public static UforkSession boot(final long spaceBytes, final PrintStream err)
    {
        final Path root;
        try
        {
            root = Files.createTempDirectory("ufork-root-");
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot create the file system root", e);
        }
        final KernelConfig kernel = new KernelConfig(AddressSpaceConfig.ofSize(spaceBytes), CopyMode.COPA, 1 << 20,
            IsolationLevel.ADVERSARIAL);
        final PosixSystem system;
        try
        {
            system = PosixSystem.boot(PosixConfig.of(kernel, root));
        }
        catch (final RuntimeException | Error e)
        {
            deleteQuietly(root);
            throw e;
        }
        final UforkSession session = new UforkSession(system, root, err);
        Runtime.getRuntime().addShutdownHook(session.hook);
        return session;
    }

    /** @return the POSIX system. */
    public PosixSystem system()
    {
        return system;
    }

    /** @return whether the session has been closed (by its owner or by Ctrl-C). */
    public boolean isClosed()
    {
        return closed.get();
    }

    /**
     * Closes {@code resource} with the session (last registered, first closed), including on Ctrl-C.
     *
     * @param resource something to release.
     * @param <R>      its type.
     * @return {@code resource}.
     */
    public synchronized <R extends AutoCloseable> R register(final R resource)
    {
        if (closed.get())
        {
            closeQuietly(resource);
            throw new IllegalStateException("the session is closed");
        }
        resources.push(resource);
        return resource;
    }

    /**
     * Runs {@code body} as a new µprocess and waits for it.
     *
     * @param areaBytes its area's size.
     * @param body      what it runs.
     * @param <T>       its result's type.
     * @return what {@code body} returned.
     * @throws IllegalStateException if {@code body} threw (the cause is attached) or the µprocess was killed.
     * @throws InterruptedException  if the host thread is interrupted.
     */
    public <T> T call(final long areaBytes, final Body<T> body) throws InterruptedException
    {
        final AtomicReference<T> result = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final int pid = system.spawn(areaBytes, posix ->
        {
            try
            {
                result.set(body.run(posix));
                return 0;
            }
            catch (final ProcessTermination e)
            {
                throw e;
            }
            catch (final Exception | Error e)
            {
                failure.set(e);
                return 1;
            }
        });
        final int status = system.awaitExit(pid);
        // awaitExit returns after the µprocess's last write to result or failure (its exit completes the future).
        if (failure.get() != null)
        {
            throw new IllegalStateException(String.valueOf(failure.get().getMessage()), failure.get());
        }
        if (!Posix.WIFEXITED(status) || Posix.WEXITSTATUS(status) != 0)
        {
            throw new IllegalStateException("µprocess " + pid + " ended with " + describe(status)
                + (closed.get() ? " (the session was closed)" : ""));
        }
        return result.get();
    }

    /**
     * @param status a wait status.
     * @return it in words, e.g. {@code "exit status 3"} or {@code "signal 11"}.
     */
    public static String describe(final int status)
    {
        if (Posix.WIFEXITED(status))
        {
            return "exit status " + Posix.WEXITSTATUS(status);
        }
        if (Posix.WIFSIGNALED(status))
        {
            return "signal " + Posix.WTERMSIG(status);
        }
        return "wait status 0x" + Integer.toHexString(status);
    }

    private void closeFromHook()
    {
        if (!closed.get())
        {
            err.println("ufork: interrupted; closing the kernel and removing temporary files");
            err.flush();
            release();
        }
    }

    /** Closes the registered resources, the kernel (killing every µprocess) and the root directory. */
    @Override
    public void close()
    {
        try
        {
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        catch (final IllegalStateException e)
        {
            // The JVM is shutting down: the hook is running or will run, and release() is idempotent.
        }
        release();
    }

    private void release()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        synchronized (this)
        {
            while (!resources.isEmpty())
            {
                closeQuietly(resources.pop());
            }
        }
        system.close();
        deleteQuietly(root);
    }

    private static void closeQuietly(final AutoCloseable resource)
    {
        try
        {
            resource.close();
        }
        catch (final Exception e)
        {
            // Closing is best effort on the way out; the kernel and the directory are released regardless.
        }
    }

    private static void deleteQuietly(final Path directory)
    {
        try
        {
            Files.deleteIfExists(directory);
        }
        catch (final IOException e)
        {
            // A non-empty root would mean a program created files; leaving them in /tmp is harmless.
        }
    }
}
