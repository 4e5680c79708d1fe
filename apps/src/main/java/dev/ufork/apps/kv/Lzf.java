package dev.ufork.apps.kv;

/**
 * LZF decompression, for the compressed strings Redis writes into RDB files (from the format: a control byte below
 * 32 copies that many plus one literal bytes; otherwise its top three bits are a length (7 means another length byte
 * follows) and the rest, with the next byte, a back-reference offset minus one).
 * <p>
 * Thread safety: stateless.
 */
final class Lzf
{
    private Lzf()
    {
    }

    /**
     * @param in     compressed bytes.
     * @param length the decompressed length the RDB recorded.
     * @return the decompressed bytes.
     * @throws IllegalArgumentException if the input is corrupt or does not decompress to exactly {@code length}.
     */
    static byte[] decompress(final byte[] in, final int length)
    {
        final byte[] out = new byte[length];
        int ip = 0;
        int op = 0;
        while (ip < in.length)
        {
            int ctrl = in[ip++] & 0xFF;
            if (ctrl < 32)
            {
                final int run = ctrl + 1;
                if (op + run > length || ip + run > in.length)
                {
                    throw new IllegalArgumentException("LZF literal run past the end");
                }
                System.arraycopy(in, ip, out, op, run);
                ip += run;
                op += run;
            }
            else
            {
                int len = ctrl >>> 5;
                if (len == 7)
                {
                    if (ip >= in.length)
                    {
                        throw new IllegalArgumentException("LZF truncated length");
                    }
                    len += in[ip++] & 0xFF;
                }
                if (ip >= in.length)
                {
                    throw new IllegalArgumentException("LZF truncated offset");
                }
                final int ref = op - ((ctrl & 0x1F) << 8) - (in[ip++] & 0xFF) - 1;
                len += 2;
                if (ref < 0 || op + len > length)
                {
                    throw new IllegalArgumentException("LZF back-reference out of range");
                }
                // Byte by byte: the reference may overlap what it produces.
                for (int i = 0; i < len; i++)
                {
                    out[op++] = out[ref + i];
                }
            }
        }
        if (op != length)
        {
            throw new IllegalArgumentException("LZF produced " + op + " bytes, expected " + length);
        }
        return out;
    }
}
