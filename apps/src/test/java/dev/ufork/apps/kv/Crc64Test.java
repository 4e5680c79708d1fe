package dev.ufork.apps.kv;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link Crc64} against the check value of its parameters and against a bit-at-a-time reference on random input. */
class Crc64Test
{
    /** The definition, one bit at a time: reflected Jones polynomial, initial value 0, no final XOR. */
    private static long reference(final long crc, final byte[] bytes, final int from, final int length)
    {
        final long poly = Long.reverse(0xad93d23594c935a9L);
        long c = crc;
        for (int i = from; i < from + length; i++)
        {
            c ^= bytes[i] & 0xFF;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? (c >>> 1) ^ poly : c >>> 1;
            }
        }
        return c;
    }

    @Test
    void checkValue()
    {
        final byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xe9c6d914c4b8d9caL, Crc64.update(0, check, 0, check.length));
    }

    @Test
    void randomSlicesMatchTheBitwiseDefinition()
    {
        final long seed = Long.getLong("ufork.seed", System.nanoTime());
        final SplittableRandom random = new SplittableRandom(seed);
        for (int round = 0; round < 2000; round++)
        {
            final byte[] bytes = new byte[random.nextInt(1, 300)];
            random.nextBytes(bytes);
            final int from = random.nextInt(bytes.length);
            final int length = random.nextInt(bytes.length - from + 1);
            final long start = random.nextBoolean() ? 0 : random.nextLong();
            final int split = from + random.nextInt(length + 1);
            final long whole = Crc64.update(start, bytes, from, length);
            assertEquals(reference(start, bytes, from, length), whole,
                "seed " + seed + " round " + round + " (rerun with -Dufork.seed=" + seed + ")");
            final long inTwo = Crc64.update(Crc64.update(start, bytes, from, split - from), bytes, split,
                from + length - split);
            assertEquals(whole, inTwo, "seed " + seed + " round " + round + ": in two updates");
        }
    }
}
