package dev.ufork.apps.kv;

import dev.ufork.posix.PosixAreaDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command of the script {@code commands.txt} goes to a real redis-server and to ufork's command layer running
 * in a µprocess over its keyspace in µprocess memory; the replies must be the same bytes (or the same elements, for
 * replies whose order is Redis's hash table's).
 */
class CommandsDifferentialTest
{
    @Test
    void repliesMatchRealRedisByteForByte(@TempDir final Path tmp) throws Exception
    {
        final List<String> script;
        try (InputStream in = CommandsDifferentialTest.class.getResourceAsStream("commands.txt"))
        {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        final List<String> mismatches = new ArrayList<>();
        final int[] compared = new int[1];
        try (RealRedis redis = RealRedis.start())
        {
            InProcess.run(Files.createTempDirectory(tmp, "kv-diff"), 64 << 20, posix ->
            {
                final Mem mem = new Mem(posix.memory(), new BumpHeap(posix.area(), PosixAreaDescriptor.HEAP_START));
                final Database db = Database.create(mem, new Values(mem));
                final Commands commands = new Commands(db, new StubControl());
                final Client client = new Client(1, -1);
                int lineNumber = 0;
                for (final String line : script)
                {
                    lineNumber++;
                    if (line.isBlank() || line.startsWith("#"))
                    {
                        continue;
                    }
                    final boolean unordered = line.startsWith("~ ");
                    final boolean unchecked = line.startsWith("? ");
                    final String text = unordered || unchecked ? line.substring(2) : line;
                    final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
                    final List<byte[]> args = RespParser.splitArgs(bytes, 0, bytes.length);
                    final byte[] expected = redis.call(args);
                    commands.execute(client, args, System.currentTimeMillis());
                    final byte[] actual = java.util.Arrays.copyOfRange(client.reply.buffer(),
                        client.reply.start(), client.reply.start() + client.reply.pending());
                    client.reply.consumed(client.reply.pending());
                    if (unchecked)
                    {
                        continue;
                    }
                    compared[0]++;
                    final boolean same = unordered ? sameElements(expected, actual)
                        : java.util.Arrays.equals(expected, actual);
                    if (!same)
                    {
                        mismatches.add("line " + lineNumber + ": " + text + "\n   redis: " + show(expected)
                            + "\n   ufork: " + show(actual));
                    }
                }
            });
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + compared[0] + " replies differ:\n"
            + String.join("\n", mismatches));
        assertTrue(compared[0] > 200, "only " + compared[0] + " replies compared");
    }

    private static String show(final byte[] bytes)
    {
        final String s = new String(bytes, StandardCharsets.ISO_8859_1);
        return s.chars().allMatch(c -> c >= 32 && c < 127 || c == '\r' || c == '\n')
            ? s.replace("\r\n", "\\r\\n") : HexFormat.of().formatHex(bytes);
    }

    /** Compares two array replies as multisets of their element lines (headers first). */
    private static boolean sameElements(final byte[] a, final byte[] b)
    {
        final List<String> x = new ArrayList<>(List.of(new String(a, StandardCharsets.ISO_8859_1).split("\r\n")));
        final List<String> y = new ArrayList<>(List.of(new String(b, StandardCharsets.ISO_8859_1).split("\r\n")));
        if (x.isEmpty() || y.isEmpty() || !x.get(0).equals(y.get(0)))
        {
            return false;
        }
        final List<String> pairsX = pairs(x);
        final List<String> pairsY = pairs(y);
        java.util.Collections.sort(pairsX);
        java.util.Collections.sort(pairsY);
        return pairsX.equals(pairsY);
    }

    private static List<String> pairs(final List<String> lines)
    {
        final List<String> out = new ArrayList<>();
        for (int i = 1; i + 1 < lines.size(); i += 2)
        {
            out.add(lines.get(i) + "\n" + lines.get(i + 1));
        }
        return out;
    }

}
