package dev.ufork.apps.kv;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A client's pending output: RESP2 replies appended as bytes, exactly as Redis 7 writes them, until the server
 * writes them to the socket.
 * <p>
 * Thread safety: confined to the server's thread.
 */
final class Reply
{
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL_BULK = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL_ARRAY = "*-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[][] SMALL_INTEGERS = new byte[1024][];

    static
    {
        for (int i = 0; i < SMALL_INTEGERS.length; i++)
        {
            SMALL_INTEGERS[i] = (":" + i + "\r\n").getBytes(StandardCharsets.US_ASCII);
        }
    }

    private byte[] buffer = new byte[16 * 1024];
    private int start;
    private int end;

    /** @return bytes waiting to be written. */
    int pending()
    {
        return end - start;
    }

    byte[] buffer()
    {
        return buffer;
    }

    int start()
    {
        return start;
    }

    /** Drops {@code n} bytes that were written. */
    void consumed(final int n)
    {
        start += n;
        if (start == end)
        {
            start = 0;
            end = 0;
            if (buffer.length > 1 << 20)
            {
                buffer = new byte[16 * 1024];
            }
        }
    }

    private void ensure(final int more)
    {
        if (end + more <= buffer.length)
        {
            return;
        }
        if (start > 0 && end - start + more <= buffer.length)
        {
            System.arraycopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
            return;
        }
        buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, end + more));
    }

    private void raw(final byte[] bytes)
    {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buffer, end, bytes.length);
        end += bytes.length;
    }

    private void raw(final byte b)
    {
        ensure(1);
        buffer[end++] = b;
    }

    private void number(final long value)
    {
        raw(Long.toString(value).getBytes(StandardCharsets.US_ASCII));
    }

    void ok()
    {
        raw(OK);
    }

    /** {@code +text}. */
    void simple(final String text)
    {
        raw((byte)'+');
        raw(text.getBytes(StandardCharsets.UTF_8));
        raw(CRLF);
    }

    /** {@code -text} (the text includes its prefix, e.g. "ERR ..."); newlines become spaces, as Redis does. */
    void error(final String text)
    {
        raw((byte)'-');
        raw(text.replace('\r', ' ').replace('\n', ' ').getBytes(StandardCharsets.UTF_8));
        raw(CRLF);
    }

    void integer(final long value)
    {
        if (value >= 0 && value < SMALL_INTEGERS.length)
        {
            raw(SMALL_INTEGERS[(int)value]);
            return;
        }
        raw((byte)':');
        number(value);
        raw(CRLF);
    }

    void bulk(final byte[] bytes)
    {
        bulk(bytes, 0, bytes.length);
    }

    void bulk(final byte[] bytes, final int from, final int length)
    {
        ensure(length + 24);
        raw((byte)'$');
        number(length);
        raw(CRLF);
        System.arraycopy(bytes, from, buffer, end, length);
        end += length;
        raw(CRLF);
    }

    void bulk(final String text)
    {
        bulk(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A bulk reply of a number's decimal text (as Redis sends lengths and counts as bulk strings). */
    void bulkNumber(final long value)
    {
        bulk(Long.toString(value));
    }

    /** A double as Redis 7.0's addReplyDouble writes it: {@code %.17g}, or inf / -inf. */
    void bulkDouble(final double value)
    {
        bulk(formatDouble(value));
    }

    void nullBulk()
    {
        raw(NULL_BULK);
    }

    void nullArray()
    {
        raw(NULL_ARRAY);
    }

    void array(final long length)
    {
        raw((byte)'*');
        number(length);
        raw(CRLF);
    }

    /**
     * @return a double formatted as C's {@code printf("%.17g")} does (shortest of fixed and exponent forms by the
     *         %g rule, trailing zeros removed), or {@code inf}, {@code -inf}, {@code nan}.
     */
    static String formatDouble(final double value)
    {
        if (Double.isInfinite(value))
        {
            return value > 0 ? "inf" : "-inf";
        }
        if (Double.isNaN(value))
        {
            return "nan";
        }
        if (value == 0)
        {
            return (Double.doubleToRawLongBits(value) < 0) ? "-0" : "0";
        }
        final BigDecimal rounded = new BigDecimal(value).round(new MathContext(17, RoundingMode.HALF_EVEN));
        // The decimal exponent of the first significant digit.
        final int exponent = rounded.precision() - rounded.scale() - 1;
        if (exponent < -4 || exponent >= 17)
        {
            final BigDecimal mantissa = rounded.movePointLeft(exponent).stripTrailingZeros();
            String m = mantissa.toPlainString();
            final String sign = exponent < 0 ? "-" : "+";
            final int abs = Math.abs(exponent);
            return m + "e" + sign + (abs < 10 ? "0" + abs : Integer.toString(abs));
        }
        final String plain = rounded.stripTrailingZeros().toPlainString();
        return plain;
    }
}
