package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A regular file opened on the host: the open file description holds the file offset, which every descriptor
 * made from it by {@code dup} or {@code fork} shares.
 * <p>
 * <b>Atomicity.</b> Two locks, taken in this order: the description's, held by every call that uses or moves the
 * offset (read, write, lseek) for its whole length, so two µprocesses reading or writing through one description
 * each get their own stretch of the file and never the same offset; and the file's ({@link HostFileSystem.Inode}),
 * shared by every description of the same host file in this system and held by every call that changes the file
 * (write, pwrite, ftruncate), so that an O_APPEND write finds the end and writes there in one step: appends from
 * any number of µprocesses, through one description or many, never overwrite each other. With
 * {@link #beginTransfer} the libc holds both across all the chunks of one large call, so a write of any size is
 * one piece, as on Linux. Processes outside this system writing the same host file are not covered.
 * <p>
 * Reads fill the buffer unless the file ends ({@link #readsFully()}). A signal never cuts a transfer short (see
 * {@link HostIo}).
 * <p>
 * Where this differs from Linux: {@code pwrite} on an O_APPEND description writes at the offset given, as POSIX
 * says (Linux appends); an offset past {@code Long.MAX_VALUE} gives EINVAL rather than EOVERFLOW.
 * <p>
 * Thread safety: safe for concurrent use by every µprocess sharing the description.
 */
final class RegularFile extends HostFile
{
    private final HostFileSystem.Inode inode;
    private final ReentrantLock lock = new ReentrantLock();
    /** The file offset; guarded by {@link #lock}. */
    private long offset;

    RegularFile(final HostFileSystem fs, final FileChannel channel, final HostFileSystem.Inode inode,
        final Path host, final int flags)
    {
        super(fs, channel, inode.key, host, flags);
        this.inode = inode;
    }

    @Override
    void closeLast()
    {
        super.closeLast();
        fs.release(inode);
    }

    @Override
    void beginTransfer(final boolean writing)
    {
        lock.lock();
        if (writing)
        {
            inode.lock.lock();
        }
    }

    @Override
    void endTransfer(final boolean writing)
    {
        if (writing)
        {
            inode.lock.unlock();
        }
        lock.unlock();
    }

    @Override
    boolean readsFully()
    {
        return true;
    }

    @Override
    long read(final Posix caller, final ByteBuffer dst)
    {
        lock.lock();
        try
        {
            final int n = HostIo.read(channel, dst, offset);
            offset += n;
            return n;
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "read " + this);
        }
        finally
        {
            lock.unlock();
        }
    }

    @Override
    long write(final Posix caller, final ByteBuffer src)
    {
        lock.lock();
        inode.lock.lock();
        try
        {
            final long position = appending() ? HostIo.size(channel) : offset;
            checkEnd(position, src.remaining());
            final int n = HostIo.write(channel, src, position);
            offset = position + n;
            return n;
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "write " + this);
        }
        finally
        {
            inode.lock.unlock();
            lock.unlock();
        }
    }

    @Override
    long pread(final Posix caller, final ByteBuffer dst, final long position)
    {
        try
        {
            return HostIo.read(channel, dst, position);
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "pread " + this);
        }
    }

    @Override
    long pwrite(final Posix caller, final ByteBuffer src, final long position)
    {
        inode.lock.lock();
        try
        {
            checkEnd(position, src.remaining());
            return HostIo.write(channel, src, position);
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "pwrite " + this);
        }
        finally
        {
            inode.lock.unlock();
        }
    }

    private static void checkEnd(final long position, final long count)
    {
        if (count > Long.MAX_VALUE - position)
        {
            throw new ErrnoException(Errno.EFBIG, "a write past the largest file offset");
        }
    }

    @Override
    long lseek(final long delta, final int whence)
    {
        lock.lock();
        try
        {
            final long base = switch (whence)
            {
                case Fcntl.SEEK_SET -> 0;
                case Fcntl.SEEK_CUR -> offset;
                case Fcntl.SEEK_END -> HostIo.size(channel);
                default -> throw new ErrnoException(Errno.EINVAL, "lseek whence " + whence);
            };
            final long target;
            try
            {
                target = Math.addExact(base, delta);
            }
            catch (final ArithmeticException e)
            {
                throw new ErrnoException(Errno.EINVAL, "lseek beyond the largest offset");
            }
            if (target < 0)
            {
                throw new ErrnoException(Errno.EINVAL, "lseek to negative offset " + target);
            }
            offset = target;
            return target;
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "lseek " + this);
        }
        finally
        {
            lock.unlock();
        }
    }

    @Override
    void truncate(final long length)
    {
        inode.lock.lock();
        try
        {
            HostIo.run(() ->
            {
                final long size = channel.size();
                if (length < size)
                {
                    channel.truncate(length);
                }
                else if (length > size)
                {
                    // FileChannel.truncate never grows a file; one zero byte at the new end does, leaving a hole.
                    channel.write(ByteBuffer.allocate(1), length - 1);
                }
                return null;
            });
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "ftruncate " + this);
        }
        finally
        {
            inode.lock.unlock();
        }
    }
}
