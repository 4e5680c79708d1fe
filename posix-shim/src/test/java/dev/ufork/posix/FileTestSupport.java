package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.kernel.Errno;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Helpers for the file tests: C strings and buffers in µprocess memory, errno checks, host trees. */
final class FileTestSupport
{
    /** Where in a µprocess's area the tests put their strings and buffers (above libc's state, below 1 MiB). */
    static final long USER_MEMORY = 0x10000;

    private FileTestSupport()
    {
    }

    /**
     * Stores {@code text} and a NUL at {@code offset} in the µprocess's area.
     *
     * @return a capability over exactly the string and its NUL.
     */
    static Capability cString(final Posix posix, final long offset, final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        final Capability string = buffer(posix, offset, bytes.length + 1);
        posix.memory().storeBytes(string, 0, bytes, 0, bytes.length);
        posix.memory().storeByte(string, bytes.length, (byte)0);
        return string;
    }

    /**
     * @return a capability over {@code length} bytes at {@code offset} in the µprocess's area: exactly those for
     *         small lengths, perhaps a little more for large ones (whose bounds CHERI rounds).
     */
    static Capability buffer(final Posix posix, final long offset, final long length)
    {
        return posix.area().add(offset).setBounds(length);
    }

    /** Asserts that a call failed with −1 and {@code expected}. */
    static void assertFails(final Posix posix, final Errno expected, final long result, final String call)
    {
        assertEquals(-1, result, call + " should fail with " + expected);
        assertEquals(expected, posix.lastError(), call);
    }

    /** @return everything from the descriptor's offset to the end of the file, read through {@code read}. */
    static byte[] readToEnd(final Posix posix, final int fd)
    {
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        final byte[] chunk = new byte[8192];
        long n;
        while ((n = PosixTestSupport.check(posix, posix.read(fd, chunk, 0, chunk.length), "read")) > 0)
        {
            out.write(chunk, 0, (int)n);
        }
        return out.toByteArray();
    }

    /** Writes all of {@code bytes} through {@code write}, failing the test if it writes less. */
    static void writeAll(final Posix posix, final int fd, final byte[] bytes)
    {
        assertEquals(bytes.length, PosixTestSupport.check(posix, posix.write(fd, bytes, 0, bytes.length), "write"));
    }

    static byte[] ascii(final String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    static String ascii(final byte[] bytes)
    {
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /** Deletes a host tree (the tests' temporary roots), links included but not what they point to. */
    static void deleteTree(final Path dir)
    {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir))
        {
            for (final Path p : paths.sorted(Comparator.reverseOrder()).toList())
            {
                Files.deleteIfExists(p);
            }
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }
}
