package dev.ufork.apps.kv;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/** Reads one complete RESP2 reply from a stream and returns its exact bytes (tests only). */
final class RespReader
{
    private final InputStream in;

    RespReader(final InputStream in)
    {
        this.in = in;
    }

    byte[] reply() throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        read(out);
        return out.toByteArray();
    }

    private String line(final ByteArrayOutputStream out) throws IOException
    {
        final StringBuilder s = new StringBuilder();
        while (true)
        {
            final int b = in.read();
            if (b < 0)
            {
                throw new IOException("connection closed mid-reply after " + out.size() + " bytes");
            }
            out.write(b);
            if (b == '\n' && s.length() > 0 && s.charAt(s.length() - 1) == '\r')
            {
                return s.substring(0, s.length() - 1);
            }
            s.append((char)b);
        }
    }

    private void read(final ByteArrayOutputStream out) throws IOException
    {
        final String header = line(out);
        switch (header.charAt(0))
        {
            case '+', '-', ':' ->
            {
            }
            case '$' ->
            {
                final int n = Integer.parseInt(header.substring(1));
                if (n >= 0)
                {
                    out.write(in.readNBytes(n + 2));
                }
            }
            case '*' ->
            {
                final int n = Integer.parseInt(header.substring(1));
                for (int i = 0; i < n; i++)
                {
                    read(out);
                }
            }
            default -> throw new IOException("bad reply header " + header);
        }
    }
}
