package dev.ufork.apps.kv;

import dev.ufork.posix.PosixAreaDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RDB files both ways, checked by the real Redis tools: the same data is built in a real redis-server (A) and in
 * ufork's keyspace; ufork's dump must pass redis-check-rdb and load in a real redis-server with the same DEBUG DIGEST
 * as A; and A's own dump (listpacks, intsets, quicklists, LZF, integer strings) must load into ufork's keyspace and
 * come back out, again with A's digest.
 */
class RdbCompatibilityTest
{
    private static final long FUTURE = 4_102_444_800_000L;

    private static List<List<byte[]>> dataset(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final List<List<byte[]>> commands = new ArrayList<>();
        for (int i = 0; i < 300; i++)
        {
            commands.add(args("SET", "str:" + i, random.nextInt(3) == 0 ? Integer.toString(random.nextInt()) : "v" + i));
        }
        commands.add(args("SET", "compressible", "a".repeat(5000)));
        commands.add(args("SET", "big-int", "9223372036854775807"));
        commands.add(args("SET", "neg-int", "-123"));
        commands.add(args("SET", "ttl", "x", "PXAT", Long.toString(FUTURE)));
        commands.add(args("SET", "ttl2", "y", "PXAT", Long.toString(FUTURE + 1234)));
        for (int i = 0; i < 20; i++)
        {
            commands.add(args("RPUSH", "small-list", "e" + i));
        }
        for (int i = 0; i < 3000; i++)
        {
            commands.add(args("RPUSH", "big-list", "element-" + i + "-" + "x".repeat(random.nextInt(100))));
        }
        for (int i = 0; i < 10; i++)
        {
            commands.add(args("HSET", "small-hash", "f" + i, "v" + i));
        }
        for (int i = 0; i < 300; i++)
        {
            commands.add(args("HSET", "big-hash", "field" + i, "value" + random.nextInt(1000)));
        }
        for (int i = 0; i < 50; i++)
        {
            commands.add(args("SADD", "int-set", Integer.toString(random.nextInt(100000) - 50000)));
        }
        commands.add(args("SADD", "big-int-set", "1", "70000", "5000000000"));
        for (int i = 0; i < 100; i++)
        {
            commands.add(args("SADD", "word-set", "member" + i));
        }
        for (int i = 0; i < 20; i++)
        {
            commands.add(args("ZADD", "small-zset", Double.toString(random.nextDouble() * 100), "m" + i));
        }
        for (int i = 0; i < 500; i++)
        {
            commands.add(args("ZADD", "big-zset", Integer.toString(random.nextInt(50)), "member" + i));
        }
        commands.add(args("ZADD", "inf-zset", "inf", "top", "-inf", "bottom", "0", "zero"));
        commands.add(args("HSET", "ttl-hash", "a", "1"));
        commands.add(args("SET", "tmp", "z", "PXAT", Long.toString(FUTURE)));
        commands.add(args("RENAME", "tmp", "renamed-ttl"));
        return commands;
    }

    private static List<byte[]> args(final String... words)
    {
        final List<byte[]> out = new ArrayList<>();
        for (final String w : words)
        {
            out.add(w.getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    private static String digest(final RealRedis redis) throws IOException
    {
        return new String(redis.call(args("DEBUG", "DIGEST")), StandardCharsets.US_ASCII);
    }

    private static void checkRdb(final Path file) throws IOException, InterruptedException
    {
        final Process check = new ProcessBuilder(RealRedis.executable("redis-check-rdb"), file.toString())
            .redirectErrorStream(true).start();
        final String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, check.exitValue(), "redis-check-rdb rejected " + file + ":\n" + output);
        assertTrue(output.contains("RDB looks OK"), output);
    }

    private static RealRedis loaded(final Path file) throws IOException, InterruptedException
    {
        final RealRedis redis = RealRedis.startWith(file);
        return redis;
    }

    @Test
    void dumpsLoadInRealRedisAndRealDumpsLoadHere(@TempDir final Path tmp) throws Exception
    {
        final List<List<byte[]>> data = dataset(42);
        final Path work = Files.createTempDirectory(tmp, "kv-rdb");
        final Path ours = work.resolve("ours.rdb");
        final Path roundTrip = work.resolve("round-trip.rdb");
        try (RealRedis a = RealRedis.start())
        {
            for (final List<byte[]> command : data)
            {
                a.call(command);
            }
            assertArrayEquals("+OK\r\n".getBytes(StandardCharsets.US_ASCII), a.call(args("SAVE")));
            final Path theirs = a.dir().resolve("dump.rdb");
            InProcess.run(work, 128 << 20, posix ->
            {
                final Mem mem = new Mem(posix.memory(), new BumpHeap(posix.area(), PosixAreaDescriptor.HEAP_START));
                final Database db = Database.create(mem, new Values(mem));
                final Commands commands = new Commands(db, new StubControl());
                final Client client = new Client(1, -1);
                for (final List<byte[]> command : data)
                {
                    commands.execute(client, command, System.currentTimeMillis());
                    client.reply.consumed(client.reply.pending());
                }
                write(db, ours);
                final Database loaded = Database.create(mem, new Values(mem));
                try (InputStream in = new FileInputStream(theirs.toFile()))
                {
                    final long keys = new RdbReader(in::read).readAll(new DatabaseLoader(loaded),
                        System.currentTimeMillis());
                    assertEquals(db.size(), keys, "keys loaded from redis-server's dump");
                }
                write(loaded, roundTrip);
            });
            checkRdb(ours);
            checkRdb(roundTrip);
            final String expected = digest(a);
            try (RealRedis b = loaded(ours))
            {
                assertEquals(expected, digest(b), "redis-server loaded ufork's dump with another digest");
            }
            try (RealRedis c = loaded(roundTrip))
            {
                assertEquals(expected, digest(c), "redis-server's dump, loaded and rewritten by ufork, changed");
            }
        }
    }

    private static void write(final Database db, final Path file) throws IOException
    {
        try (OutputStream out = new FileOutputStream(file.toFile()))
        {
            new RdbWriter(out::write).writeAll(db, System.currentTimeMillis(), 0);
        }
    }
}
