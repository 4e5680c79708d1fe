package dev.ufork.posix;

import dev.ufork.kernel.CopyMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the POSIX behaviour tests share: a fresh system per test over a temporary root, closed after it, and a runner
 * that requires a clean exit and carries failures back from every µprocess of the test.
 */
abstract class PosixTestBase
{
    /** The system of the test. */
    PosixSystem system;
    /** The first failure recorded inside any µprocess of the test. */
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** The system's root, deleted by JUnit after each test. */
    @TempDir
    Path root;

    @BeforeEach
    void bootSystem()
    {
        system = PosixTestSupport.boot(root, copyMode());
    }

    /** @return the kernel's default copy mode for the test's system; COPA unless a test needs another. */
    CopyMode copyMode()
    {
        return CopyMode.COPA;
    }

    @AfterEach
    void closeSystem()
    {
        system.close();
    }

    /** Runs {@code body} as a µprocess and requires it to exit with 0. */
    void run(final PosixTestSupport.Body body)
    {
        final int status = PosixTestSupport.run(system, failure, body);
        assertTrue(Posix.WIFEXITED(status) && Posix.WEXITSTATUS(status) == 0,
            "µprocess ended with wait status 0x" + Integer.toHexString(status));
    }
}
