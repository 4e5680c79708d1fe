package dev.ufork.apps.kv;

import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.IsolationLevel;
import dev.ufork.kernel.KernelConfig;
import dev.ufork.memory.AddressSpaceConfig;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixConfig;
import dev.ufork.posix.PosixSystem;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs test code inside a µprocess of a fresh POSIX system (1 GiB space, COPA, adversarial isolation), as the store's
 * code runs in the server, and rethrows on the test's thread whatever the code threw there.
 */
final class InProcess
{
    /** Code that runs in the µprocess. */
    @FunctionalInterface
    interface Body
    {
        void run(Posix posix) throws Exception;
    }

    private InProcess()
    {
    }

    /**
     * @param dir       the system's root directory.
     * @param areaBytes the µprocess's area size.
     * @param body      the test code.
     * @throws AssertionError carrying what the body threw, or if the µprocess did not exit with 0.
     */
    static void run(final Path dir, final long areaBytes, final Body body) throws Exception
    {
        final KernelConfig kernel = new KernelConfig(AddressSpaceConfig.ofSize(1L << 30), CopyMode.COPA, areaBytes,
            IsolationLevel.ADVERSARIAL);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        try (PosixSystem system = PosixSystem.boot(PosixConfig.of(kernel, dir)))
        {
            final int pid = system.spawn(posix ->
            {
                try
                {
                    body.run(posix);
                }
                catch (final Throwable t)
                {
                    failure.set(t);
                    return 1;
                }
                return 0;
            });
            final int status = system.awaitExit(pid);
            if (failure.get() != null)
            {
                throw new AssertionError(failure.get().toString(), failure.get());
            }
            if (status != 0)
            {
                throw new AssertionError("the µprocess ended with wait status " + status);
            }
        }
    }
}
