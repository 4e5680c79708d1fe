package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.ufork.posix.FileTestSupport.ascii;
import static dev.ufork.posix.FileTestSupport.assertFails;
import static dev.ufork.posix.FileTestSupport.buffer;
import static dev.ufork.posix.FileTestSupport.cString;
import static dev.ufork.posix.FileTestSupport.readToEnd;
import static dev.ufork.posix.FileTestSupport.writeAll;
import static dev.ufork.posix.PosixTestSupport.check;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The file calls one by one, on their good and bad paths, against what Linux does. */
class PosixFileTest
{
    private Path root;
    private PosixSystem system;

    @BeforeEach
    void boot()
    {
        root = PosixTestSupport.tempRoot();
        system = PosixTestSupport.boot(root, CopyMode.COPA);
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

    private void run(final PosixTestSupport.Body body)
    {
        PosixTestSupport.runClean(system, body);
    }

    // ------------------------------------------------------------------------------------------------------------
    // open, read, write

    @Test
    void createWriteAndReadBackThroughTheHost() throws Exception
    {
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open(cString(posix, 0x10000, "/hello.txt"),
                Fcntl.O_RDWR | Fcntl.O_CREAT, 0640), "open");
            assertTrue(fd >= 3, "lowest free descriptor after stdio");
            writeAll(posix, fd, ascii("hello, world"));
            assertEquals(0, posix.lseek(fd, 0, Fcntl.SEEK_SET));
            assertEquals("hello, world", ascii(readToEnd(posix, fd)));
            assertEquals(Fcntl.O_RDWR, posix.fcntl(fd, Fcntl.F_GETFL, 0) & Fcntl.O_ACCMODE);
            assertEquals(0, posix.close(fd));
            return 0;
        });
        assertEquals("hello, world", Files.readString(root.resolve("hello.txt")));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(
            "hello.txt"))));
    }

    @Test
    void creationModeLosesTheUmaskBits() throws Exception
    {
        run(posix ->
        {
            check(posix, posix.creat("all.txt", 0777), "creat");
            check(posix, posix.open("none.txt", Fcntl.O_WRONLY | Fcntl.O_CREAT, 0), "open");
            return 0;
        });
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(
            "all.txt"))));
        assertEquals("---------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(
            "none.txt"))));
    }

    @Test
    void openFlagsBehaveAsOnLinux() throws Exception
    {
        Files.writeString(root.resolve("file"), "existing");
        Files.createDirectory(root.resolve("dir"));
        Files.createSymbolicLink(root.resolve("link"), Path.of("file"));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("nowhere"));
        run(posix ->
        {
            assertFails(posix, Errno.ENOENT, posix.open("missing", Fcntl.O_RDONLY), "open missing");
            assertFails(posix, Errno.ENOENT, posix.open("", Fcntl.O_RDONLY), "open empty path");
            assertFails(posix, Errno.ENOENT, posix.open("nodir/x", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644),
                "create in a missing directory");
            assertFails(posix, Errno.ENOTDIR, posix.open("file/x", Fcntl.O_RDONLY), "file as a directory");
            assertFails(posix, Errno.ENOTDIR, posix.open("file/", Fcntl.O_RDONLY), "file with a slash");
            assertFails(posix, Errno.EISDIR, posix.open("new/", Fcntl.O_WRONLY | Fcntl.O_CREAT, 0644),
                "create a name with a slash");
            assertFails(posix, Errno.EISDIR, posix.open("file/", Fcntl.O_RDONLY | Fcntl.O_CREAT, 0644),
                "O_CREAT on a file with a slash");
            assertFails(posix, Errno.EISDIR, posix.open("dir/", Fcntl.O_RDONLY | Fcntl.O_CREAT | Fcntl.O_EXCL, 0644),
                "O_CREAT|O_EXCL on a directory with a slash");
            assertFails(posix, Errno.EEXIST, posix.open("/", Fcntl.O_RDONLY | Fcntl.O_CREAT | Fcntl.O_EXCL, 0644),
                "O_CREAT|O_EXCL on the root");
            assertFails(posix, Errno.EISDIR, posix.open("dir/.", Fcntl.O_RDONLY | Fcntl.O_CREAT, 0644),
                "O_CREAT on dir/.");
            assertFails(posix, Errno.EEXIST, posix.open("file", Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL, 0644),
                "O_EXCL on a file");
            assertFails(posix, Errno.EEXIST, posix.open("dangling", Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL,
                0644), "O_EXCL on a dangling link");
            assertFails(posix, Errno.ELOOP, posix.open("link", Fcntl.O_RDONLY | Fcntl.O_NOFOLLOW), "O_NOFOLLOW");
            assertFails(posix, Errno.EINVAL, posix.open("file", 3), "access mode 3");
            assertFails(posix, Errno.EINVAL, posix.open("file", Fcntl.O_RDONLY | 040000000), "unknown flag");
            assertFails(posix, Errno.EINVAL, posix.open("d2", Fcntl.O_RDONLY | Fcntl.O_CREAT | Fcntl.O_DIRECTORY,
                0755), "O_CREAT|O_DIRECTORY");
            assertFails(posix, Errno.ENOTDIR, posix.open("file", Fcntl.O_RDONLY | Fcntl.O_DIRECTORY), "O_DIRECTORY");
            assertFails(posix, Errno.EISDIR, posix.open("dir", Fcntl.O_WRONLY), "directory for writing");
            assertFails(posix, Errno.EISDIR, posix.open("dir", Fcntl.O_RDWR), "directory for reading and writing");
            assertFails(posix, Errno.EISDIR, posix.open("dir", Fcntl.O_RDONLY | Fcntl.O_CREAT, 0644),
                "directory with O_CREAT");
            assertFails(posix, Errno.EISDIR, posix.open("/", Fcntl.O_WRONLY), "the root for writing");
            assertFails(posix, Errno.EINVAL, posix.open("a\0b", Fcntl.O_RDONLY), "a NUL in a Java path");

            // The link is followed; O_CREAT without O_EXCL opens what exists and changes nothing.
            final int viaLink = (int)check(posix, posix.open("link", Fcntl.O_RDWR | Fcntl.O_CREAT, 0600), "open");
            assertEquals("existing", ascii(readToEnd(posix, viaLink)));
            // O_CREAT through a dangling link creates its target, as Linux does.
            final int created = (int)check(posix, posix.open("dangling", Fcntl.O_WRONLY | Fcntl.O_CREAT, 0644),
                "create through a dangling link");
            writeAll(posix, created, ascii("made"));
            // O_TRUNC empties a file opened for writing.
            final int truncated = (int)check(posix, posix.open("file", Fcntl.O_WRONLY | Fcntl.O_TRUNC), "O_TRUNC");
            assertEquals(0, posix.fstat(truncated).size());
            // Directories open read-only, with or without O_DIRECTORY.
            check(posix, posix.open("dir", Fcntl.O_RDONLY | Fcntl.O_DIRECTORY), "open a directory");
            check(posix, posix.open("/", Fcntl.O_RDONLY), "open the root");
            check(posix, posix.open(".", Fcntl.O_RDONLY), "open .");
            return 0;
        });
        assertEquals("made", Files.readString(root.resolve("nowhere")));
        assertEquals(0, Files.size(root.resolve("file")));
    }

    @Test
    void accessModesAreEnforced() throws Exception
    {
        Files.writeString(root.resolve("file"), "data");
        run(posix ->
        {
            final int readOnly = (int)check(posix, posix.open("file", Fcntl.O_RDONLY), "open");
            final int writeOnly = (int)check(posix, posix.open("file", Fcntl.O_WRONLY), "open");
            final byte[] b = new byte[4];
            assertFails(posix, Errno.EBADF, posix.write(readOnly, b, 0, 4), "write to O_RDONLY");
            assertFails(posix, Errno.EBADF, posix.pwrite(readOnly, b, 0, 4, 0), "pwrite to O_RDONLY");
            assertFails(posix, Errno.EBADF, posix.read(writeOnly, b, 0, 4), "read from O_WRONLY");
            assertFails(posix, Errno.EBADF, posix.pread(writeOnly, b, 0, 4, 0), "pread from O_WRONLY");
            // O_RDONLY|O_CREAT makes a file that still cannot be written through this descriptor.
            final int created = (int)check(posix, posix.open("new", Fcntl.O_RDONLY | Fcntl.O_CREAT, 0644), "open");
            assertFails(posix, Errno.EBADF, posix.write(created, b, 0, 4), "write to created O_RDONLY");
            assertEquals(0, posix.read(created, b, 0, 4));
            for (final int fd : new int[] {-1, 99, 63})
            {
                assertFails(posix, Errno.EBADF, posix.read(fd, b, 0, 4), "read " + fd);
                assertFails(posix, Errno.EBADF, posix.pread(fd, b, 0, 4, 0), "pread " + fd);
                assertFails(posix, Errno.EBADF, posix.pwrite(fd, b, 0, 4, 0), "pwrite " + fd);
                assertFails(posix, Errno.EBADF, posix.lseek(fd, 0, Fcntl.SEEK_SET), "lseek " + fd);
                assertFails(posix, Errno.EBADF, posix.fsync(fd), "fsync " + fd);
                assertFails(posix, Errno.EBADF, posix.ftruncate(fd, 0), "ftruncate " + fd);
                assertFails(posix, Errno.EBADF, posix.fstat(fd, cString(posix, 0x10000, "x")), "fstat " + fd);
                assertNull(posix.fstat(fd));
                assertEquals(Errno.EBADF, posix.lastError());
            }
            return 0;
        });
        assertEquals("data", Files.readString(root.resolve("file")));
    }

    @Test
    void appendWritesAlwaysGoToTheEnd() throws Exception
    {
        Files.writeString(root.resolve("log"), "start;");
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("log", Fcntl.O_RDWR | Fcntl.O_APPEND), "open");
            assertEquals(0, posix.lseek(fd, 0, Fcntl.SEEK_CUR));
            writeAll(posix, fd, ascii("one;"));
            assertEquals(10, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "the offset follows the append");
            assertEquals(0, posix.lseek(fd, 0, Fcntl.SEEK_SET));
            writeAll(posix, fd, ascii("two;"));
            assertEquals(14, posix.lseek(fd, 0, Fcntl.SEEK_CUR));
            // Writing nothing has no effect: the offset does not jump to the end (as on Linux).
            assertEquals(3, posix.lseek(fd, 3, Fcntl.SEEK_SET));
            assertEquals(0, posix.write(fd, new byte[0], 0, 0));
            assertEquals(3, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "a zero-byte append write leaves the offset");
            // F_SETFL turns O_APPEND off for the description: the next write goes to the offset.
            check(posix, posix.fcntl(fd, Fcntl.F_SETFL, 0), "F_SETFL");
            assertEquals(0, posix.lseek(fd, 0, Fcntl.SEEK_SET));
            writeAll(posix, fd, ascii("START"));
            check(posix, posix.fcntl(fd, Fcntl.F_SETFL, Fcntl.O_APPEND), "F_SETFL");
            writeAll(posix, fd, ascii("three;"));
            return 0;
        });
        assertEquals("START;one;two;three;", Files.readString(root.resolve("log")));
    }

    @Test
    void largeTransfersGoWholeThroughTheKernelBuffer() throws Exception
    {
        final byte[] data = new byte[200_000];
        new Random(7).nextBytes(data);
        run(posix ->
        {
            final Capability buf = buffer(posix, 0x10000, data.length);
            posix.memory().storeBytes(buf, 0, data, 0, data.length);
            final int fd = (int)check(posix, posix.open("big", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644), "open");
            assertEquals(data.length, posix.write(fd, buf, data.length));
            assertEquals(data.length, posix.lseek(fd, 0, Fcntl.SEEK_CUR));
            posix.memory().storeBytes(buf, 0, new byte[data.length], 0, data.length);
            assertEquals(0, posix.lseek(fd, 0, Fcntl.SEEK_SET));
            // A regular file's read fills the buffer: one call, every byte.
            assertEquals(data.length, posix.read(fd, buf, data.length + 1000 - 1000));
            final byte[] back = new byte[data.length];
            posix.memory().loadBytes(buf, 0, back, 0, back.length);
            assertArrayEquals(data, back);
            assertEquals(0, posix.read(fd, buf, data.length), "end of file");
            // pread from the middle, across chunk boundaries.
            final Capability small = buffer(posix, 0x80000, 100_000);
            assertEquals(100_000, posix.pread(fd, small, 100_000, 70_000));
            final byte[] middle = new byte[100_000];
            posix.memory().loadBytes(small, 0, middle, 0, middle.length);
            assertArrayEquals(Arrays.copyOfRange(data, 70_000, 170_000), middle);
            return 0;
        });
        assertArrayEquals(data, Files.readAllBytes(root.resolve("big")));
    }

    @Test
    void badBuffersFailWithEfaultAndTransferNothing() throws Exception
    {
        Files.writeString(root.resolve("file"), "0123456789");
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("file", Fcntl.O_RDWR), "open");
            final Capability small = buffer(posix, 0x10000, 4);
            final Capability readOnly = buffer(posix, 0x10000, 16).andPermissions(Permissions.DATA_READ);
            final Capability outside = posix.area().add(posix.area().length() - 8).setBoundsExact(8).add(8);
            assertFails(posix, Errno.EFAULT, posix.read(fd, small, 10), "read past the buffer");
            assertEquals(0, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "nothing was consumed");
            assertFails(posix, Errno.EFAULT, posix.read(fd, readOnly, 10), "read into a read-only buffer");
            assertFails(posix, Errno.EFAULT, posix.pread(fd, small, 10, 0), "pread past the buffer");
            assertFails(posix, Errno.EFAULT, posix.write(fd, Capability.NULL, 10), "write from NULL");
            assertFails(posix, Errno.EFAULT, posix.pwrite(fd, outside, 1, 0), "pwrite from past the area");
            assertEquals(0, posix.lseek(fd, 0, Fcntl.SEEK_CUR));
            assertFails(posix, Errno.EINVAL, posix.read(fd, small, -1), "negative count");
            assertFails(posix, Errno.EINVAL, posix.pread(fd, small, -1, 0), "negative pread count");
            return 0;
        });
        assertEquals("0123456789", Files.readString(root.resolve("file")));
    }

    // ------------------------------------------------------------------------------------------------------------
    // lseek, pread, pwrite

    @Test
    void lseekMovesTheOffsetAndLeavesHolesBehindTheEnd() throws Exception
    {
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("f", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644), "open");
            writeAll(posix, fd, ascii("abcdef"));
            assertEquals(2, posix.lseek(fd, 2, Fcntl.SEEK_SET));
            assertEquals(5, posix.lseek(fd, 3, Fcntl.SEEK_CUR));
            assertEquals(3, posix.lseek(fd, -2, Fcntl.SEEK_CUR));
            assertEquals(4, posix.lseek(fd, -2, Fcntl.SEEK_END));
            assertFails(posix, Errno.EINVAL, posix.lseek(fd, -1, Fcntl.SEEK_SET), "negative result");
            assertFails(posix, Errno.EINVAL, posix.lseek(fd, -7, Fcntl.SEEK_END), "negative result from the end");
            assertFails(posix, Errno.EINVAL, posix.lseek(fd, Long.MAX_VALUE, Fcntl.SEEK_END), "overflow");
            assertFails(posix, Errno.EINVAL, posix.lseek(fd, 0, 3), "SEEK_DATA is not supported");
            assertFails(posix, Errno.EINVAL, posix.lseek(fd, 0, 99), "unknown whence");
            assertEquals(4, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "failed seeks moved nothing");
            assertEquals(10, posix.lseek(fd, 4, Fcntl.SEEK_END));
            assertEquals(6, posix.fstat(fd).size(), "seeking past the end does not grow the file");
            writeAll(posix, fd, ascii("Z"));
            final byte[] all = new byte[11];
            assertEquals(11, posix.pread(fd, all, 0, 11, 0));
            assertArrayEquals(new byte[] {'a', 'b', 'c', 'd', 'e', 'f', 0, 0, 0, 0, 'Z'}, all);
            final int[] pipe = new int[2];
            check(posix, posix.pipe(pipe), "pipe");
            assertFails(posix, Errno.ESPIPE, posix.lseek(pipe[0], 0, Fcntl.SEEK_CUR), "lseek on a pipe");
            return 0;
        });
    }

    @Test
    void preadAndPwriteLeaveTheOffsetAlone() throws Exception
    {
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("f", Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_APPEND, 0644),
                "open");
            writeAll(posix, fd, ascii("0123456789"));
            assertEquals(10, posix.lseek(fd, 0, Fcntl.SEEK_CUR));
            assertEquals(3, posix.pwrite(fd, ascii("abc"), 0, 3, 2));
            assertEquals(3, posix.pwrite(fd, ascii("XYZ"), 0, 3, 15));
            assertEquals(10, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "pwrite did not move the offset");
            final byte[] b = new byte[32];
            assertEquals(18, posix.pread(fd, b, 0, 32, 0));
            assertArrayEquals(new byte[] {'0', '1', 'a', 'b', 'c', '5', '6', '7', '8', '9', 0, 0, 0, 0, 0, 'X', 'Y',
                'Z'}, Arrays.copyOf(b, 18));
            assertEquals(0, posix.pread(fd, b, 0, 32, 100), "past the end");
            assertEquals(10, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "pread did not move the offset");
            assertFails(posix, Errno.EINVAL, posix.pread(fd, b, 0, 4, -1), "negative pread offset");
            assertFails(posix, Errno.EINVAL, posix.pwrite(fd, b, 0, 4, -1), "negative pwrite offset");
            assertFails(posix, Errno.EINVAL, posix.pwrite(fd, buffer(posix, 0x10000, 16), 16, Long.MAX_VALUE - 8),
                "offset + count overflows");
            assertEquals(0, posix.pread(fd, b, 0, 0, 0), "zero bytes");
            final int[] pipe = new int[2];
            check(posix, posix.pipe(pipe), "pipe");
            assertFails(posix, Errno.ESPIPE, posix.pread(pipe[0], b, 0, 4, 0), "pread on a pipe");
            assertFails(posix, Errno.ESPIPE, posix.pwrite(pipe[1], b, 0, 4, 0), "pwrite on a pipe");
            assertFails(posix, Errno.ESPIPE, posix.pread(pipe[0], b, 0, 0, 0), "pread of nothing on a pipe");
            return 0;
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // fsync, ftruncate

    @Test
    void fsyncWorksOnFilesAndDirectoriesOnly() throws Exception
    {
        Files.createDirectory(root.resolve("dir"));
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("f", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644), "open");
            writeAll(posix, fd, ascii("durable"));
            assertEquals(0, posix.fsync(fd));
            final int readOnly = (int)check(posix, posix.open("f", Fcntl.O_RDONLY), "open");
            assertEquals(0, posix.fsync(readOnly));
            assertEquals(0, posix.fsync((int)check(posix, posix.open("dir", Fcntl.O_RDONLY), "open dir")));
            final int[] pipe = new int[2];
            check(posix, posix.pipe(pipe), "pipe");
            assertFails(posix, Errno.EINVAL, posix.fsync(pipe[1]), "fsync of a pipe");
            return 0;
        });
    }

    @Test
    void ftruncateCutsAndExtendsWithZeros() throws Exception
    {
        Files.writeString(root.resolve("f"), "0123456789");
        Files.createDirectory(root.resolve("dir"));
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("f", Fcntl.O_RDWR), "open");
            assertEquals(8, posix.lseek(fd, 8, Fcntl.SEEK_SET));
            assertEquals(0, posix.ftruncate(fd, 4));
            assertEquals(4, posix.fstat(fd).size());
            assertEquals(8, posix.lseek(fd, 0, Fcntl.SEEK_CUR), "the offset does not move");
            assertEquals(0, posix.read(fd, new byte[4], 0, 4), "reading past the new end");
            assertEquals(0, posix.ftruncate(fd, 7));
            final byte[] all = new byte[7];
            assertEquals(7, posix.pread(fd, all, 0, 7, 0));
            assertArrayEquals(new byte[] {'0', '1', '2', '3', 0, 0, 0}, all);
            assertEquals(0, posix.ftruncate(fd, 7), "to the same size");
            assertFails(posix, Errno.EINVAL, posix.ftruncate(fd, -1), "negative length");
            assertFails(posix, Errno.EINVAL, posix.ftruncate(-1, -1), "negative length before a bad descriptor");
            final int readOnly = (int)check(posix, posix.open("f", Fcntl.O_RDONLY), "open");
            assertFails(posix, Errno.EINVAL, posix.ftruncate(readOnly, 0), "not open for writing");
            assertFails(posix, Errno.EINVAL, posix.ftruncate((int)check(posix, posix.open("dir", Fcntl.O_RDONLY),
                "open"), 0), "a directory");
            final int[] pipe = new int[2];
            check(posix, posix.pipe(pipe), "pipe");
            assertFails(posix, Errno.EINVAL, posix.ftruncate(pipe[1], 0), "a pipe");
            return 0;
        });
        assertEquals(7, Files.size(root.resolve("f")));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Directories as files

    @Test
    void directoriesOpenReadOnlyAndCannotBeRead() throws Exception
    {
        Files.createDirectory(root.resolve("dir"));
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("dir", Fcntl.O_RDONLY), "open");
            assertFails(posix, Errno.EISDIR, posix.read(fd, buffer(posix, 0x10000, 16), 16), "read a directory");
            assertFails(posix, Errno.EISDIR, posix.pread(fd, new byte[16], 0, 16, 0), "pread a directory");
            assertEquals(5, posix.lseek(fd, 5, Fcntl.SEEK_SET));
            assertEquals(7, posix.lseek(fd, 2, Fcntl.SEEK_CUR));
            assertFails(posix, Errno.EINVAL, posix.lseek(fd, 0, Fcntl.SEEK_END), "SEEK_END on a directory");
            assertFails(posix, Errno.EINVAL, posix.lseek(fd, -8, Fcntl.SEEK_CUR), "negative");
            assertTrue(Stat.S_ISDIR(posix.fstat(fd).mode()));
            return 0;
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // stat, lstat, fstat

    @Test
    void statLayoutInMemoryMatchesLinuxX8664() throws Exception
    {
        final Path file = root.resolve("f");
        Files.writeString(file, "twelve bytes");
        Files.setLastModifiedTime(file, FileTime.from(1_700_000_000_123_456_789L, TimeUnit.NANOSECONDS));
        Files.createLink(root.resolve("hard"), file);
        final Map<String, Object> host = Files.readAttributes(file, "unix:*");
        run(posix ->
        {
            final Capability statbuf = buffer(posix, 0x20000, Stat.SIZE);
            posix.memory().storeBytes(statbuf, 0, filled(Stat.SIZE, (byte)0x5A), 0, Stat.SIZE);
            assertEquals(0, posix.stat(cString(posix, 0x10000, "f"), statbuf));
            final byte[] raw = new byte[Stat.SIZE];
            posix.memory().loadBytes(statbuf, 0, raw, 0, raw.length);
            final ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals((long)(Long)host.get("dev"), b.getLong(0), "st_dev");
            assertEquals((long)(Long)host.get("ino"), b.getLong(8), "st_ino");
            assertEquals(2, b.getLong(16), "st_nlink: two names");
            assertEquals(Stat.S_IFREG | 0644, b.getInt(24), "st_mode");
            assertEquals((int)(Integer)host.get("uid"), b.getInt(28), "st_uid");
            assertEquals((int)(Integer)host.get("gid"), b.getInt(32), "st_gid");
            assertEquals(0, b.getInt(36), "padding");
            assertEquals(0, b.getLong(40), "st_rdev");
            assertEquals(12, b.getLong(48), "st_size");
            assertEquals(Stat.BLOCK_SIZE, b.getLong(56), "st_blksize");
            assertEquals(1, b.getLong(64), "st_blocks");
            assertEquals(1_700_000_000L, b.getLong(88), "st_mtim.tv_sec");
            assertEquals(123_456_789L, b.getLong(96), "st_mtim.tv_nsec");
            for (int i = 120; i < Stat.SIZE; i++)
            {
                assertEquals(0, raw[i], "reserved byte " + i);
            }
            // The record form agrees with the bytes.
            final Stat record = posix.stat("/f");
            assertArrayEquals(raw, record.toBytes());
            assertTrue(Stat.S_ISREG(record.mode()));
            return 0;
        });
    }

    @Test
    void statFollowsLinksLstatDoesNot() throws Exception
    {
        Files.createDirectory(root.resolve("dir"));
        Files.writeString(root.resolve("dir/f"), "abc");
        Files.createSymbolicLink(root.resolve("link"), Path.of("dir/f"));
        Files.createSymbolicLink(root.resolve("dirlink"), Path.of("dir"));
        run(posix ->
        {
            final Stat followed = posix.stat("link");
            assertTrue(Stat.S_ISREG(followed.mode()));
            assertEquals(3, followed.size());
            final Stat link = posix.lstat("link");
            assertTrue(Stat.S_ISLNK(link.mode()), "lstat reports the link");
            assertEquals(5, link.size(), "a link's size is its text's length");
            assertTrue(Stat.S_ISDIR(posix.stat("dir").mode()));
            assertTrue(Stat.S_ISDIR(posix.stat("/").mode()));
            assertTrue(Stat.S_ISLNK(posix.lstat("dirlink").mode()));
            assertTrue(Stat.S_ISDIR(posix.lstat("dirlink/").mode()), "a trailing slash follows the link");
            assertEquals(posix.stat("dir").ino(), posix.stat("dir/.").ino());
            assertEquals(posix.stat("/").ino(), posix.stat("dir/..").ino());
            final Capability statbuf = buffer(posix, 0x20000, Stat.SIZE);
            assertEquals(0, posix.lstat(cString(posix, 0x10000, "link"), statbuf));
            assertEquals(Stat.S_IFLNK, posix.memory().loadInt(statbuf, Stat.ST_MODE) & Stat.S_IFMT);
            assertNull(posix.stat("missing"));
            assertEquals(Errno.ENOENT, posix.lastError());
            assertNull(posix.stat("dir/f/x"));
            assertEquals(Errno.ENOTDIR, posix.lastError());
            assertNull(posix.stat("link/"));
            assertEquals(Errno.ENOTDIR, posix.lastError());
            assertFails(posix, Errno.EFAULT, posix.stat(cString(posix, 0x10000, "link"), buffer(posix, 0x20000,
                Stat.SIZE - 1)), "a statbuf one byte short");
            assertFails(posix, Errno.ENOENT, posix.stat(cString(posix, 0x10000, "missing"), statbuf), "stat missing");
            return 0;
        });
    }

    @Test
    void fstatFollowsTheOpenFileThroughRenameAndUnlink() throws Exception
    {
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("f", Fcntl.O_RDWR | Fcntl.O_CREAT, 0600), "open");
            writeAll(posix, fd, ascii("12345"));
            final Stat before = posix.fstat(fd);
            assertEquals(Stat.S_IFREG | 0600, before.mode());
            assertEquals(5, before.size());
            assertEquals(1, before.nlink());
            assertEquals(before, posix.stat("f"));
            check(posix, posix.rename("f", "g"), "rename");
            final Stat renamed = posix.fstat(fd);
            assertEquals(before.ino(), renamed.ino());
            assertEquals(1, renamed.nlink());
            check(posix, posix.unlink("g"), "unlink");
            writeAll(posix, fd, ascii("678"));
            final Stat unlinked = posix.fstat(fd);
            assertEquals(before.ino(), unlinked.ino(), "still the same file");
            assertEquals(0, unlinked.nlink(), "no names left");
            assertEquals(8, unlinked.size(), "and it still grows");
            final byte[] all = new byte[8];
            assertEquals(8, posix.pread(fd, all, 0, 8, 0));
            assertEquals("12345678", ascii(all));
            final int[] pipe = new int[2];
            check(posix, posix.pipe(pipe), "pipe");
            assertTrue(Stat.S_ISFIFO(posix.fstat(pipe[0]).mode()));
            assertTrue(Stat.S_ISCHR(posix.fstat(0).mode()), "stdin is /dev/null");
            final Capability statbuf = buffer(posix, 0x20000, Stat.SIZE);
            assertEquals(0, posix.fstat(fd, statbuf));
            assertEquals(8, posix.memory().loadLong(statbuf, Stat.ST_SIZE));
            assertFails(posix, Errno.EFAULT, posix.fstat(fd, Capability.NULL), "fstat into NULL");
            return 0;
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // mkdir, rmdir, unlink, rename

    @Test
    void mkdirAndRmdir() throws Exception
    {
        Files.writeString(root.resolve("file"), "");
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("nowhere"));
        run(posix ->
        {
            assertEquals(0, posix.mkdir(cString(posix, 0x10000, "d"), 0777));
            assertEquals(Stat.S_IFDIR | 0755, posix.stat("d").mode());
            assertEquals(0, posix.mkdir("d/e/", 0700));
            assertEquals(Stat.S_IFDIR | 0700, posix.stat("d/e").mode());
            assertFails(posix, Errno.EEXIST, posix.mkdir("d", 0777), "mkdir of a directory");
            assertFails(posix, Errno.EEXIST, posix.mkdir("file", 0777), "mkdir of a file");
            assertFails(posix, Errno.EEXIST, posix.mkdir("dangling", 0777), "mkdir of a dangling link");
            assertFails(posix, Errno.EEXIST, posix.mkdir("/", 0777), "mkdir of the root");
            assertFails(posix, Errno.EEXIST, posix.mkdir("d/.", 0777), "mkdir of .");
            assertFails(posix, Errno.ENOENT, posix.mkdir("x/y", 0777), "no parent");
            assertFails(posix, Errno.ENOTDIR, posix.mkdir("file/y", 0777), "a file as parent");
            assertFails(posix, Errno.ENOTEMPTY, posix.rmdir("d"), "rmdir of a non-empty directory");
            assertFails(posix, Errno.ENOTDIR, posix.rmdir("file"), "rmdir of a file");
            assertFails(posix, Errno.ENOTDIR, posix.rmdir("dangling"), "rmdir of a link");
            assertFails(posix, Errno.ENOENT, posix.rmdir("nothing"), "rmdir of nothing");
            assertFails(posix, Errno.EBUSY, posix.rmdir("/"), "rmdir of the root");
            assertFails(posix, Errno.EINVAL, posix.rmdir("d/e/."), "rmdir of .");
            assertFails(posix, Errno.ENOTEMPTY, posix.rmdir("d/e/.."), "rmdir of ..");
            assertEquals(0, posix.rmdir(cString(posix, 0x10000, "d/e/")));
            assertEquals(0, posix.rmdir("d"));
            assertNull(posix.stat("d"));
            return 0;
        });
        try (var children = Files.list(root))
        {
            assertEquals(java.util.Set.of("file", "dangling"), children.map(p -> p.getFileName().toString())
                .collect(java.util.stream.Collectors.toSet()), "no staging directory is left in the root");
        }
    }

    @Test
    void unlinkRemovesNamesNotDirectories() throws Exception
    {
        Files.createDirectory(root.resolve("dir"));
        Files.writeString(root.resolve("target"), "kept");
        Files.createSymbolicLink(root.resolve("link"), Path.of("target"));
        Files.writeString(root.resolve("f"), "x");
        run(posix ->
        {
            assertFails(posix, Errno.EISDIR, posix.unlink("dir"), "unlink of a directory");
            assertFails(posix, Errno.EISDIR, posix.unlink("dir/"), "unlink of a directory with a slash");
            assertFails(posix, Errno.EISDIR, posix.unlink("/"), "unlink of the root");
            assertFails(posix, Errno.ENOTDIR, posix.unlink("f/"), "unlink of a file with a slash");
            assertFails(posix, Errno.ENOENT, posix.unlink("missing"), "unlink of nothing");
            assertFails(posix, Errno.ENOENT, posix.unlink(cString(posix, 0x10000, "dir/missing")), "unlink missing");
            assertEquals(0, posix.unlink("link"), "the link goes, not its target");
            assertEquals(0, posix.unlink(cString(posix, 0x10000, "f")));
            return 0;
        });
        assertFalse(Files.exists(root.resolve("link"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(root.resolve("f")));
        assertEquals("kept", Files.readString(root.resolve("target")));
    }

    @Test
    void renameReplacesAtomicallyAndRefusesWhatLinuxRefuses() throws Exception
    {
        Files.writeString(root.resolve("a"), "A");
        Files.writeString(root.resolve("b"), "B");
        Files.createDirectories(root.resolve("d1/sub"));
        Files.createDirectory(root.resolve("d2"));
        Files.createDirectory(root.resolve("empty"));
        Files.createLink(root.resolve("a2"), root.resolve("a"));
        Files.createSymbolicLink(root.resolve("sym"), Path.of("b"));
        run(posix ->
        {
            final int held = (int)check(posix, posix.open("b", Fcntl.O_RDONLY), "open");
            assertEquals(0, posix.rename(cString(posix, 0x10000, "a"), cString(posix, 0x11000, "b")));
            assertNull(posix.stat("a"));
            final int fresh = (int)check(posix, posix.open("b", Fcntl.O_RDONLY), "open");
            assertEquals("A", ascii(readToEnd(posix, fresh)));
            assertEquals("B", ascii(readToEnd(posix, held)), "an open description keeps the replaced file");
            assertEquals(0, posix.rename("a2", "b"), "two names of one file: nothing happens");
            assertTrue(posix.stat("a2") != null && posix.stat("b") != null);
            assertFails(posix, Errno.EISDIR, posix.rename("b", "d2"), "a file over a directory");
            assertFails(posix, Errno.ENOTDIR, posix.rename("d2", "b"), "a directory over a file");
            assertFails(posix, Errno.ENOTEMPTY, posix.rename("d2", "d1"), "over a non-empty directory");
            assertFails(posix, Errno.EINVAL, posix.rename("d1", "d1/sub/inside"), "a directory into itself");
            assertFails(posix, Errno.ENOENT, posix.rename("missing", "x"), "nothing to rename");
            assertFails(posix, Errno.ENOENT, posix.rename("b", "nodir/x"), "no target directory");
            assertFails(posix, Errno.EBUSY, posix.rename("d1/.", "x"), "rename .");
            assertFails(posix, Errno.EBUSY, posix.rename("b", "/"), "rename over the root");
            assertFails(posix, Errno.ENOTDIR, posix.rename("b", "c/"), "a file to a name with a slash");
            assertEquals(0, posix.rename("d2", "empty"), "a directory over an empty one");
            assertEquals(0, posix.rename("empty", "d1/sub/moved/"), "a directory to a name with a slash");
            assertEquals(0, posix.rename("sym", "sym2"), "a link is renamed, not followed");
            assertTrue(Stat.S_ISLNK(posix.lstat("sym2").mode()));
            return 0;
        });
        assertTrue(Files.isDirectory(root.resolve("d1/sub/moved")));
        assertEquals("A", Files.readString(root.resolve("b")));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Path arguments

    @Test
    void pathArgumentsAreCheckedCStrings() throws Exception
    {
        Files.writeString(root.resolve("f"), "");
        final String longName = "n".repeat(HostFileSystem.NAME_MAX);
        run(posix ->
        {
            final Capability noNul = buffer(posix, 0x10000, 1);
            posix.memory().storeByte(noNul, 0, (byte)'f');
            assertFails(posix, Errno.EFAULT, posix.open(noNul, Fcntl.O_RDONLY, 0), "no NUL within the bounds");
            assertFails(posix, Errno.EFAULT, posix.open(Capability.NULL, Fcntl.O_RDONLY, 0), "NULL path");
            assertFails(posix, Errno.EFAULT, posix.open(cString(posix, 0x10000, "f").andPermissions(
                Permissions.DATA_READ_WRITE & ~dev.ufork.capability.Permission.LOAD.mask()), Fcntl.O_RDONLY, 0),
                "a path without LOAD");
            final Capability past = posix.area().add(posix.area().length());
            assertFails(posix, Errno.EFAULT, posix.open(past, Fcntl.O_RDONLY, 0), "a path past the area");
            assertFails(posix, Errno.EFAULT, posix.unlink(noNul), "unlink");
            assertFails(posix, Errno.EFAULT, posix.mkdir(noNul, 0777), "mkdir");
            assertFails(posix, Errno.EFAULT, posix.rmdir(noNul), "rmdir");
            assertFails(posix, Errno.EFAULT, posix.rename(cString(posix, 0x11000, "f"), noNul), "rename");
            assertFails(posix, Errno.EFAULT, posix.stat(noNul, buffer(posix, 0x20000, Stat.SIZE)), "stat");
            // A string exactly at the end of its capability is fine.
            assertEquals(0, posix.close((int)check(posix, posix.open(cString(posix, 0x10000, "f"), Fcntl.O_RDONLY,
                0), "open")));
            // 4096 bytes without a NUL: too long, whatever the bounds.
            final Capability big = buffer(posix, 0x30000, 8192);
            posix.memory().storeBytes(big, 0, filled(8192, (byte)'a'), 0, 8192);
            assertFails(posix, Errno.ENAMETOOLONG, posix.open(big, Fcntl.O_RDONLY, 0), "no NUL in PATH_MAX");
            posix.memory().storeByte(big, 4095, (byte)0);
            assertFails(posix, Errno.ENAMETOOLONG, posix.open(big, Fcntl.O_RDONLY, 0), "a component too long");
            final String deep = "a/".repeat(2047) + "b";
            assertEquals(4095, deep.length());
            assertFails(posix, Errno.ENOENT, posix.open(deep, Fcntl.O_RDONLY), "4095 bytes is not too long");
            assertFails(posix, Errno.ENAMETOOLONG, posix.open(deep + "c", Fcntl.O_RDONLY), "4096 bytes is");
            assertFails(posix, Errno.ENAMETOOLONG, posix.open(longName + "x", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644),
                "256-byte name");
            check(posix, posix.open(longName, Fcntl.O_RDWR | Fcntl.O_CREAT, 0644), "255-byte name");
            final Capability latin1 = buffer(posix, 0x10000, 3);
            posix.memory().storeBytes(latin1, 0, new byte[] {'f', (byte)0xE9, 0}, 0, 3);
            assertFails(posix, Errno.EINVAL, posix.open(latin1, Fcntl.O_RDWR | Fcntl.O_CREAT, 0644), "not UTF-8");
            final int utf8 = (int)check(posix, posix.open("caf\u00e9 \u2603", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644),
                "UTF-8 name");
            assertEquals(0, posix.close(utf8));
            return 0;
        });
        assertTrue(Files.exists(root.resolve(longName)));
        assertTrue(Files.exists(root.resolve("caf\u00e9 \u2603")));
        try (var children = Files.list(root))
        {
            assertEquals(3, children.count(), "nothing else was created");
        }
    }

    @Test
    void emfileIsReportedBeforeAnythingIsCreated() throws Exception
    {
        run(posix ->
        {
            final int limit = 64;
            for (int fd = 3; fd < limit; fd++)
            {
                assertEquals(fd, posix.open("/", Fcntl.O_RDONLY));
            }
            assertFails(posix, Errno.EMFILE, posix.open("new", Fcntl.O_RDWR | Fcntl.O_CREAT, 0644), "EMFILE");
            assertNull(posix.stat("new"), "the file was not created");
            assertEquals(0, posix.close(10));
            assertEquals(10, posix.open("new", Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_CLOEXEC, 0644));
            assertEquals(Fcntl.FD_CLOEXEC, posix.fcntl(10, Fcntl.F_GETFD, 0));
            return 0;
        });
    }

    @Test
    void dupSharesTheOffset() throws Exception
    {
        Files.writeString(root.resolve("f"), "abcdef");
        run(posix ->
        {
            final int fd = (int)check(posix, posix.open("f", Fcntl.O_RDONLY), "open");
            final int copy = (int)check(posix, posix.dup(fd), "dup");
            final int other = (int)check(posix, posix.open("f", Fcntl.O_RDONLY), "open again");
            final byte[] two = new byte[2];
            assertEquals(2, posix.read(fd, two, 0, 2));
            assertEquals("cd", ascii(readExactly(posix, copy, 2)), "dup shares the offset");
            assertEquals("ab", ascii(readExactly(posix, other, 2)), "another open has its own");
            assertEquals(0, posix.close(fd));
            assertEquals("ef", ascii(readExactly(posix, copy, 2)), "the description outlives one descriptor");
            return 0;
        });
    }

    private static byte[] readExactly(final Posix posix, final int fd, final int n)
    {
        final byte[] b = new byte[n];
        assertEquals(n, posix.read(fd, b, 0, n));
        return b;
    }

    private static byte[] filled(final int n, final byte value)
    {
        final byte[] b = new byte[n];
        Arrays.fill(b, value);
        return b;
    }
}
