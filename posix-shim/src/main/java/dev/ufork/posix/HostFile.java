package dev.ufork.posix;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * An open file description of a file on the host file system: a {@link FileChannel} opened through the root (see
 * {@link HostFileSystem}), whose operations all go through {@link HostIo} so that no signal can close it.
 * <p>
 * Thread safety: safe for concurrent use by every µprocess sharing the description.
 */
abstract class HostFile extends OpenFile
{
    final HostFileSystem fs;
    final FileChannel channel;
    final Object key;
    final Path host;

    /**
     * @param fs      the file system it belongs to.
     * @param channel the open channel; the description owns it.
     * @param key     the file's identity (device and inode), for fstat.
     * @param host    the host path it was opened by.
     * @param flags   the open flags.
     */
    HostFile(final HostFileSystem fs, final FileChannel channel, final Object key, final Path host, final int flags)
    {
        super(flags);
        this.fs = fs;
        this.channel = channel;
        this.key = key;
        this.host = host;
    }

    /** @return the file's attributes now, as fstat reports them. */
    Stat stat()
    {
        return HostStat.ofOpenFile(key, host);
    }

    @Override
    void fsync()
    {
        try
        {
            HostIo.run(() ->
            {
                channel.force(true);
                return null;
            });
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "fsync " + this);
        }
    }

    @Override
    int poll(final Posix caller, final int events)
    {
        // Regular files and directories are always ready, as on Linux.
        return events & (Fcntl.POLLIN | Fcntl.POLLOUT);
    }

    @Override
    void closeLast()
    {
        try
        {
            channel.close();
        }
        catch (final IOException e)
        {
            // close(2) on Linux releases the descriptor even when it reports an error; so does this.
        }
    }

    @Override
    public String toString()
    {
        return host.toString();
    }
}
