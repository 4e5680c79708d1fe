package dev.ufork.apps.kv;

/**
 * The CRC-64 that closes an RDB file: Jones polynomial ({@code 0xad93d23594c935a9}), reflected input and output,
 * initial value 0, no final XOR; {@code crc64("123456789") == 0xe9c6d914c4b8d9caL}. Table-driven, a byte at a time.
 * <p>
 * Thread safety: stateless (the table is immutable).
 */
final class Crc64
{
    private static final long REFLECTED_POLY = Long.reverse(0xad93d23594c935a9L);
    private static final long[] TABLE = new long[256];

    static
    {
        for (int i = 0; i < 256; i++)
        {
            long crc = i;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ REFLECTED_POLY : crc >>> 1;
            }
            TABLE[i] = crc;
        }
    }

    private Crc64()
    {
    }

    /**
     * @param crc   the CRC so far (0 to start).
     * @param bytes more bytes.
     * @return the CRC including them.
     */
    static long update(final long crc, final byte[] bytes, final int from, final int length)
    {
        long c = crc;
        for (int i = from; i < from + length; i++)
        {
            c = TABLE[(int)((c ^ bytes[i]) & 0xFF)] ^ (c >>> 8);
        }
        return c;
    }
}
