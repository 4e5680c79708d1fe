package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A directory opened with {@code open(O_RDONLY)}: it can be {@code fstat}ed, {@code fsync}ed and {@code lseek}ed;
 * reading it fails with EISDIR (there is no {@code getdents}). Its offset is kept but means nothing; SEEK_END fails
 * with EINVAL.
 * <p>
 * Thread safety: safe for concurrent use.
 */
final class DirectoryFile extends HostFile
{
    private long offset;

    DirectoryFile(final HostFileSystem fs, final FileChannel channel, final Object key, final Path host,
        final int flags)
    {
        super(fs, channel, key, host, flags);
    }

    @Override
    long read(final Posix caller, final ByteBuffer dst)
    {
        throw new ErrnoException(Errno.EISDIR, "read of directory " + this);
    }

    @Override
    long pread(final Posix caller, final ByteBuffer dst, final long position)
    {
        throw new ErrnoException(Errno.EISDIR, "pread of directory " + this);
    }

    @Override
    synchronized long lseek(final long delta, final int whence)
    {
        final long base = switch (whence)
        {
            case Fcntl.SEEK_SET -> 0;
            case Fcntl.SEEK_CUR -> offset;
            default -> throw new ErrnoException(Errno.EINVAL, "lseek of directory " + this + " whence " + whence);
        };
        final long target = base + delta;
        if (target < 0 || (delta > 0 && target < base))
        {
            throw new ErrnoException(Errno.EINVAL, "lseek of directory " + this + " to a negative offset");
        }
        offset = target;
        return target;
    }
}
