package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * POSIX process calls through libc: fork, exit and _exit with atexit handlers, wait and waitpid with the status
 * macros, getpid and getppid, errno in µprocess memory, and their bad paths.
 */
class PosixProcessTest extends PosixTestBase
{
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void forkReturnsTheChildsPidAndTheChildSeesItsOwnIds(final CopyMode mode)
    {
        run(posix ->
        {
            final int parent = posix.getpid();
            final int[] pipe = new int[2];
            PosixTestSupport.check(posix, posix.pipe(pipe), "pipe");
            final int child = posix.fork(PosixTestSupport.guarded(failure, c ->
            {
                final byte[] ids = (c.getpid() + " " + c.getppid()).getBytes();
                c.write(pipe[1], ids, 0, ids.length);
                return 3;
            }), mode);
            assertTrue(child > 0 && child != parent);
            posix.close(pipe[1]);
            final byte[] buffer = new byte[64];
            final int n = (int)posix.read(pipe[0], buffer, 0, buffer.length);
            assertEquals(child + " " + parent, new String(buffer, 0, n));
            final int[] status = new int[1];
            assertEquals(child, posix.wait(status));
            assertTrue(Posix.WIFEXITED(status[0]));
            assertFalse(Posix.WIFSIGNALED(status[0]));
            assertEquals(3, Posix.WEXITSTATUS(status[0]));
            return 0;
        });
    }

    @Test
    void exitRunsAtexitHandlersInReverseOrderAndUnderscoreExitDoesNot()
    {
        run(posix ->
        {
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            posix.atexit(p -> p.write(pipe[1], "A".getBytes(), 0, 1));
            posix.atexit(p -> p.write(pipe[1], "B".getBytes(), 0, 1));
            // Children inherit the handlers: one leaves with exit, one with _exit, one by returning from main.
            final int viaExit = posix.fork(c ->
            {
                c.atexit(p -> p.write(pipe[1], "C".getBytes(), 0, 1));
                c.exit(4);
                return 99;
            });
            final int[] status = new int[1];
            assertEquals(viaExit, posix.waitpid(viaExit, status, 0));
            assertEquals(4, Posix.WEXITSTATUS(status[0]));
            final int viaUnderscore = posix.fork(c ->
            {
                c._exit(5);
                return 99;
            });
            assertEquals(viaUnderscore, posix.waitpid(viaUnderscore, status, 0));
            assertEquals(5, Posix.WEXITSTATUS(status[0]));
            final int viaReturn = posix.fork(c -> 6);
            assertEquals(viaReturn, posix.waitpid(viaReturn, status, 0));
            assertEquals(6, Posix.WEXITSTATUS(status[0]));
            posix.close(pipe[1]);
            final byte[] buffer = new byte[16];
            final StringBuilder got = new StringBuilder();
            long n;
            while ((n = posix.read(pipe[0], buffer, 0, buffer.length)) > 0)
            {
                got.append(new String(buffer, 0, (int)n));
            }
            // exit: C, then the inherited B, A; _exit: nothing; return: B, A.
            assertEquals("CBABA", got.toString());
            assertEquals(-1, posix.atexit(null));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            return 0;
        });
    }

    @Test
    void waitpidReportsSignalsWnohangAndItsErrors()
    {
        run(posix ->
        {
            final int[] status = new int[1];
            assertEquals(-1, posix.waitpid(-1, status, 0));
            assertEquals(Errno.ECHILD.code(), posix.errno());
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            final int sleeper = posix.fork(c ->
            {
                c.pause();
                return 0;
            });
            assertEquals(0, posix.waitpid(sleeper, status, Posix.WNOHANG));
            assertEquals(-1, posix.waitpid(sleeper, status, 0x40));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(-1, posix.waitpid(sleeper + 1000, status, 0));
            assertEquals(Errno.ECHILD.code(), posix.errno());
            assertEquals(0, posix.kill(sleeper, 15));
            assertEquals(sleeper, posix.waitpid(sleeper, status, 0));
            assertTrue(Posix.WIFSIGNALED(status[0]));
            assertFalse(Posix.WIFEXITED(status[0]));
            assertEquals(15, Posix.WTERMSIG(status[0]));
            return 0;
        });
    }

    @Test
    void waitpidStoresTheStatusThroughACapabilityAndRefusesABadOne()
    {
        run(posix ->
        {
            final Capability scratch = posix.scratch();
            final int child = posix.fork(c -> 42);
            final Capability readOnly = scratch.andPermissions(Permissions.DATA_READ);
            // A buffer that cannot be stored to: EFAULT, and the child is not reaped.
            assertEquals(-1, posix.waitpid(child, readOnly, 0));
            assertEquals(Errno.EFAULT.code(), posix.errno());
            assertEquals(-1, posix.waitpid(child, scratch.add(PosixAreaDescriptor.SCRATCH_SIZE - 2), 0));
            assertEquals(Errno.EFAULT.code(), posix.errno());
            assertEquals(child, posix.waitpid(child, scratch, 0));
            final int status = posix.memory().loadInt(scratch, 0);
            assertEquals(42, Posix.WEXITSTATUS(status));
            // A NULL status pointer is allowed.
            final int other = posix.fork(c -> 1);
            assertEquals(other, posix.waitpid(other, Capability.NULL, 0));
            return 0;
        });
    }

    @Test
    void errnoLivesInTheProcessAndIsInheritedButNotShared()
    {
        run(posix ->
        {
            assertEquals(0, posix.errno());
            assertEquals(-1, posix.close(77));
            assertEquals(Errno.EBADF.code(), posix.errno());
            assertEquals(Errno.EBADF.code(), (int)posix.memory().loadLong(posix.area(), PosixAreaDescriptor.ERRNO));
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            final int child = posix.fork(c ->
            {
                final int inherited = c.errno();
                c.setErrno(0);
                c.kill(999_999, 15);
                final byte[] both = (inherited + " " + c.errno()).getBytes();
                c.write(pipe[1], both, 0, both.length);
                return 0;
            });
            posix.waitpid(child, (int[])null, 0);
            final byte[] buffer = new byte[32];
            final int n = (int)posix.read(pipe[0], buffer, 0, buffer.length);
            assertEquals(Errno.EBADF.code() + " " + Errno.ESRCH.code(), new String(buffer, 0, n));
            // The child's errno writes stayed in the child's memory.
            assertEquals(Errno.EBADF.code(), posix.errno());
            return 0;
        });
    }

    @Test
    void nestedForksAndOrphansAdoptedByInit()
    {
        run(posix ->
        {
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            final int child = posix.fork(c ->
            {
                final int grandchild = c.fork(g ->
                {
                    // Wait until the parent is gone: getppid turns to 1.
                    while (g.getppid() != 1)
                    {
                        g.nanosleep(1_000_000);
                    }
                    g.write(pipe[1], "orphan".getBytes(), 0, 6);
                    return 0;
                });
                return grandchild > 0 ? 0 : 1;
            });
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(0, Posix.WEXITSTATUS(status[0]));
            posix.close(pipe[1]);
            final byte[] buffer = new byte[16];
            final int n = (int)posix.read(pipe[0], buffer, 0, buffer.length);
            assertEquals("orphan", new String(buffer, 0, n));
            // The grandchild was never this process's child.
            assertEquals(-1, posix.waitpid(-1, status, Posix.WNOHANG));
            assertEquals(Errno.ECHILD.code(), posix.errno());
            return 0;
        });
    }

    @Test
    void forkFailsWithEnomemWhenTheSpaceIsFullAndNothingLeaks()
    {
        run(posix ->
        {
            final List<Integer> children = new ArrayList<>();
            int pid;
            // 1 MiB areas in a 256 MiB space: forks run out of room.
            while ((pid = posix.fork(c ->
            {
                c.pause();
                return 0;
            })) > 0)
            {
                children.add(pid);
                assertTrue(children.size() < 1000, "the space never filled up");
            }
            assertEquals(Errno.ENOMEM.code(), posix.errno());
            final int[] pipe = new int[2];
            assertEquals(0, posix.pipe(pipe), "descriptors still work after a failed fork");
            for (final int child : children)
            {
                posix.kill(child, 9);
                posix.waitpid(child, (int[])null, 0);
            }
            assertTrue(posix.fork(c -> 0) > 0, "forks work again once memory is back");
            posix.wait((int[])null);
            return 0;
        });
    }
}
