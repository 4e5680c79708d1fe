package dev.ufork.apps.kv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decoders for the compact encodings Redis stores small collections in inside RDB files, from their documented
 * formats: ziplist (RDB ≤ 9), listpack (RDB ≥ 10) and intset. Each yields the entries as byte strings, integers in
 * their decimal text.
 * <p>
 * Thread safety: stateless.
 */
final class Packed
{
    private Packed()
    {
    }

    private static byte[] text(final long value)
    {
        return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
    }

    private static long le(final byte[] b, final int at, final int n)
    {
        long v = 0;
        for (int i = 0; i < n; i++)
        {
            v |= (b[at + i] & 0xFFL) << (8 * i);
        }
        return v;
    }

    /** Ziplist: zlbytes, zltail, zllen, entries (prevlen, encoding, data), 0xFF. */
    static List<byte[]> ziplist(final byte[] z) throws IOException
    {
        final List<byte[]> out = new ArrayList<>();
        try
        {
            int p = 10;
            while ((z[p] & 0xFF) != 0xFF)
            {
                p += (z[p] & 0xFF) == 0xFE ? 5 : 1;
                final int enc = z[p] & 0xFF;
                switch (enc >>> 6)
                {
                    case 0 ->
                    {
                        final int len = enc & 0x3F;
                        out.add(java.util.Arrays.copyOfRange(z, p + 1, p + 1 + len));
                        p += 1 + len;
                    }
                    case 1 ->
                    {
                        final int len = ((enc & 0x3F) << 8) | (z[p + 1] & 0xFF);
                        out.add(java.util.Arrays.copyOfRange(z, p + 2, p + 2 + len));
                        p += 2 + len;
                    }
                    case 2 ->
                    {
                        final int len = ((z[p + 1] & 0xFF) << 24) | ((z[p + 2] & 0xFF) << 16) | ((z[p + 3] & 0xFF) << 8)
                            | (z[p + 4] & 0xFF);
                        out.add(java.util.Arrays.copyOfRange(z, p + 5, p + 5 + len));
                        p += 5 + len;
                    }
                    default ->
                    {
                        switch (enc)
                        {
                            case 0xC0 ->
                            {
                                out.add(text((short)le(z, p + 1, 2)));
                                p += 3;
                            }
                            case 0xD0 ->
                            {
                                out.add(text((int)le(z, p + 1, 4)));
                                p += 5;
                            }
                            case 0xE0 ->
                            {
                                out.add(text(le(z, p + 1, 8)));
                                p += 9;
                            }
                            case 0xF0 ->
                            {
                                out.add(text((le(z, p + 1, 3) << 40) >> 40));
                                p += 4;
                            }
                            case 0xFE ->
                            {
                                out.add(text(z[p + 1]));
                                p += 2;
                            }
                            default ->
                            {
                                if (enc >= 0xF1 && enc <= 0xFD)
                                {
                                    out.add(text((enc & 0x0F) - 1));
                                    p += 1;
                                }
                                else
                                {
                                    throw new IOException("bad ziplist encoding 0x" + Integer.toHexString(enc));
                                }
                            }
                        }
                    }
                }
            }
        }
        catch (final ArrayIndexOutOfBoundsException e)
        {
            throw new IOException("truncated ziplist", e);
        }
        return out;
    }

    /** Listpack: total bytes, element count, entries (encoding, data, backlen), 0xFF. */
    static List<byte[]> listpack(final byte[] l) throws IOException
    {
        final List<byte[]> out = new ArrayList<>();
        try
        {
            int p = 6;
            while ((l[p] & 0xFF) != 0xFF)
            {
                final int enc = l[p] & 0xFF;
                final int entry;
                if ((enc & 0x80) == 0)
                {
                    out.add(text(enc & 0x7F));
                    entry = 1;
                }
                else if ((enc & 0xC0) == 0x80)
                {
                    final int len = enc & 0x3F;
                    out.add(java.util.Arrays.copyOfRange(l, p + 1, p + 1 + len));
                    entry = 1 + len;
                }
                else if ((enc & 0xE0) == 0xC0)
                {
                    final long v = (((enc & 0x1F) << 8) | (l[p + 1] & 0xFF));
                    out.add(text((v << 51) >> 51));
                    entry = 2;
                }
                else if ((enc & 0xF0) == 0xE0)
                {
                    final int len = ((enc & 0x0F) << 8) | (l[p + 1] & 0xFF);
                    out.add(java.util.Arrays.copyOfRange(l, p + 2, p + 2 + len));
                    entry = 2 + len;
                }
                else
                {
                    switch (enc)
                    {
                        case 0xF0 ->
                        {
                            final int len = (int)le(l, p + 1, 4);
                            out.add(java.util.Arrays.copyOfRange(l, p + 5, p + 5 + len));
                            entry = 5 + len;
                        }
                        case 0xF1 ->
                        {
                            out.add(text((short)le(l, p + 1, 2)));
                            entry = 3;
                        }
                        case 0xF2 ->
                        {
                            out.add(text((le(l, p + 1, 3) << 40) >> 40));
                            entry = 4;
                        }
                        case 0xF3 ->
                        {
                            out.add(text((int)le(l, p + 1, 4)));
                            entry = 5;
                        }
                        case 0xF4 ->
                        {
                            out.add(text(le(l, p + 1, 8)));
                            entry = 9;
                        }
                        default -> throw new IOException("bad listpack encoding 0x" + Integer.toHexString(enc));
                    }
                }
                p += entry;
                // The back-length: 1 byte below 128, then 7 bits per byte.
                p += entry < 128 ? 1 : entry < 16384 ? 2 : entry < 2097152 ? 3 : entry < 268435456 ? 4 : 5;
            }
        }
        catch (final ArrayIndexOutOfBoundsException e)
        {
            throw new IOException("truncated listpack", e);
        }
        return out;
    }

    /** Intset: encoding (2, 4 or 8 bytes per integer), length, integers little-endian. */
    static List<byte[]> intset(final byte[] s) throws IOException
    {
        if (s.length < 8)
        {
            throw new IOException("truncated intset");
        }
        final int width = (int)le(s, 0, 4);
        final int count = (int)le(s, 4, 4);
        if ((width != 2 && width != 4 && width != 8) || 8L + (long)width * count > s.length)
        {
            throw new IOException("bad intset header");
        }
        final List<byte[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            final long v = le(s, 8 + i * width, width);
            out.add(text(width == 2 ? (short)v : width == 4 ? (int)v : v));
        }
        return out;
    }
}
