package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Signal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.posix.FileTestSupport.ascii;
import static dev.ufork.posix.FileTestSupport.buffer;
import static dev.ufork.posix.FileTestSupport.writeAll;
import static dev.ufork.posix.PosixTestSupport.check;
import static dev.ufork.posix.PosixTestSupport.guarded;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Open file descriptions shared across fork: one offset for parent and child, writes through one description or
 * many that never overwrite each other, and signals that arrive during file I/O without breaking the file for the
 * other µprocesses that share it.
 */
class PosixFileSharingTest
{
    private Path root;
    private PosixSystem system;

    @BeforeEach
    void boot()
    {
        root = PosixTestSupport.tempRoot();
        system = PosixTestSupport.boot(root, CopyMode.COA);
    }

    @AfterEach
    void shutdown()
    {
        try
        {
            system.close();
        }
        finally
        {
            FileTestSupport.deleteTree(root);
        }
    }

    private static void token(final Posix posix, final int fd)
    {
        assertEquals(1, posix.write(fd, new byte[] {'t'}, 0, 1));
    }

    private static void awaitToken(final Posix posix, final int fd)
    {
        assertEquals(1, posix.read(fd, new byte[1], 0, 1));
    }

    private static void reap(final Posix posix, final int pid)
    {
        final int[] status = new int[1];
        assertEquals(pid, posix.waitpid(pid, status, 0));
        assertTrue(Posix.WIFEXITED(status[0]) && Posix.WEXITSTATUS(status[0]) == 0,
            "child " + pid + " ended with status 0x" + Integer.toHexString(status[0]));
    }

    @Test
    void parentAndChildTakingTurnsAppendToOneOffset() throws Exception
    {
        final int turns = 20;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        PosixTestSupport.run(system, failure, posix ->
        {
            final int fd = (int)check(posix, posix.open("turns", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644), "open");
            final int[] toChild = new int[2];
            final int[] toParent = new int[2];
            check(posix, posix.pipe(toChild), "pipe");
            check(posix, posix.pipe(toParent), "pipe");
            final int child = (int)check(posix, posix.fork(guarded(failure, c ->
            {
                for (int i = 0; i < turns; i++)
                {
                    awaitToken(c, toChild[0]);
                    writeAll(c, fd, ascii(String.format("C%02d;", i)));
                    token(c, toParent[1]);
                }
                return 0;
            })), "fork");
            final StringBuilder expected = new StringBuilder();
            for (int i = 0; i < turns; i++)
            {
                writeAll(posix, fd, ascii(String.format("P%02d;", i)));
                token(posix, toChild[1]);
                awaitToken(posix, toParent[0]);
                expected.append(String.format("P%02d;C%02d;", i, i));
            }
            reap(posix, child);
            assertEquals(expected.length(), posix.lseek(fd, 0, Fcntl.SEEK_CUR), "one offset moved by both");
            final byte[] all = new byte[expected.length() + 10];
            assertEquals(expected.length(), posix.pread(fd, all, 0, all.length, 0));
            assertEquals(expected.toString(), ascii(Arrays.copyOf(all, expected.length())));
            return 0;
        });
    }

    @Test
    void theChildMovesTheParentsOffsetAndFlags() throws Exception
    {
        Files.writeString(root.resolve("f"), "0123456789");
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        PosixTestSupport.run(system, failure, posix ->
        {
            final int fd = (int)check(posix, posix.open("f", Fcntl.O_RDWR), "open");
            assertEquals(10, posix.lseek(fd, 0, Fcntl.SEEK_END));
            final int child = (int)check(posix, posix.fork(guarded(failure, c ->
            {
                assertEquals(10, c.lseek(fd, 0, Fcntl.SEEK_CUR), "the child starts at the parent's offset");
                assertEquals(3, c.lseek(fd, 3, Fcntl.SEEK_SET));
                final byte[] two = new byte[2];
                assertEquals(2, c.read(fd, two, 0, 2));
                assertEquals("34", ascii(two));
                check(c, c.fcntl(fd, Fcntl.F_SETFL, Fcntl.O_APPEND), "F_SETFL");
                // A description the child opens itself is its own.
                final int own = (int)check(c, c.open("f", Fcntl.O_RDONLY), "open");
                assertEquals(7, c.lseek(own, 7, Fcntl.SEEK_SET));
                return 0;
            })), "fork");
            reap(posix, child);
            assertEquals(5, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "the child's lseek and read moved it");
            assertEquals(Fcntl.O_APPEND, posix.fcntl(fd, Fcntl.F_GETFL, 0) & Fcntl.O_APPEND, "and its F_SETFL");
            writeAll(posix, fd, ascii("!"));
            assertEquals(11, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "appended at the end");
            return 0;
        });
        assertEquals("0123456789!", Files.readString(root.resolve("f")));
    }

    /**
     * Children write records concurrently; the file must hold every record whole. Records run from a few bytes to
     * more than the 64 KiB kernel buffer, so a large write is several chunks that must still be one piece.
     *
     * @param shared whether the children write through the parent's description (else each opens its own).
     * @param append whether the description has O_APPEND (else writes go to the shared offset).
     */
    private void concurrentRecords(final boolean shared, final boolean append)
    {
        final long seed = System.nanoTime();
        final Random random = new Random(seed);
        final int children = 4;
        final int records = 12;
        final int[][] sizes = new int[children][records];
        for (final int[] row : sizes)
        {
            for (int i = 0; i < records; i++)
            {
                row[i] = random.nextBoolean() ? 64 * 1024 + random.nextInt(40_000) : 1 + random.nextInt(3000);
            }
        }
        final int flags = Fcntl.O_WRONLY | Fcntl.O_CREAT | (append ? Fcntl.O_APPEND : 0);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        try
        {
            PosixTestSupport.run(system, failure, posix ->
            {
                final int fd = shared ? (int)check(posix, posix.open("records", flags, 0644), "open") : -1;
                // The children start together, so that their writes overlap.
                final int[] go = new int[2];
                check(posix, posix.pipe(go), "pipe");
                final List<Integer> pids = new ArrayList<>();
                for (int c = 0; c < children; c++)
                {
                    final int id = c;
                    pids.add((int)check(posix, posix.fork(guarded(failure, child ->
                    {
                        final int out = shared ? fd : (int)check(child, child.open("records", flags, 0644), "open");
                        awaitToken(child, go[0]);
                        for (int r = 0; r < records; r++)
                        {
                            final byte[] record = record(id, r, sizes[id][r]);
                            final Capability buf = buffer(child, 0x10000, record.length);
                            child.memory().storeBytes(buf, 0, record, 0, record.length);
                            assertEquals(record.length, child.write(out, buf, record.length));
                        }
                        return 0;
                    })), "fork"));
                }
                assertEquals(children, posix.write(go[1], new byte[children], 0, children));
                for (final int pid : pids)
                {
                    reap(posix, pid);
                }
                return 0;
            });
            final byte[] file = Files.readAllBytes(root.resolve("records"));
            final Set<String> seen = new HashSet<>();
            int at = 0;
            while (at < file.length)
            {
                final int newline = indexOf(file, (byte)'\n', at);
                final String[] header = new String(file, at, newline - at, StandardCharsets.US_ASCII).split(":");
                final int id = Integer.parseInt(header[0]);
                final int r = Integer.parseInt(header[1]);
                final byte[] expected = record(id, r, sizes[id][r]);
                assertArrayEquals(expected, Arrays.copyOfRange(file, at, Math.min(file.length, at + expected.length)),
                    "record " + id + ":" + r + " at " + at);
                assertTrue(seen.add(id + ":" + r), "record " + id + ":" + r + " twice");
                at += expected.length;
            }
            assertEquals(children * records, seen.size(), "every record is there");
        }
        catch (final AssertionError | Exception e)
        {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    /** A record: a header line "id:r:size", then filler that names the record, then a newline. */
    private static byte[] record(final int id, final int r, final int size)
    {
        final byte[] header = (id + ":" + r + ":" + size + "\n").getBytes(StandardCharsets.US_ASCII);
        final byte[] record = new byte[header.length + size + 1];
        System.arraycopy(header, 0, record, 0, header.length);
        Arrays.fill(record, header.length, record.length - 1, (byte)('!' + id * 16 + r));
        record[record.length - 1] = '\n';
        return record;
    }

    private static int indexOf(final byte[] bytes, final byte value, final int from)
    {
        for (int i = from; i < bytes.length; i++)
        {
            if (bytes[i] == value)
            {
                return i;
            }
        }
        throw new AssertionError("no newline after " + from);
    }

    @Test
    void appendsThroughOneSharedDescriptionNeverOverwrite()
    {
        concurrentRecords(true, true);
    }

    @Test
    void appendsThroughSeparateDescriptionsNeverOverwrite()
    {
        concurrentRecords(false, true);
    }

    @Test
    void writesThroughOneSharedOffsetNeverOverlap()
    {
        concurrentRecords(true, false);
    }

    @Test
    void caughtSignalsDuringFileIoLeaveTheSharedFileWorking() throws Exception
    {
        final byte[] data = new byte[64 * 1024];
        new Random(3).nextBytes(data);
        Files.write(root.resolve("busy"), data);
        final int wanted = 30;
        final AtomicInteger handled = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        PosixTestSupport.run(system, failure, posix ->
        {
            final int fd = (int)check(posix, posix.open("busy", Fcntl.O_RDWR), "open");
            final int[] ready = new int[2];
            check(posix, posix.pipe(ready), "pipe");
            final int child = (int)check(posix, posix.fork(guarded(failure, c ->
            {
                c.signal(Signal.SIGUSR1.number(), (p, s) -> handled.incrementAndGet());
                token(c, ready[1]);
                final byte[] back = new byte[data.length];
                int round = 0;
                while (handled.get() < wanted)
                {
                    // Every kind of channel operation, each a chance for a signal to land inside it.
                    assertEquals(data.length, c.pread(fd, back, 0, back.length, 0), "pread in round " + round);
                    assertArrayEquals(data, back);
                    assertEquals(data.length, c.pwrite(fd, data, 0, data.length, data.length), "pwrite");
                    assertEquals(0, c.lseek(fd, 0, Fcntl.SEEK_SET));
                    assertEquals(data.length, c.read(fd, back, 0, back.length), "read");
                    assertEquals(2L * data.length, c.lseek(fd, 0, Fcntl.SEEK_END), "lseek SEEK_END");
                    assertEquals(2L * data.length, c.fstat(fd).size(), "fstat");
                    assertEquals(0, c.ftruncate(fd, 2L * data.length), "ftruncate");
                    assertEquals(0, c.fsync(fd), "fsync");
                    round++;
                }
                return 0;
            })), "fork");
            awaitToken(posix, ready[0]);
            final int[] status = new int[1];
            int reaped;
            while ((reaped = posix.waitpid(child, status, Posix.WNOHANG)) == 0)
            {
                check(posix, posix.kill(child, Signal.SIGUSR1.number()), "kill");
            }
            assertEquals(child, reaped);
            assertEquals(0, Posix.WEXITSTATUS(status[0]), "the child's I/O failed");
            // The description the child used (and was signalled in) still works for the parent.
            final byte[] back = new byte[data.length];
            assertEquals(data.length, posix.pread(fd, back, 0, back.length, data.length));
            assertArrayEquals(data, back);
            writeAll(posix, fd, ascii("after"));
            return 0;
        });
        assertTrue(handled.get() >= wanted);
    }

    @Test
    void aMicroprocessKilledDuringFileIoLeavesTheSharedFileWorking() throws Exception
    {
        final byte[] data = new byte[64 * 1024];
        new Random(5).nextBytes(data);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        PosixTestSupport.run(system, failure, posix ->
        {
            final int fd = (int)check(posix, posix.open("victim", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644), "open");
            for (int round = 0; round < 3; round++)
            {
                final int[] ready = new int[2];
                check(posix, posix.pipe(ready), "pipe");
                final int child = (int)check(posix, posix.fork(guarded(failure, c ->
                {
                    // The file holds the data before the parent may kill: a kill that lands before the first write
                    // would otherwise leave it empty, and any later write (whole or cut short) writes the same bytes.
                    check(c, c.pwrite(fd, data, 0, data.length, 0), "first pwrite");
                    token(c, ready[1]);
                    final byte[] back = new byte[data.length];
                    while (true)
                    {
                        check(c, c.pwrite(fd, data, 0, data.length, 0), "pwrite");
                        check(c, c.pread(fd, back, 0, back.length, 0), "pread");
                    }
                })), "fork");
                awaitToken(posix, ready[0]);
                check(posix, posix.kill(child, Signal.SIGTERM.number()), "kill");
                final int[] status = new int[1];
                assertEquals(child, posix.waitpid(child, status, 0));
                assertTrue(Posix.WIFSIGNALED(status[0]), "killed, not failed: 0x" + Integer.toHexString(status[0]));
                posix.close(ready[0]);
                posix.close(ready[1]);
                final byte[] back = new byte[data.length];
                assertEquals(data.length, posix.pread(fd, back, 0, back.length, 0), "pread after the kill");
                assertArrayEquals(data, back);
            }
            return 0;
        });
    }
}
