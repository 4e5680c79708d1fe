package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * POSIX signals through libc: kill (and kill 0), raise, signal/sigaction with handlers that run in the target
 * µprocess with its own libc, SIG_IGN and SIG_DFL, sigprocmask, pause, sleep and nanosleep interrupted with EINTR,
 * SIGCHLD on a child's exit, and the bad paths.
 */
class PosixSignalTest extends PosixTestBase
{
    private static final int SIGUSR1 = 10;
    private static final int SIGUSR2 = 12;
    private static final int SIGTERM = 15;
    private static final int SIGCHLD = 17;
    private static final int SIGKILL = 9;

    /** Blocks until the child writes one byte on the pipe (it is ready). */
    private static void awaitReady(final Posix posix, final int fd)
    {
        final byte[] one = new byte[1];
        assertEquals(1, posix.read(fd, one, 0, 1));
    }

    @Test
    void aHandlerRunsInTheTargetWithItsOwnLibcAndPauseReturnsEintr()
    {
        run(posix ->
        {
            final int[] ready = new int[2];
            final int[] report = new int[2];
            posix.pipe(ready);
            posix.pipe(report);
            final int child = posix.fork(PosixTestSupport.guarded(failure, c ->
            {
                // The handler writes into the child's own memory through the libc it is given.
                assertSame(Posix.SIG_DFL, c.signal(SIGUSR1, (p, sig) ->
                    p.memory().storeLong(p.scratch(), 0, 1000L + sig + p.getpid())));
                c.write(ready[1], new byte[] {1}, 0, 1);
                assertEquals(-1, c.pause());
                assertEquals(Errno.EINTR.code(), c.errno());
                final byte[] seen = Long.toString(c.memory().loadLong(c.scratch(), 0)).getBytes();
                c.write(report[1], seen, 0, seen.length);
                return 0;
            }));
            awaitReady(posix, ready[0]);
            assertEquals(0, posix.kill(child, SIGUSR1));
            final byte[] buffer = new byte[32];
            final int n = (int)posix.read(report[0], buffer, 0, buffer.length);
            assertEquals(Long.toString(1000L + SIGUSR1 + child), new String(buffer, 0, n));
            final int[] status = new int[1];
            posix.waitpid(child, status, 0);
            assertEquals(0, Posix.WEXITSTATUS(status[0]));
            return 0;
        });
    }

    /**
     * The race-free wait: the child blocks SIGUSR1 before asking for it, so the SIGUSR1 that arrives before it waits
     * stays pending, and sigsuspend with it unblocked handles it and returns EINTR with the mask restored.
     */
    @Test
    void sigsuspendHandlesASignalThatArrivedWhileBlockedAndRestoresTheMask()
    {
        run(posix ->
        {
            final int[] ready = new int[2];
            final int[] sent = new int[2];
            posix.pipe(ready);
            posix.pipe(sent);
            final int child = posix.fork(PosixTestSupport.guarded(failure, c ->
            {
                c.signal(SIGUSR1, (p, sig) -> p.memory().storeLong(p.scratch(), 0, sig));
                c.sigprocmask(Posix.SIG_BLOCK, 1L << SIGUSR1);
                c.write(ready[1], new byte[] {1}, 0, 1);
                // Once the parent says it has sent SIGUSR1, the signal is pending, and the read did not deliver it.
                awaitReady(c, sent[0]);
                assertEquals(1L << SIGUSR1, c.sigpending());
                assertEquals(0, c.memory().loadLong(c.scratch(), 0), "handled while blocked");
                assertEquals(-1, c.sigsuspend(0));
                assertEquals(Errno.EINTR.code(), c.errno());
                assertEquals(SIGUSR1, c.memory().loadLong(c.scratch(), 0), "handled by sigsuspend");
                assertEquals(1L << SIGUSR1, c.sigprocmask(Posix.SIG_BLOCK, 0), "the mask restored");
                return 7;
            }));
            awaitReady(posix, ready[0]);
            assertEquals(0, posix.kill(child, SIGUSR1));
            posix.write(sent[1], new byte[] {1}, 0, 1);
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(7, Posix.WEXITSTATUS(status[0]));
            return 0;
        });
    }

    @Test
    void defaultActionsTerminateOrIgnoreAndSigkillCannotBeCaught()
    {
        run(posix ->
        {
            final int[] status = new int[1];
            final int[] ready = new int[2];
            posix.pipe(ready);
            final int ignoring = posix.fork(c ->
            {
                c.signal(SIGTERM, Posix.SIG_IGN);
                c.signal(SIGUSR2, Posix.SIG_IGN);
                assertEquals(null, c.signal(SIGKILL, Posix.SIG_IGN));
                c.write(ready[1], new byte[] {1}, 0, 1);
                while (true)
                {
                    c.nanosleep(1_000_000);
                }
            });
            awaitReady(posix, ready[0]);
            posix.kill(ignoring, SIGTERM);
            posix.kill(ignoring, SIGUSR2);
            assertEquals(0, posix.waitpid(ignoring, status, Posix.WNOHANG), "an ignored signal ended the child");
            posix.kill(ignoring, SIGKILL);
            assertEquals(ignoring, posix.waitpid(ignoring, status, 0));
            assertEquals(SIGKILL, Posix.WTERMSIG(status[0]));
            final int defaulted = posix.fork(c ->
            {
                c.pause();
                return 0;
            });
            posix.kill(defaulted, SIGUSR1);
            assertEquals(defaulted, posix.waitpid(defaulted, status, 0));
            assertTrue(Posix.WIFSIGNALED(status[0]));
            assertEquals(SIGUSR1, Posix.WTERMSIG(status[0]));
            return 0;
        });
    }

    @Test
    void killAndSignalBadPaths()
    {
        run(posix ->
        {
            assertEquals(-1, posix.kill(999_999, SIGTERM));
            assertEquals(Errno.ESRCH.code(), posix.errno());
            assertEquals(-1, posix.kill(999_999, 0));
            assertEquals(Errno.ESRCH.code(), posix.errno());
            assertEquals(0, posix.kill(posix.getpid(), 0));
            assertEquals(-1, posix.kill(posix.getpid(), 64));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(-1, posix.kill(1, SIGTERM));
            assertEquals(Errno.EPERM.code(), posix.errno());
            assertEquals(null, posix.signal(SIGKILL, (p, s) -> { }));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(null, posix.signal(99, Posix.SIG_IGN));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(null, posix.signal(SIGUSR1, null));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(-1, posix.sigprocmask(7, 0));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(-1, posix.nanosleep(-1));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            return 0;
        });
    }

    @Test
    void blockedSignalsStayPendingUntilUnblockedAndRaiseDeliversAtOnce()
    {
        run(posix ->
        {
            final int[] count = new int[1];
            posix.signal(SIGUSR1, (p, s) -> count[0]++);
            final long old = posix.sigprocmask(Posix.SIG_BLOCK, 1L << SIGUSR1);
            assertEquals(0, old);
            assertEquals(0, posix.raise(SIGUSR1));
            assertEquals(0, count[0]);
            assertEquals(1L << SIGUSR1, posix.sigpending());
            assertEquals(1L << SIGUSR1, posix.sigprocmask(Posix.SIG_UNBLOCK, 1L << SIGUSR1));
            assertEquals(1, count[0]);
            assertEquals(0, posix.sigpending());
            posix.raise(SIGUSR1);
            assertEquals(2, count[0]);
            posix.signal(SIGUSR1, Posix.SIG_IGN);
            posix.raise(SIGUSR1);
            assertEquals(2, count[0]);
            return 0;
        });
    }

    @Test
    void sleepsAreInterruptedByAHandlerWithWhatWasLeft()
    {
        run(posix ->
        {
            final int[] report = new int[2];
            posix.pipe(report);
            posix.fcntl(report[0], Fcntl.F_SETFL, Fcntl.O_NONBLOCK);
            // The handler is installed before the fork, so the child has it from its first instruction.
            posix.signal(SIGUSR1, (p, s) -> { });
            final int child = posix.fork(PosixTestSupport.guarded(failure, c ->
            {
                final int left = c.sleep(600);
                final Capability req = c.scratch();
                c.memory().storeLong(req, 0, 600);
                c.memory().storeLong(req, 8, 0);
                final int r = c.nanosleep(req, req.add(16));
                final boolean interrupted = r == -1 && c.errno() == Errno.EINTR.code();
                final long remaining = c.memory().loadLong(req, 16);
                final byte[] out = (left + " " + interrupted + " " + (remaining > 0 && remaining <= 600)).getBytes();
                c.write(report[1], out, 0, out.length);
                return 0;
            }));
            // A signal that arrives just before a sleep is handled at its entry and the sleep goes on, so keep
            // signalling until the child reports: each sleep is then interrupted by a later one.
            posix.close(report[1]);
            final byte[] buffer = new byte[64];
            int n;
            while ((n = (int)posix.read(report[0], buffer, 0, buffer.length)) < 0)
            {
                posix.kill(child, SIGUSR1);
                posix.nanosleep(1_000_000);
            }
            assertTrue(n > 0, "the child ended without reporting");
            final String[] parts = new String(buffer, 0, n).split(" ");
            final int left = Integer.parseInt(parts[0]);
            assertTrue(left > 0 && left <= 600, "sleep left " + left);
            assertEquals("true", parts[1]);
            assertEquals("true", parts[2]);
            posix.waitpid(child, (int[])null, 0);
            return 0;
        });
    }

    @Test
    void sigchldArrivesWhenAChildExits()
    {
        run(posix ->
        {
            final int[] got = new int[1];
            posix.signal(SIGCHLD, (p, s) -> got[0] = s);
            final int child = posix.fork(c -> 0);
            // pause delivers a SIGCHLD already pending at once, or waits for it.
            assertEquals(-1, posix.pause());
            assertEquals(Errno.EINTR.code(), posix.errno());
            assertEquals(SIGCHLD, got[0]);
            assertEquals(child, posix.waitpid(child, (int[])null, 0));
            return 0;
        });
    }

    @Test
    void aBlockingPipeReadIsInterruptedWithEintrAndThePipeStillWorks()
    {
        run(posix ->
        {
            final int[] handled = new int[1];
            posix.signal(SIGUSR1, (p, s) -> handled[0]++);
            final int[] pipe = new int[2];
            final int[] stop = new int[2];
            posix.pipe(pipe);
            posix.pipe(stop);
            posix.fcntl(stop[0], Fcntl.F_SETFL, Fcntl.O_NONBLOCK);
            final int parent = posix.getpid();
            // The child keeps signalling until told to stop: a signal that comes before the read is handled at its
            // entry and the read blocks; the next one interrupts it. Nothing else writes the pipe.
            final int child = posix.fork(c ->
            {
                final byte[] one = new byte[1];
                while (c.read(stop[0], one, 0, 1) < 0)
                {
                    c.kill(parent, SIGUSR1);
                    c.nanosleep(1_000_000);
                }
                c.write(pipe[1], "ok".getBytes(), 0, 2);
                return 0;
            });
            final byte[] buffer = new byte[2];
            assertEquals(-1, posix.read(pipe[0], buffer, 0, 2));
            assertEquals(Errno.EINTR.code(), posix.errno());
            assertTrue(handled[0] >= 1);
            posix.signal(SIGUSR1, Posix.SIG_IGN);
            posix.write(stop[1], new byte[] {1}, 0, 1);
            assertEquals(2, posix.read(pipe[0], buffer, 0, 2));
            assertEquals("ok", new String(buffer));
            assertEquals(child, posix.waitpid(child, (int[])null, 0));
            return 0;
        });
    }
}
