package dev.ufork.posix;

import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.IsolationLevel;
import dev.ufork.kernel.KernelConfig;
import dev.ufork.kernel.ProcessTermination;
import dev.ufork.memory.AddressSpaceConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Plumbing for the POSIX tests: a small system over a temporary root, programs run as µprocesses with their
 * failures carried back to the test thread, and a hang guard (which only turns a hang into a failure; nothing is
 * asserted about time).
 */
final class PosixTestSupport
{
    /** How long a test waits for a µprocess before calling it a hang. */
    static final Duration HANG_GUARD = Duration.ofMinutes(2);
    /** The exit status of a program whose check failed. */
    static final int FAILED = 125;

    private PosixTestSupport()
    {
    }

    /** A program body whose checks may throw anything. */
    @FunctionalInterface
    interface Body
    {
        /**
         * @param posix the µprocess's libc.
         * @return the exit status.
         * @throws Exception to fail the test.
         */
        int run(Posix posix) throws Exception;
    }

    /**
     * @param root the file system root.
     * @param mode the default copy mode.
     * @return a system with a 256 MiB space, 1 MiB areas and 64 descriptors per µprocess.
     */
    static PosixSystem boot(final Path root, final CopyMode mode)
    {
        final KernelConfig kernel = new KernelConfig(AddressSpaceConfig.ofSize(256L << 20), mode, 1 << 20,
            IsolationLevel.ADVERSARIAL);
        return PosixSystem.boot(PosixConfig.of(kernel, root).withMaxOpenFiles(64));
    }

    /**
     * @return a fresh temporary directory for a file system root, for tests that cannot take a JUnit {@code @TempDir};
     *         the caller deletes it with {@link FileTestSupport#deleteTree} in a {@code finally} or an
     *         {@code @AfterEach}.
     */
    static Path tempRoot()
    {
        try
        {
            return Files.createTempDirectory("ufork-posix-test");
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Wraps a body so that a failure inside it (in whichever µprocess it runs) is recorded and the µprocess exits
     * with {@link #FAILED}.
     */
    static PosixProgram guarded(final AtomicReference<Throwable> failure, final Body body)
    {
        return posix ->
        {
            try
            {
                return body.run(posix);
            }
            catch (final ProcessTermination e)
            {
                throw e;
            }
            catch (final Throwable e)
            {
                failure.compareAndSet(null, e);
                return FAILED;
            }
        };
    }

    /**
     * Spawns {@code body}, waits for it (with the hang guard) and rethrows any failure recorded in it or in the
     * µprocesses it forked with {@link #guarded}.
     *
     * @return its wait status.
     */
    static int run(final PosixSystem system, final AtomicReference<Throwable> failure, final Body body)
    {
        final int pid = system.spawn(guarded(failure, body));
        final CompletableFuture<Integer> status = new CompletableFuture<>();
        Thread.ofVirtual().start(() ->
        {
            try
            {
                status.complete(system.awaitExit(pid));
            }
            catch (final Throwable t)
            {
                status.completeExceptionally(t);
            }
        });
        final int result;
        try
        {
            result = status.get(HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (final TimeoutException e)
        {
            throw new AssertionError("µprocess " + pid + " did not end within " + HANG_GUARD, failure.get());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        catch (final ExecutionException e)
        {
            throw new AssertionError(e.getCause());
        }
        if (failure.get() != null)
        {
            throw new AssertionError(failure.get().toString(), failure.get());
        }
        return result;
    }

    /** As {@link #run} with a fresh failure holder; requires exit status 0. */
    static void runClean(final PosixSystem system, final Body body)
    {
        final int status = run(system, new AtomicReference<>(), body);
        if (!Posix.WIFEXITED(status) || Posix.WEXITSTATUS(status) != 0)
        {
            throw new AssertionError("µprocess ended with wait status 0x" + Integer.toHexString(status));
        }
    }

    /**
     * A buffer of {@code size} bytes in the µprocess's heap region, at least {@code offset} bytes after the heap's start
     * and aligned so that its bounds are exact (large sizes need more than 16-byte alignment). The same offset gives
     * the same place in a forked child.
     */
    static dev.ufork.capability.Capability heapBuffer(final Posix posix, final long offset, final long size)
    {
        final long mask = dev.ufork.capability.Capability.representableAlignmentMask(size);
        final long start = (posix.area().base() + PosixAreaDescriptor.HEAP_START + offset + ~mask) & mask;
        return posix.area().withAddress(start).setBoundsExact(size);
    }

    /** Fails with the errno if a call returned −1. */
    static long check(final Posix posix, final long result, final String call)
    {
        if (result < 0)
        {
            throw new AssertionError(call + " failed: errno " + posix.errno() + " (" + posix.lastError() + ")");
        }
        return result;
    }
}
