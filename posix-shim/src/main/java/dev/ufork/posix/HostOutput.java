package dev.ufork.posix;

import java.io.PrintStream;
import java.nio.ByteBuffer;

/**
 * The host JVM's standard output or error as a write-only file, for descriptors 1 and 2 of spawned µprocesses when
 * {@link PosixConfig#hostStdio()} is set. Each write goes out whole and is flushed.
 * <p>
 * Thread safety: writes are serialized by the stream.
 */
final class HostOutput extends OpenFile
{
    private final PrintStream stream;
    private final String name;

    HostOutput(final PrintStream stream, final String name)
    {
        super(Fcntl.O_WRONLY);
        this.stream = stream;
        this.name = name;
    }

    @Override
    void closeLast()
    {
        stream.flush();
    }

    @Override
    long write(final Posix caller, final ByteBuffer src)
    {
        final int n = src.remaining();
        final byte[] bytes = new byte[n];
        src.get(bytes);
        synchronized (stream)
        {
            stream.write(bytes, 0, n);
            stream.flush();
        }
        return n;
    }

    @Override
    int poll(final Posix caller, final int events)
    {
        return events & Fcntl.POLLOUT;
    }

    @Override
    public String toString()
    {
        return name;
    }
}
