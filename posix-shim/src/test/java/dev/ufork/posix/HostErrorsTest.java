package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** What the host reports through Java becomes the errno a C program would see. */
class HostErrorsTest
{
    @Test
    void typedExceptionsMapByType()
    {
        assertEquals(Errno.ENOENT, HostErrors.errno(new NoSuchFileException("f")));
        assertEquals(Errno.EEXIST, HostErrors.errno(new FileAlreadyExistsException("f")));
        assertEquals(Errno.EACCES, HostErrors.errno(new AccessDeniedException("f")));
        assertEquals(Errno.ENOTDIR, HostErrors.errno(new NotDirectoryException("f")));
        assertEquals(Errno.ENOTEMPTY, HostErrors.errno(new DirectoryNotEmptyException("f")));
        assertEquals(Errno.EXDEV, HostErrors.errno(new AtomicMoveNotSupportedException("a", "b", "x")));
        assertEquals(Errno.EBADF, HostErrors.errno(new ClosedChannelException()));
    }

    @Test
    void otherErrorsMapByTheHostsMessage()
    {
        // As Java reports them: a FileSystemException's reason, or a plain IOException's message (FileChannel I/O).
        assertEquals(Errno.ENOSPC, HostErrors.errno(new FileSystemException("f", null, "No space left on device")));
        assertEquals(Errno.ENOSPC, HostErrors.errno(new IOException("No space left on device")));
        assertEquals(Errno.ENOSPC, HostErrors.errno(new IOException("Disk quota exceeded")));
        assertEquals(Errno.EISDIR, HostErrors.errno(new FileSystemException("d", null, "Is a directory")));
        assertEquals(Errno.ENOTDIR, HostErrors.errno(new FileSystemException("f", null, "Not a directory")));
        assertEquals(Errno.ENOTEMPTY, HostErrors.errno(new FileSystemException("d", "e", "Directory not empty")));
        assertEquals(Errno.ELOOP, HostErrors.errno(new FileSystemException("l", null,
            "Too many levels of symbolic links or unable to access attributes of symbolic link")));
        assertEquals(Errno.ELOOP, HostErrors.errno(new IOException(
            "Too many levels of symbolic links (NOFOLLOW_LINKS specified)")));
        assertEquals(Errno.EROFS, HostErrors.errno(new IOException("Read-only file system")));
        assertEquals(Errno.EFBIG, HostErrors.errno(new IOException("File too large")));
        assertEquals(Errno.EINVAL, HostErrors.errno(new FileSystemException("a", "b", "Invalid argument")));
        assertEquals(Errno.ENAMETOOLONG, HostErrors.errno(new FileSystemException("n", null, "File name too long")));
        assertEquals(Errno.EBUSY, HostErrors.errno(new FileSystemException("m", null, "Device or resource busy")));
        assertEquals(Errno.EXDEV, HostErrors.errno(new FileSystemException("a", "b", "Invalid cross-device link")));
        assertEquals(Errno.EPERM, HostErrors.errno(new FileSystemException("f", null, "Operation not permitted")));
    }

    @Test
    void theHostOutOfDescriptorsIsEnfileAndTheUnknownIsEio()
    {
        assertEquals(Errno.ENFILE, HostErrors.errno(new IOException("Too many open files")));
        assertEquals(Errno.ENFILE, HostErrors.errno(new IOException("Too many open files in system")));
        assertEquals(Errno.EIO, HostErrors.errno(new IOException("Input/output error")));
        assertEquals(Errno.EIO, HostErrors.errno(new IOException("Kein Platz mehr auf dem Gerät")));
        assertEquals(Errno.EIO, HostErrors.errno(new IOException((String)null)));
        final IOException cause = new IOException("No space left on device");
        assertSame(cause, HostErrors.of(cause, "write f").getCause());
        assertEquals(Errno.ENOSPC, HostErrors.of(cause, "write f").errno());
    }
}
