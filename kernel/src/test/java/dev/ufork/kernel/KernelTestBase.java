package dev.ufork.kernel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.concurrent.atomic.AtomicReference;

/**
 * What the kernel's behaviour tests share: a fresh kernel per test (256 MiB of space, 256 KiB areas, COPA), closed
 * after it, and programs whose failures are carried back to the test thread.
 */
abstract class KernelTestBase
{
    /** The default area of the µprocesses these tests spawn. */
    static final long AREA = 256 << 10;
    /** The default space. */
    static final long SPACE = 256L << 20;

    /** The first failure recorded inside any µprocess of the test. */
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** The kernel of the test; a test may replace it (closing the one it replaces). */
    Kernel kernel;

    @BeforeEach
    void bootKernel()
    {
        kernel = TestPrograms.boot(SPACE, AREA, CopyMode.COPA);
    }

    @AfterEach
    void closeKernel()
    {
        kernel.close();
    }

    /** A program whose failures are recorded for the test thread (it then exits with FAILED). */
    Program child(final TestPrograms.Body body)
    {
        return TestPrograms.guarded(failure, body);
    }

    /** Spawns {@code body}, requires a clean exit, and rethrows what failed in any µprocess it forked. */
    void runClean(final String what, final TestPrograms.Body body)
    {
        TestPrograms.runClean(kernel, AREA, what, body);
        ProcessSync.rethrow(failure, what);
    }
}
