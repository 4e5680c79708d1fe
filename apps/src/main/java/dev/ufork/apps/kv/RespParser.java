package dev.ufork.apps.kv;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses client requests as Redis does: RESP multibulk ({@code *N\r\n$len\r\narg\r\n...}) and inline commands (a
 * line of space-separated words, with Redis's quoting rules). A request is parsed only once it is complete, so a
 * partial one costs a re-scan of its headers when more bytes arrive, never of its bulk payloads.
 * <p>
 * Limits and errors are Redis 7.0's: bulk payloads up to 512 MiB, inline requests and header lines up to 64 KiB,
 * numbers as strict as Redis's {@code string2ll} (no sign but a leading minus, no leading zeros); a violation is a {@link ProtocolException} whose message is the error Redis sends
 * before closing the connection.
 * <p>
 * Thread safety: stateless; one instance may serve every client.
 */
final class RespParser
{
    /** Redis's PROTO_INLINE_MAX_SIZE: the longest inline request or header line. */
    static final int INLINE_MAX = 64 * 1024;
    /** Redis 7.0's limit on the argument count of one multibulk request (INT_MAX). */
    static final long MAX_ARGS = Integer.MAX_VALUE;
    /** Redis's default proto-max-bulk-len. */
    static final long MAX_BULK = 512L * 1024 * 1024;

    /** A request Redis would answer with an error and then close the connection. */
    static final class ProtocolException extends Exception
    {
        private static final long serialVersionUID = 1L;

        ProtocolException(final String message)
        {
            super(message, null, false, false);
        }
    }

    /** The outcome of one parse: how many bytes it consumed, and the arguments (null if it consumed nothing). */
    static final class Result
    {
        int consumed;
        List<byte[]> args;
    }

    /**
     * Parses one request from {@code buf[from, to)}.
     *
     * @param result receives the bytes consumed (0 if the request is incomplete) and the arguments; an empty
     *               request (a blank inline line, {@code *0} or {@code *-1}) consumes its bytes with an empty list.
     * @throws ProtocolException for a malformed request.
     */
    void parse(final byte[] buf, final int from, final int to, final Result result) throws ProtocolException
    {
        result.consumed = 0;
        result.args = null;
        if (from >= to)
        {
            return;
        }
        if (buf[from] == '*')
        {
            parseMultibulk(buf, from, to, result);
        }
        else
        {
            parseInline(buf, from, to, result);
        }
    }

    private static void parseMultibulk(final byte[] buf, final int from, final int to, final Result result)
        throws ProtocolException
    {
        final int headerEnd = findCrlf(buf, from, to);
        if (headerEnd < 0)
        {
            if (to - from > INLINE_MAX)
            {
                throw new ProtocolException("Protocol error: too big mbulk count string");
            }
            return;
        }
        final long count = parseNumber(buf, from + 1, headerEnd);
        if (count == Long.MIN_VALUE || count > MAX_ARGS)
        {
            throw new ProtocolException("Protocol error: invalid multibulk length");
        }
        int pos = headerEnd + 2;
        if (count <= 0)
        {
            result.consumed = pos - from;
            result.args = List.of();
            return;
        }
        final List<byte[]> args = new ArrayList<>((int)Math.min(count, 64));
        for (long i = 0; i < count; i++)
        {
            if (pos >= to)
            {
                return;
            }
            final int lineEnd = findCrlf(buf, pos, to);
            if (lineEnd < 0)
            {
                if (to - pos > INLINE_MAX)
                {
                    throw new ProtocolException("Protocol error: too big bulk count string");
                }
                return;
            }
            if (buf[pos] != '$')
            {
                throw new ProtocolException("Protocol error: expected '$', got '" + (char)(buf[pos] & 0xFF) + "'");
            }
            final long length = parseNumber(buf, pos + 1, lineEnd);
            if (length == Long.MIN_VALUE || length < 0 || length > MAX_BULK)
            {
                throw new ProtocolException("Protocol error: invalid bulk length");
            }
            final int start = lineEnd + 2;
            if ((long)to - start < length + 2)
            {
                return;
            }
            final byte[] arg = new byte[(int)length];
            System.arraycopy(buf, start, arg, 0, (int)length);
            args.add(arg);
            pos = start + (int)length + 2;
        }
        result.consumed = pos - from;
        result.args = args;
    }

    /**
     * @return the index of the first {@code \r} in {@code [from, to)} that has a byte after it (Redis ends a header
     *         line at its {@code \r} and skips one more byte), or −1 if there is none yet.
     */
    private static int findCrlf(final byte[] buf, final int from, final int to)
    {
        for (int i = from; i + 1 < to; i++)
        {
            if (buf[i] == '\r')
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * Parses a decimal number exactly as Redis's {@code string2ll} accepts it: an optional minus, then {@code 0}
     * alone or a digit 1–9 followed by digits, within a signed 64-bit range.
     *
     * @return the number, or Long.MIN_VALUE if the text is not one.
     */
    static long parseNumber(final byte[] buf, final int from, final int to)
    {
        final int length = to - from;
        if (length <= 0 || length > 20)
        {
            return Long.MIN_VALUE;
        }
        if (length == 1 && buf[from] == '0')
        {
            return 0;
        }
        int i = from;
        final boolean negative = buf[i] == '-';
        if (negative && ++i == to)
        {
            return Long.MIN_VALUE;
        }
        if (buf[i] < '1' || buf[i] > '9')
        {
            return Long.MIN_VALUE;
        }
        long value = 0;
        for (; i < to; i++)
        {
            final int digit = buf[i] - '0';
            if (digit < 0 || digit > 9)
            {
                return Long.MIN_VALUE;
            }
            // Accumulate negatively so that Long.MIN_VALUE's magnitude fits.
            if (value < (Long.MIN_VALUE + digit) / 10)
            {
                return Long.MIN_VALUE;
            }
            value = value * 10 - digit;
        }
        if (!negative)
        {
            if (value == Long.MIN_VALUE)
            {
                return Long.MIN_VALUE;
            }
            return -value;
        }
        return value == Long.MIN_VALUE ? Long.MIN_VALUE : value;
    }

    private static void parseInline(final byte[] buf, final int from, final int to, final Result result)
        throws ProtocolException
    {
        int newline = -1;
        for (int i = from; i < to; i++)
        {
            if (buf[i] == '\n')
            {
                newline = i;
                break;
            }
        }
        if (newline < 0)
        {
            if (to - from > INLINE_MAX)
            {
                throw new ProtocolException("Protocol error: too big inline request");
            }
            return;
        }
        final int end = newline > from && buf[newline - 1] == '\r' ? newline - 1 : newline;
        final List<byte[]> args = splitArgs(buf, from, end);
        if (args == null)
        {
            throw new ProtocolException("Protocol error: unbalanced quotes in request");
        }
        result.consumed = newline + 1 - from;
        result.args = args;
    }

    /**
     * Splits a line into arguments as Redis's {@code sdssplitargs} does: words separated by whitespace; a double-quoted
     * word may hold the escapes {@code \n \r \t \b \a \\ \"} and {@code \xHH}; a single-quoted word only {@code \'};
     * a closing quote must be followed by whitespace or the end.
     *
     * @return the words, or null if the quotes are unbalanced.
     */
    static List<byte[]> splitArgs(final byte[] buf, final int from, final int to)
    {
        final List<byte[]> words = new ArrayList<>();
        int p = from;
        final java.io.ByteArrayOutputStream current = new java.io.ByteArrayOutputStream();
        while (true)
        {
            while (p < to && isSpace(buf[p]))
            {
                p++;
            }
            if (p >= to)
            {
                return words;
            }
            current.reset();
            boolean inDouble = false;
            boolean inSingle = false;
            boolean done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (p >= to)
                    {
                        return null;
                    }
                    if (buf[p] == '\\' && p + 3 < to && buf[p + 1] == 'x' && isHex(buf[p + 2]) && isHex(buf[p + 3]))
                    {
                        current.write(hex(buf[p + 2]) * 16 + hex(buf[p + 3]));
                        p += 3;
                    }
                    else if (buf[p] == '\\' && p + 1 < to)
                    {
                        p++;
                        current.write(switch (buf[p])
                        {
                            case 'n' -> '\n';
                            case 'r' -> '\r';
                            case 't' -> '\t';
                            case 'b' -> '\b';
                            case 'a' -> 7;
                            default -> buf[p];
                        });
                    }
                    else if (buf[p] == '"')
                    {
                        if (p + 1 < to && !isSpace(buf[p + 1]))
                        {
                            return null;
                        }
                        done = true;
                    }
                    else
                    {
                        current.write(buf[p]);
                    }
                }
                else if (inSingle)
                {
                    if (p >= to)
                    {
                        return null;
                    }
                    if (buf[p] == '\\' && p + 1 < to && buf[p + 1] == '\'')
                    {
                        p++;
                        current.write('\'');
                    }
                    else if (buf[p] == '\'')
                    {
                        if (p + 1 < to && !isSpace(buf[p + 1]))
                        {
                            return null;
                        }
                        done = true;
                    }
                    else
                    {
                        current.write(buf[p]);
                    }
                }
                else
                {
                    if (p >= to)
                    {
                        done = true;
                    }
                    else
                    {
                        switch (buf[p])
                        {
                            case ' ', '\n', '\r', '\t', 0 -> done = true;
                            case '"' -> inDouble = true;
                            case '\'' -> inSingle = true;
                            default -> current.write(buf[p]);
                        }
                    }
                }
                if (p < to)
                {
                    p++;
                }
            }
            words.add(current.toByteArray());
        }
    }

    private static boolean isSpace(final byte b)
    {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t' || b == 0x0B || b == '\f';
    }

    private static boolean isHex(final byte b)
    {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    }

    private static int hex(final byte b)
    {
        return b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
    }
}
