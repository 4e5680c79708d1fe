package dev.ufork.posix;

import java.nio.ByteBuffer;

/**
 * {@code /dev/null}: reads find end of file, writes vanish, and it is always ready.
 * <p>
 * Thread safety: stateless apart from its flags.
 */
final class NullDevice extends OpenFile
{
    NullDevice(final int flags)
    {
        super(flags);
    }

    @Override
    void closeLast()
    {
    }

    @Override
    long read(final Posix caller, final ByteBuffer dst)
    {
        return 0;
    }

    @Override
    long write(final Posix caller, final ByteBuffer src)
    {
        final int n = src.remaining();
        src.position(src.limit());
        return n;
    }

    @Override
    int poll(final Posix caller, final int events)
    {
        return events & (Fcntl.POLLIN | Fcntl.POLLOUT);
    }

    @Override
    public String toString()
    {
        return "/dev/null";
    }
}
