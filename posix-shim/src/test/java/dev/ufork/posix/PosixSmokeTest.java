package dev.ufork.posix;

import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The first things a libc must do: fork, exit, wait, and a pipe from child to parent. */
class PosixSmokeTest
{
    @Test
    void childWritesThroughAPipeAndParentReapsIt(@TempDir final Path root)
    {
        try (PosixSystem system = PosixTestSupport.boot(root, CopyMode.COPA))
        {
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            PosixTestSupport.run(system, failure, posix ->
            {
                final int[] fds = new int[2];
                PosixTestSupport.check(posix, posix.pipe(fds), "pipe");
                final int child = posix.fork(PosixTestSupport.guarded(failure, c ->
                {
                    c.close(fds[0]);
                    final byte[] hello = ("hello from " + c.getpid()).getBytes(StandardCharsets.US_ASCII);
                    PosixTestSupport.check(c, c.write(fds[1], hello, 0, hello.length), "write");
                    return 7;
                }));
                PosixTestSupport.check(posix, child, "fork");
                posix.close(fds[1]);
                final byte[] buffer = new byte[100];
                final StringBuilder got = new StringBuilder();
                long n;
                while ((n = PosixTestSupport.check(posix, posix.read(fds[0], buffer, 0, buffer.length), "read")) > 0)
                {
                    got.append(new String(buffer, 0, (int)n, StandardCharsets.US_ASCII));
                }
                assertEquals("hello from " + child, got.toString());
                final int[] status = new int[1];
                assertEquals(child, posix.waitpid(child, status, 0));
                assertTrue(Posix.WIFEXITED(status[0]));
                assertEquals(7, Posix.WEXITSTATUS(status[0]));
                assertEquals(-1, posix.waitpid(-1, status, 0));
                assertEquals(Errno.ECHILD.code(), posix.errno());
                return 0;
            });
        }
    }
}
