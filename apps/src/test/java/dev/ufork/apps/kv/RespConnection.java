package dev.ufork.apps.kv;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A plain RESP client connection for tests: sends multibulk commands or raw bytes, reads exact replies. */
final class RespConnection implements AutoCloseable
{
    private final Socket socket;
    private final OutputStream out;
    private final RespReader reader;

    RespConnection(final int port) throws IOException
    {
        this.socket = new Socket("127.0.0.1", port);
        this.socket.setSoTimeout(120_000);
        this.out = socket.getOutputStream();
        this.reader = new RespReader(new BufferedInputStream(socket.getInputStream()));
    }

    static List<byte[]> args(final String... words)
    {
        final List<byte[]> list = new ArrayList<>();
        for (final String w : words)
        {
            list.add(w.getBytes(StandardCharsets.UTF_8));
        }
        return list;
    }

    byte[] call(final List<byte[]> args) throws IOException
    {
        out.write(RealRedis.encode(args));
        out.flush();
        return reader.reply();
    }

    /** @return the reply as text (RESP framing included). */
    String call(final String... words) throws IOException
    {
        return new String(call(args(words)), StandardCharsets.UTF_8);
    }

    void send(final byte[] raw) throws IOException
    {
        out.write(raw);
        out.flush();
    }

    byte[] reply() throws IOException
    {
        return reader.reply();
    }

    /** @return a field of INFO. */
    String info(final String field) throws IOException
    {
        for (final String line : call("INFO", "all").split("\r\n"))
        {
            if (line.startsWith(field + ":"))
            {
                return line.substring(field.length() + 1);
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException
    {
        socket.close();
    }
}
