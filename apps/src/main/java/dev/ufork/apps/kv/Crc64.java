package dev.ufork.apps.kv;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The CRC-64 that closes an RDB file: Jones polynomial ({@code 0xad93d23594c935a9}), reflected input and output,
 * initial value 0, no final XOR; {@code crc64("123456789") == 0xe9c6d914c4b8d9caL}. Table-driven, eight bytes at a
 * time ("slicing by 8": eight tables, so the eight lookups of a word are independent of each other and only one
 * depends on the previous word), a byte at a time for the rest. A snapshot checksums every byte it writes.
 * <p>
 * Thread safety: stateless (the tables are immutable).
 */
final class Crc64
{
    private static final long REFLECTED_POLY = Long.reverse(0xad93d23594c935a9L);
    private static final int SLICES = 8;
    /** Table k (at {@code k * 256}) gives the CRC of a byte followed by k zero bytes. */
    private static final long[] TABLES = new long[SLICES * 256];
    private static final VarHandle LONG_LE =
        MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static
    {
        for (int i = 0; i < 256; i++)
        {
            long crc = i;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ REFLECTED_POLY : crc >>> 1;
            }
            TABLES[i] = crc;
        }
        for (int k = 1; k < SLICES; k++)
        {
            for (int i = 0; i < 256; i++)
            {
                final long previous = TABLES[(k - 1) * 256 + i];
                TABLES[k * 256 + i] = (previous >>> 8) ^ TABLES[(int)(previous & 0xFF)];
            }
        }
    }

    private Crc64()
    {
    }

    /**
     * @param crc   the CRC so far (0 to start).
     * @param bytes more bytes.
     * @param from  the first of them.
     * @param length how many.
     * @return the CRC including them.
     */
    static long update(final long crc, final byte[] bytes, final int from, final int length)
    {
        long c = crc;
        int i = from;
        final int end = from + length;
        for (; i <= end - SLICES; i += SLICES)
        {
            c ^= (long)LONG_LE.get(bytes, i);
            c = TABLES[7 * 256 + (int)(c & 0xFF)] ^ TABLES[6 * 256 + (int)((c >>> 8) & 0xFF)]
                ^ TABLES[5 * 256 + (int)((c >>> 16) & 0xFF)] ^ TABLES[4 * 256 + (int)((c >>> 24) & 0xFF)]
                ^ TABLES[3 * 256 + (int)((c >>> 32) & 0xFF)] ^ TABLES[2 * 256 + (int)((c >>> 40) & 0xFF)]
                ^ TABLES[256 + (int)((c >>> 48) & 0xFF)] ^ TABLES[(int)(c >>> 56)];
        }
        for (; i < end; i++)
        {
            c = TABLES[(int)((c ^ bytes[i]) & 0xFF)] ^ (c >>> 8);
        }
        return c;
    }
}
