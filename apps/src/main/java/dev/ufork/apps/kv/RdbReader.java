package dev.ufork.apps.kv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads RDB files up to version 11 as Redis 7 writes them (and as {@link RdbWriter} does): strings raw, as integers
 * or LZF-compressed; lists plain, as ziplists, quicklists of ziplists and quicklists of listpacks; sets plain, as
 * intsets and listpacks; hashes plain, as ziplists and listpacks; sorted sets plain (text or binary scores), as
 * ziplists and listpacks. Streams and module types are refused with a clear error. The trailing CRC-64 is checked when
 * it is not zero (Redis writes zero when checksums are off).
 * <p>
 * Thread safety: confined to the reading thread.
 */
final class RdbReader
{
    /** Where bytes come from. */
    @FunctionalInterface
    interface Source
    {
        /** @return bytes read into {@code buffer[from, from + length)}, or −1 at end of file. */
        int read(byte[] buffer, int from, int length) throws IOException;
    }

    /** Receives what the file holds. */
    interface Loader
    {
        void string(byte[] key, byte[] value, long expireAt);

        void list(byte[] key, List<byte[]> elements, long expireAt);

        void set(byte[] key, List<byte[]> members, long expireAt);

        void hash(byte[] key, List<byte[]> fieldsAndValues, long expireAt);

        void zset(byte[] key, List<byte[]> members, List<Double> scores, long expireAt);
    }

    private final Source source;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;
    private long crc;
    private boolean eof;

    RdbReader(final Source source)
    {
        this.source = source;
    }

    private void fill() throws IOException
    {
        if (position < limit)
        {
            return;
        }
        crc = Crc64.update(crc, buffer, 0, limit);
        position = 0;
        limit = 0;
        final int n = source.read(buffer, 0, buffer.length);
        if (n < 0)
        {
            eof = true;
            throw new IOException("unexpected end of RDB file");
        }
        limit = n;
    }

    private int u8() throws IOException
    {
        fill();
        return buffer[position++] & 0xFF;
    }

    private byte[] bytes(final int n) throws IOException
    {
        final byte[] out = new byte[n];
        int done = 0;
        while (done < n)
        {
            fill();
            final int k = Math.min(n - done, limit - position);
            System.arraycopy(buffer, position, out, done, k);
            position += k;
            done += k;
        }
        return out;
    }

    private long littleEndian(final int n) throws IOException
    {
        long v = 0;
        for (int i = 0; i < n; i++)
        {
            v |= (long)u8() << (8 * i);
        }
        return v;
    }

    /** The result of a length read: the length, or a special string encoding (0–3) when {@code encoded}. */
    private boolean encoded;

    private long length() throws IOException
    {
        encoded = false;
        final int first = u8();
        switch (first >>> 6)
        {
            case 0:
                return first & 0x3F;
            case 1:
                return ((first & 0x3F) << 8) | u8();
            case 2:
                if (first == 0x80)
                {
                    long v = 0;
                    for (int i = 0; i < 4; i++)
                    {
                        v = (v << 8) | u8();
                    }
                    return v;
                }
                if (first == 0x81)
                {
                    long v = 0;
                    for (int i = 0; i < 8; i++)
                    {
                        v = (v << 8) | u8();
                    }
                    return v;
                }
                throw new IOException("bad RDB length encoding 0x" + Integer.toHexString(first));
            default:
                encoded = true;
                return first & 0x3F;
        }
    }

    private int intLength() throws IOException
    {
        final long n = length();
        if (encoded || n < 0 || n > Integer.MAX_VALUE - 16)
        {
            throw new IOException("bad RDB length " + n);
        }
        return (int)n;
    }

    private byte[] string() throws IOException
    {
        final long n = length();
        if (!encoded)
        {
            if (n > Integer.MAX_VALUE - 16)
            {
                throw new IOException("RDB string too long: " + n);
            }
            return bytes((int)n);
        }
        switch ((int)n)
        {
            case 0:
                return Long.toString((byte)u8()).getBytes(StandardCharsets.US_ASCII);
            case 1:
                return Long.toString((short)littleEndian(2)).getBytes(StandardCharsets.US_ASCII);
            case 2:
                return Long.toString((int)littleEndian(4)).getBytes(StandardCharsets.US_ASCII);
            case 3:
                final int compressed = intLength();
                final int plain = intLength();
                try
                {
                    return Lzf.decompress(bytes(compressed), plain);
                }
                catch (final IllegalArgumentException e)
                {
                    throw new IOException("corrupt LZF string: " + e.getMessage(), e);
                }
            default:
                throw new IOException("unknown RDB string encoding " + n);
        }
    }

    /**
     * Reads a whole file.
     *
     * @param now keys already expired at this time (ms) are skipped, as Redis does when loading.
     * @return the number of keys loaded.
     * @throws IOException for a corrupt or unsupported file.
     */
    long readAll(final Loader loader, final long now) throws IOException
    {
        final byte[] magic = bytes(9);
        final String header = new String(magic, StandardCharsets.US_ASCII);
        if (!header.startsWith("REDIS"))
        {
            throw new IOException("not an RDB file (wrong signature)");
        }
        final int version;
        try
        {
            version = Integer.parseInt(header.substring(5));
        }
        catch (final NumberFormatException e)
        {
            throw new IOException("bad RDB version '" + header.substring(5) + "'");
        }
        if (version < 1 || version > 11)
        {
            throw new IOException("can't handle RDB format version " + version);
        }
        long expireAt = -1;
        long keys = 0;
        while (true)
        {
            final int type = u8();
            switch (type)
            {
                case 250 ->
                {
                    string();
                    string();
                    continue;
                }
                case 251 ->
                {
                    length();
                    length();
                    continue;
                }
                case 252 ->
                {
                    expireAt = littleEndian(8);
                    continue;
                }
                case 253 ->
                {
                    expireAt = littleEndian(4) * 1000;
                    continue;
                }
                case 254 ->
                {
                    final long db = length();
                    if (db != 0)
                    {
                        throw new IOException("this server has one database; the file uses db " + db);
                    }
                    continue;
                }
                case 248 ->
                {
                    length();
                    continue;
                }
                case 249 ->
                {
                    u8();
                    continue;
                }
                case 246, 245, 247 -> throw new IOException("functions and module data are not supported");
                case 255 ->
                {
                    checkCrc(version);
                    return keys;
                }
                default ->
                {
                }
            }
            final byte[] key = string();
            readValue(type, key, expireAt == -1 ? 0 : expireAt, loader, now);
            if (expireAt == -1 || expireAt > now)
            {
                keys++;
            }
            expireAt = -1;
        }
    }

    private void checkCrc(final int version) throws IOException
    {
        // Everything before the checksum, the EOF byte included, has been consumed.
        final long expected = Crc64.update(crc, buffer, 0, position);
        if (version < 5)
        {
            return;
        }
        final long stored = littleEndian(8);
        if (stored != 0 && stored != expected)
        {
            throw new IOException("RDB checksum mismatch: file says 0x" + Long.toHexString(stored) + ", computed 0x"
                + Long.toHexString(expected));
        }
    }

    private void readValue(final int type, final byte[] key, final long expireAt, final Loader loader, final long now)
        throws IOException
    {
        final boolean live = expireAt == 0 || expireAt > now;
        final long expiry = expireAt;
        switch (type)
        {
            case 0 ->
            {
                final byte[] value = string();
                if (live)
                {
                    loader.string(key, value, expiry);
                }
            }
            case 1, 2 ->
            {
                final int n = intLength();
                final List<byte[]> items = new ArrayList<>(Math.min(n, 1 << 16));
                for (int i = 0; i < n; i++)
                {
                    items.add(string());
                }
                if (live && type == 1)
                {
                    loader.list(key, items, expiry);
                }
                else if (live)
                {
                    loader.set(key, items, expiry);
                }
            }
            case 3, 5 ->
            {
                final int n = intLength();
                final List<byte[]> members = new ArrayList<>(Math.min(n, 1 << 16));
                final List<Double> scores = new ArrayList<>(Math.min(n, 1 << 16));
                for (int i = 0; i < n; i++)
                {
                    members.add(string());
                    if (type == 5)
                    {
                        scores.add(Double.longBitsToDouble(littleEndian(8)));
                    }
                    else
                    {
                        final int len = u8();
                        scores.add(switch (len)
                        {
                            case 253 -> Double.NaN;
                            case 254 -> Double.POSITIVE_INFINITY;
                            case 255 -> Double.NEGATIVE_INFINITY;
                            default -> Double.parseDouble(new String(bytes(len), StandardCharsets.US_ASCII));
                        });
                    }
                }
                if (live)
                {
                    loader.zset(key, members, scores, expiry);
                }
            }
            case 4 ->
            {
                final int n = intLength();
                final List<byte[]> pairs = new ArrayList<>(Math.min(2 * n, 1 << 16));
                for (int i = 0; i < 2 * n; i++)
                {
                    pairs.add(string());
                }
                if (live)
                {
                    loader.hash(key, pairs, expiry);
                }
            }
            case 10 ->
            {
                final List<byte[]> items = Packed.ziplist(string());
                if (live)
                {
                    loader.list(key, items, expiry);
                }
            }
            case 11 ->
            {
                final List<byte[]> items = Packed.intset(string());
                if (live)
                {
                    loader.set(key, items, expiry);
                }
            }
            case 12, 17 ->
            {
                final List<byte[]> flat = type == 12 ? Packed.ziplist(string()) : Packed.listpack(string());
                final List<byte[]> members = new ArrayList<>();
                final List<Double> scores = new ArrayList<>();
                for (int i = 0; i + 1 < flat.size(); i += 2)
                {
                    members.add(flat.get(i));
                    final Double score = Commands.parseDouble(flat.get(i + 1));
                    if (score == null)
                    {
                        throw new IOException("bad score in a packed sorted set");
                    }
                    scores.add(score);
                }
                if (live)
                {
                    loader.zset(key, members, scores, expiry);
                }
            }
            case 13, 16 ->
            {
                final List<byte[]> flat = type == 13 ? Packed.ziplist(string()) : Packed.listpack(string());
                if (live)
                {
                    loader.hash(key, flat, expiry);
                }
            }
            case 20 ->
            {
                final List<byte[]> flat = Packed.listpack(string());
                if (live)
                {
                    loader.set(key, flat, expiry);
                }
            }
            case 14, 18 ->
            {
                final int nodes = intLength();
                final List<byte[]> items = new ArrayList<>();
                for (int i = 0; i < nodes; i++)
                {
                    int container = 2;
                    if (type == 18)
                    {
                        container = intLength();
                    }
                    final byte[] node = string();
                    if (type == 18 && container == 1)
                    {
                        items.add(node);
                    }
                    else if (type == 18)
                    {
                        items.addAll(Packed.listpack(node));
                    }
                    else
                    {
                        items.addAll(Packed.ziplist(node));
                    }
                }
                if (live)
                {
                    loader.list(key, items, expiry);
                }
            }
            case 15, 19, 21 -> throw new IOException("streams are not supported");
            case 6, 7 -> throw new IOException("module types are not supported");
            default -> throw new IOException("unknown RDB value type " + type);
        }
    }
}
