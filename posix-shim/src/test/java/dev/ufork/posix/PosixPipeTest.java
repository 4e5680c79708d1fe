package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * POSIX pipes and descriptors through libc: data across fork, EOF once every write end (in every µprocess) is closed,
 * EPIPE and SIGPIPE once every read end is, non-blocking EAGAIN, atomic writes up to PIPE_BUF from concurrent
 * writers, dup/dup2/fcntl/close and the descriptor limit, and EFAULT for bad buffers with nothing consumed.
 */
class PosixPipeTest extends PosixTestBase
{
    @Test
    void eofComesOnlyWhenEveryWriteEndIsClosedInEveryProcess()
    {
        run(posix ->
        {
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            final int[] go = new int[2];
            posix.pipe(go);
            final int child = posix.fork(c ->
            {
                final byte[] one = new byte[1];
                c.read(go[0], one, 0, 1);
                c.write(pipe[1], "late".getBytes(), 0, 4);
                return 0;
            });
            posix.close(pipe[1]);
            posix.write(go[1], new byte[] {1}, 0, 1);
            final byte[] buffer = new byte[8];
            assertEquals(4, posix.read(pipe[0], buffer, 0, 8));
            assertEquals(0, posix.read(pipe[0], buffer, 0, 8), "EOF after the child's exit closed its write end");
            posix.waitpid(child, (int[])null, 0);
            return 0;
        });
    }

    @Test
    void writingWithNoReaderGivesSigpipeOrEpipe()
    {
        run(posix ->
        {
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            posix.close(pipe[0]);
            final int child = posix.fork(c ->
            {
                c.write(pipe[1], "x".getBytes(), 0, 1);
                return 0;
            });
            final int[] status = new int[1];
            posix.waitpid(child, status, 0);
            assertTrue(Posix.WIFSIGNALED(status[0]));
            assertEquals(13, Posix.WTERMSIG(status[0]));
            posix.signal(13, Posix.SIG_IGN);
            assertEquals(-1, posix.write(pipe[1], "x".getBytes(), 0, 1));
            assertEquals(Errno.EPIPE.code(), posix.errno());
            return 0;
        });
    }

    @Test
    void nonBlockingEndsGiveEagainAndPipe2SetsTheFlags()
    {
        run(posix ->
        {
            final Capability fds = posix.scratch();
            assertEquals(0, posix.pipe2(fds, Fcntl.O_NONBLOCK | Fcntl.O_CLOEXEC));
            final int r = posix.memory().loadInt(fds, 0);
            final int w = posix.memory().loadInt(fds, 4);
            assertEquals(Fcntl.O_NONBLOCK | Fcntl.O_RDONLY, posix.fcntl(r, Fcntl.F_GETFL, 0));
            assertEquals(Fcntl.FD_CLOEXEC, posix.fcntl(w, Fcntl.F_GETFD, 0));
            final byte[] buffer = new byte[Fcntl.PIPE_CAPACITY + 10];
            assertEquals(-1, posix.read(r, buffer, 0, 1));
            assertEquals(Errno.EAGAIN.code(), posix.errno());
            assertEquals(Fcntl.PIPE_CAPACITY, posix.write(w, buffer, 0, buffer.length), "a partial write when full");
            assertEquals(-1, posix.write(w, buffer, 0, 1));
            assertEquals(Errno.EAGAIN.code(), posix.errno());
            assertEquals(-1, posix.pipe2(fds, 0x1));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            return 0;
        });
    }

    @Test
    void writesUpToPipeBufAreAtomicAmongConcurrentWriters()
    {
        run(posix ->
        {
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            final int writers = 4;
            final int records = 200;
            for (int w = 0; w < writers; w++)
            {
                final byte mark = (byte)('a' + w);
                posix.fork(c ->
                {
                    final byte[] record = new byte[Fcntl.PIPE_BUF];
                    Arrays.fill(record, mark);
                    for (int i = 0; i < records; i++)
                    {
                        if (c.write(pipe[1], record, 0, record.length) != record.length)
                        {
                            return 1;
                        }
                    }
                    return 0;
                });
            }
            posix.close(pipe[1]);
            final byte[] record = new byte[Fcntl.PIPE_BUF];
            final int[] seen = new int[writers];
            final SplittableRandom random = new SplittableRandom(11);
            int filled = 0;
            while (true)
            {
                // Odd read sizes leave the free space at any size, so a non-atomic writer would split a record.
                final int want = Math.min(record.length - filled, 1 + random.nextInt(1500));
                final long n = posix.read(pipe[0], record, filled, want);
                if (n == 0)
                {
                    break;
                }
                filled += (int)n;
                if (filled == record.length)
                {
                    for (final byte b : record)
                    {
                        assertEquals(record[0], b, "a record was interleaved with another");
                    }
                    seen[record[0] - 'a']++;
                    filled = 0;
                }
            }
            assertEquals(0, filled);
            for (int w = 0; w < writers; w++)
            {
                assertEquals(records, seen[w]);
                final int[] status = new int[1];
                posix.wait(status);
                assertEquals(0, Posix.WEXITSTATUS(status[0]));
            }
            return 0;
        });
    }

    @Test
    void aReadIntoABadBufferFailsWithEfaultAndConsumesNothing()
    {
        run(posix ->
        {
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            posix.write(pipe[1], "hello".getBytes(), 0, 5);
            final Capability buffer = posix.scratch();
            assertEquals(-1, posix.read(pipe[0], buffer.andPermissions(Permissions.DATA_READ), 5));
            assertEquals(Errno.EFAULT.code(), posix.errno());
            assertEquals(-1, posix.read(pipe[0], buffer.add(PosixAreaDescriptor.SCRATCH_SIZE - 2), 5));
            assertEquals(Errno.EFAULT.code(), posix.errno());
            assertEquals(-1, posix.read(pipe[0], buffer.withTagCleared(), 5));
            assertEquals(Errno.EFAULT.code(), posix.errno());
            assertEquals(-1, posix.write(pipe[1], buffer.andPermissions(Permissions.NONE), 1));
            assertEquals(Errno.EFAULT.code(), posix.errno());
            assertEquals(-1, posix.read(pipe[0], buffer, -1));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(5, posix.read(pipe[0], buffer, 5));
            final byte[] got = new byte[5];
            posix.memory().loadBytes(buffer, 0, got, 0, 5);
            assertArrayEquals("hello".getBytes(), got);
            return 0;
        });
    }

    @Test
    void readAndWriteMoveBytesThroughCapabilitiesAcrossFork()
    {
        run(posix ->
        {
            final SplittableRandom random = new SplittableRandom(5);
            final byte[] data = new byte[1 << 17];
            random.nextBytes(data);
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            final Capability heap = PosixTestSupport.heapBuffer(posix, 0, data.length);
            posix.memory().storeBytes(heap, 0, data, 0, data.length);
            final int child = posix.fork(c ->
            {
                // The child's copy of the buffer is at its own address; it writes it all through the pipe.
                final Capability mine = PosixTestSupport.heapBuffer(c, 0, data.length);
                return c.write(pipe[1], mine, data.length) == data.length ? 0 : 1;
            });
            posix.close(pipe[1]);
            final byte[] got = new byte[data.length];
            int filled = 0;
            long n;
            while ((n = posix.read(pipe[0], got, filled, got.length - filled)) > 0)
            {
                filled += (int)n;
            }
            assertEquals(data.length, filled);
            assertArrayEquals(data, got);
            final int[] status = new int[1];
            posix.waitpid(child, status, 0);
            assertEquals(0, Posix.WEXITSTATUS(status[0]));
            return 0;
        });
    }

    @Test
    void dupDup2FcntlCloseAndTheDescriptorLimit()
    {
        run(posix ->
        {
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            final int copy = posix.dup(pipe[1]);
            assertTrue(copy > pipe[1]);
            // Status flags belong to the description: set through one descriptor, seen through the other.
            assertEquals(0, posix.fcntl(copy, Fcntl.F_SETFL, Fcntl.O_NONBLOCK));
            assertEquals(Fcntl.O_WRONLY | Fcntl.O_NONBLOCK, posix.fcntl(pipe[1], Fcntl.F_GETFL, 0));
            // Descriptor flags belong to the descriptor.
            assertEquals(0, posix.fcntl(copy, Fcntl.F_SETFD, Fcntl.FD_CLOEXEC));
            assertEquals(0, posix.fcntl(pipe[1], Fcntl.F_GETFD, 0));
            assertEquals(Fcntl.FD_CLOEXEC, posix.fcntl(copy, Fcntl.F_GETFD, 0));
            assertEquals(40, posix.dup2(pipe[0], 40));
            assertEquals(40, posix.dup2(40, 40));
            final int low = posix.fcntl(pipe[0], Fcntl.F_DUPFD, 30);
            assertEquals(30, low);
            assertEquals(0, posix.close(pipe[1]));
            // The write end stays open through the copy: no EOF yet.
            posix.write(copy, "z".getBytes(), 0, 1);
            final byte[] one = new byte[1];
            assertEquals(1, posix.read(40, one, 0, 1));
            assertEquals(0, posix.close(copy));
            assertEquals(0, posix.read(30, one, 0, 1), "EOF once every write descriptor is closed");
            // Bad paths.
            assertEquals(-1, posix.close(copy));
            assertEquals(Errno.EBADF.code(), posix.errno());
            assertEquals(-1, posix.dup(999));
            assertEquals(Errno.EBADF.code(), posix.errno());
            assertEquals(-1, posix.dup2(999, 3));
            assertEquals(Errno.EBADF.code(), posix.errno());
            assertEquals(-1, posix.dup2(30, 100_000));
            assertEquals(Errno.EBADF.code(), posix.errno());
            assertEquals(-1, posix.fcntl(30, 12345, 0));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(-1, posix.read(pipe[1], one, 0, 1));
            assertEquals(Errno.EBADF.code(), posix.errno());
            assertEquals(-1, posix.write(30, one, 0, 1));
            assertEquals(Errno.EBADF.code(), posix.errno());
            // The limit (64 in these tests): EMFILE, and nothing is installed.
            int last = 0;
            while (true)
            {
                final int fd = posix.dup(30);
                if (fd < 0)
                {
                    assertEquals(Errno.EMFILE.code(), posix.errno());
                    break;
                }
                last = fd;
            }
            assertEquals(63, last);
            final int[] another = new int[2];
            assertEquals(-1, posix.pipe(another));
            assertEquals(Errno.EMFILE.code(), posix.errno());
            assertEquals(0, posix.close(63));
            assertEquals(-1, posix.pipe(another), "a pipe needs two free descriptors");
            assertEquals(Errno.EMFILE.code(), posix.errno());
            assertEquals(0, posix.close(62));
            assertEquals(0, posix.pipe(another));
            return 0;
        });
    }

    @Test
    void forkedChildrenShareDescriptionsAndTheirStatusFlags()
    {
        run(posix ->
        {
            final int[] pipe = new int[2];
            posix.pipe(pipe);
            final int child = posix.fork(c -> c.fcntl(pipe[0], Fcntl.F_SETFL, Fcntl.O_NONBLOCK) == 0 ? 0 : 1);
            posix.waitpid(child, (int[])null, 0);
            assertEquals(Fcntl.O_RDONLY | Fcntl.O_NONBLOCK, posix.fcntl(pipe[0], Fcntl.F_GETFL, 0),
                "the child's F_SETFL changed the shared description");
            final byte[] one = new byte[1];
            assertEquals(-1, posix.read(pipe[0], one, 0, 1));
            assertEquals(Errno.EAGAIN.code(), posix.errno());
            return 0;
        });
    }
}
