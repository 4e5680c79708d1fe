package dev.ufork.apps.kv;

import dev.ufork.kernel.CopyMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ufork kv} over the network, driven by the real Redis tools and raw sockets: byte-exact replies against a
 * real redis-server, redis-cli, redis-benchmark's default tests, BGSAVE during writes in every copy mode, dumps
 * checked by redis-check-rdb and loaded by redis-server, malformed input, disconnects mid-command, failed snapshots,
 * restarts that load a dump.
 */
class KvServerTest
{
    /**
     * Holds each test's directories; JUnit deletes it after the test (after any tmpfs mounted in it is unmounted, and
     * whether or not a test removed its directory itself).
     */
    @TempDir
    Path tmp;

    private static String run(final List<String> command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, process.exitValue(), command + " failed:\n" + output);
        return output;
    }

    private static List<String> script() throws IOException
    {
        try (InputStream in = KvServerTest.class.getResourceAsStream("commands.txt"))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    @Test
    void networkRepliesMatchRealRedis() throws Exception
    {
        final List<String> mismatches = new ArrayList<>();
        try (RealRedis redis = RealRedis.start();
            KvTestServer kv = new KvTestServer(Files.createTempDirectory(tmp, "kv-net"), CopyMode.COPA, "");
            RespConnection ours = new RespConnection(kv.port()))
        {
            int compared = 0;
            for (final String line : script())
            {
                if (line.isBlank() || line.startsWith("#") || line.startsWith("~ ") || line.startsWith("? "))
                {
                    continue;
                }
                final byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
                final List<byte[]> args = RespParser.splitArgs(bytes, 0, bytes.length);
                final byte[] expected = redis.call(args);
                final byte[] actual = ours.call(args);
                compared++;
                if (!java.util.Arrays.equals(expected, actual))
                {
                    mismatches.add(line + "\n   redis: " + new String(expected, StandardCharsets.ISO_8859_1)
                        + "   ufork: " + new String(actual, StandardCharsets.ISO_8859_1));
                }
            }
            assertTrue(compared > 200);
        }
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
    }

    @Test
    void pipelinedAndInlineRequestsAreAnsweredInOrder() throws Exception
    {
        try (KvTestServer kv = new KvTestServer(Files.createTempDirectory(tmp, "kv-pipe"), CopyMode.COPA, "");
            RespConnection c = new RespConnection(kv.port()))
        {
            final StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 500; i++)
            {
                batch.append(i % 2 == 0 ? "SET k" + i + " v" + i + "\r\n"
                    : "*3\r\n$3\r\nSET\r\n$" + ("k" + i).length() + "\r\nk" + i + "\r\n$" + ("v" + i).length()
                        + "\r\nv" + i + "\r\n");
            }
            batch.append("PING\r\n\r\n   \r\nGET k499\r\n");
            c.send(batch.toString().getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 500; i++)
            {
                assertEquals("+OK\r\n", new String(c.reply(), StandardCharsets.US_ASCII));
            }
            assertEquals("+PONG\r\n", new String(c.reply(), StandardCharsets.US_ASCII));
            assertEquals("$4\r\nv499\r\n", new String(c.reply(), StandardCharsets.US_ASCII));
            assertEquals(":500\r\n", c.call("DBSIZE"));
        }
    }

    @Test
    void redisCliAndRedisBenchmarkWork() throws Exception
    {
        try (KvTestServer kv = new KvTestServer(Files.createTempDirectory(tmp, "kv-tools"), CopyMode.COPA, ""))
        {
            final String cli = RealRedis.executable("redis-cli");
            final String port = Integer.toString(kv.port());
            assertEquals("OK\n", run(List.of(cli, "-p", port, "SET", "greeting", "hello world")));
            assertEquals("hello world\n", run(List.of(cli, "-p", port, "GET", "greeting")));
            assertEquals("3\n", run(List.of(cli, "-p", port, "RPUSH", "l", "a", "b", "c")));
            assertEquals("a\nb\nc\n", run(List.of(cli, "-p", port, "LRANGE", "l", "0", "-1")));
            assertEquals("PONG\n", run(List.of(cli, "-p", port, "PING")));
            assertTrue(run(List.of(cli, "-p", port, "INFO", "persistence")).contains("rdb_bgsave_in_progress:0"));
            final String bench = run(List.of(RealRedis.executable("redis-benchmark"), "-p", port, "-n", "2000", "-q"));
            assertFalse(bench.contains("ERR") || bench.contains("Error"), bench);
            for (final String test : List.of("PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH",
                "LPOP", "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN", "LRANGE_100", "LRANGE_600", "MSET"))
            {
                assertTrue(bench.contains(test), "redis-benchmark did not run " + test + ":\n" + bench);
            }
            final String pipelined = run(List.of(RealRedis.executable("redis-benchmark"), "-p", port, "-n", "20000",
                "-P", "16", "-c", "50", "-t", "set,get", "-q"));
            assertFalse(pipelined.contains("ERR") || pipelined.contains("Error"), pipelined);
        }
    }

    /**
     * A BGSAVE in the middle of a stream of writes on one connection: the requests before it are in the dump, none
     * after it, whatever the child was doing while the parent kept writing. The dump must pass redis-check-rdb and
     * load in redis-server with exactly the state at the fork (compared by DEBUG DIGEST against a real server that
     * ran only the writes before the BGSAVE).
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void bgsaveDuringWritesCapturesTheInstantOfTheFork(final CopyMode mode) throws Exception
    {
        final Path dir = Files.createTempDirectory(tmp, "kv-bgsave");
        final SplittableRandom random = new SplittableRandom(7 + mode.ordinal());
        final List<List<byte[]>> before = new ArrayList<>();
        for (int i = 0; i < 20_000; i++)
        {
            before.add(RespConnection.args("SET", "key:" + i, "before-" + i));
            if (i % 100 == 0)
            {
                before.add(RespConnection.args("RPUSH", "list:" + (i % 7), "item-" + i));
                before.add(RespConnection.args("HSET", "hash:" + (i % 5), "f" + i, Integer.toString(i)));
                before.add(RespConnection.args("ZADD", "zset", Integer.toString(i % 97), "m" + i));
            }
        }
        final List<List<byte[]>> after = new ArrayList<>();
        for (int i = 0; i < 20_000; i++)
        {
            final int k = random.nextInt(25_000);
            after.add(random.nextInt(10) == 0 ? RespConnection.args("DEL", "key:" + k)
                : RespConnection.args("SET", "key:" + k, "after-" + i));
            if (i % 50 == 0)
            {
                after.add(RespConnection.args("RPUSH", "list:" + (i % 7), "late-" + i));
                after.add(RespConnection.args("HSET", "hash:" + (i % 5), "f" + i, "late"));
                after.add(RespConnection.args("ZADD", "zset", "1000", "m" + i));
            }
        }
        try (KvTestServer kv = new KvTestServer(dir, mode, "");
            RespConnection c = new RespConnection(kv.port());
            RespConnection watcher = new RespConnection(kv.port()))
        {
            final java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
            for (final List<byte[]> command : before)
            {
                stream.writeBytes(RealRedis.encode(command));
            }
            stream.writeBytes(RealRedis.encode(RespConnection.args("BGSAVE")));
            for (final List<byte[]> command : after)
            {
                stream.writeBytes(RealRedis.encode(command));
            }
            c.send(stream.toByteArray());
            for (int i = 0; i < before.size(); i++)
            {
                c.reply();
            }
            assertEquals("+Background saving started\r\n", new String(c.reply(), StandardCharsets.US_ASCII));
            for (int i = 0; i < after.size(); i++)
            {
                c.reply();
            }
            awaitBgsave(watcher);
            assertEquals("ok", watcher.info("rdb_last_bgsave_status"));
            final Path dump = dir.resolve("dump.rdb");
            assertTrue(Files.exists(dump), "no dump.rdb:\n" + kv.log());
            checkRdb(dump);
            try (RealRedis expected = RealRedis.start(); RealRedis loaded = RealRedis.startWith(dump))
            {
                for (final List<byte[]> command : before)
                {
                    expected.call(command);
                }
                final List<byte[]> digest = RespConnection.args("DEBUG", "DIGEST");
                assertArrayEquals(expected.call(digest), loaded.call(digest),
                    "the dump is not the state at the fork (" + mode + ")");
            }
            assertTrue(Long.parseLong(watcher.info("latest_fork_usec")) >= 0);
            assertNotNull(watcher.info("rdb_last_cow_size"));
        }
    }

    private static void awaitBgsave(final RespConnection c) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!"0".equals(c.info("rdb_bgsave_in_progress")))
        {
            assertTrue(System.nanoTime() < deadline, "BGSAVE did not finish");
            Thread.sleep(5);
        }
    }

    static void checkRdb(final Path file) throws IOException, InterruptedException
    {
        final String output = run(List.of(RealRedis.executable("redis-check-rdb"), file.toString()));
        assertTrue(output.contains("RDB looks OK"), output);
    }

    @Test
    void malformedAndRandomInputGetErrorsWhileOtherClientsGoOn() throws Exception
    {
        final SplittableRandom random = new SplittableRandom(99);
        try (KvTestServer kv = new KvTestServer(Files.createTempDirectory(tmp, "kv-fuzz"), CopyMode.COPA, "");
            RespConnection good = new RespConnection(kv.port()))
        {
            final List<String> cases = List.of("*2\r\n$3\r\nGET\r\nfoo\r\n", "*x\r\n", "*1\r\n$-5\r\n",
                "*1\r\n$999999999999\r\n", "set \"unbalanced\r\n", "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nbX\r\nPING\r\n",
                "*-1\r\nPING\r\n", "\r\n\r\nPING\r\n", "*2\r\n$4\r\nECHO\r\n$3\r\nab");
            try (RealRedis redis = RealRedis.start())
            {
                for (final String bad : cases)
                {
                    final byte[] input = bad.getBytes(StandardCharsets.ISO_8859_1);
                    final byte[] expected = exchange(redis.port, input);
                    final byte[] actual = exchange(kv.port(), input);
                    assertEquals(new String(expected, StandardCharsets.ISO_8859_1),
                        new String(actual, StandardCharsets.ISO_8859_1), "reply to " + bad.replace("\r\n", "\\r\\n"));
                    assertEquals("+PONG\r\n", good.call("PING"));
                }
            }
            for (int round = 0; round < 200; round++)
            {
                try (Socket s = new Socket("127.0.0.1", kv.port()))
                {
                    final byte[] junk = new byte[1 + random.nextInt(300)];
                    random.nextBytes(junk);
                    if (random.nextBoolean())
                    {
                        junk[0] = '*';
                    }
                    s.getOutputStream().write(junk);
                    s.shutdownOutput();
                    s.setSoTimeout(30_000);
                    s.getInputStream().readAllBytes();
                }
                assertEquals("+OK\r\n", good.call("SET", "alive", Integer.toString(round)));
            }
            assertEquals("$3\r\n199\r\n", good.call("GET", "alive"));
        }
    }

    /** Sends raw bytes, half-closes, and returns everything the server answers before it closes. */
    private static byte[] exchange(final int port, final byte[] input) throws IOException
    {
        try (Socket s = new Socket("127.0.0.1", port))
        {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(input);
            s.shutdownOutput();
            return s.getInputStream().readAllBytes();
        }
    }

    @Test
    void aClientThatDisconnectsMidCommandLeavesNothingBehind() throws Exception
    {
        try (KvTestServer kv = new KvTestServer(Files.createTempDirectory(tmp, "kv-cut"), CopyMode.COPA, "");
            RespConnection good = new RespConnection(kv.port()))
        {
            for (int i = 0; i < 50; i++)
            {
                try (Socket s = new Socket("127.0.0.1", kv.port()))
                {
                    s.getOutputStream().write(("*3\r\n$3\r\nSET\r\n$4\r\ncut" + (i % 10) + "\r\n$100\r\npartial")
                        .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                }
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!"1".equals(good.info("connected_clients")))
            {
                assertTrue(System.nanoTime() < deadline, "the cut connections were not closed");
                Thread.sleep(5);
            }
            assertEquals(":0\r\n", good.call("DBSIZE"));
            assertEquals("*0\r\n", good.call("KEYS", "*"));
        }
    }

    @Test
    void aSnapshotThatCannotBeWrittenIsReportedAndTheServerGoesOn() throws Exception
    {
        final Path dir = Files.createTempDirectory(tmp, "kv-gone");
        try (KvTestServer kv = new KvTestServer(dir, CopyMode.COPA, "3600 1");
            RespConnection c = new RespConnection(kv.port()))
        {
            assertEquals("+OK\r\n", c.call("SET", "a", "1"));
            assertEquals("+OK\r\n", c.call("SAVE"));
            // The directory disappears under the server.
            Files.delete(dir.resolve("dump.rdb"));
            Files.delete(dir);
            assertEquals("+Background saving started\r\n", c.call("BGSAVE"));
            awaitBgsave(c);
            assertEquals("err", c.info("rdb_last_bgsave_status"));
            assertEquals("-ERR\r\n", c.call("SAVE"));
            assertTrue(c.call("SET", "b", "2").startsWith("-MISCONF"), "writes go on after a failed save");
            assertEquals("$1\r\n1\r\n", c.call("GET", "a"));
            assertEquals("+PONG\r\n", c.call("PING"));
            // Like Redis, whose working directory went with it, the server keeps refusing writes but serves reads.
            assertEquals("$1\r\n1\r\n", c.call("GET", "a"));
            assertEquals("1", c.info("db0").substring(5, 6));
        }
    }

    @Test
    void configSetDirMovesWhereSnapshotsGo() throws Exception
    {
        final Path first = Files.createTempDirectory(tmp, "kv-dir-a");
        final Path second = Files.createTempDirectory(tmp, "kv-dir-b");
        try (KvTestServer kv = new KvTestServer(first, CopyMode.COPA, "");
            RespConnection c = new RespConnection(kv.port()))
        {
            assertEquals("*2\r\n$3\r\ndir\r\n$" + first.toString().length() + "\r\n" + first + "\r\n",
                c.call("CONFIG", "GET", "dir"));
            assertEquals("+OK\r\n", c.call("SET", "k", "v"));
            assertEquals("+OK\r\n", c.call("CONFIG", "SET", "dir", second.toString()));
            assertEquals("+OK\r\n", c.call("SAVE"));
            assertTrue(Files.exists(second.resolve("dump.rdb")));
            assertFalse(Files.exists(first.resolve("dump.rdb")));
            assertTrue(c.call("CONFIG", "SET", "dir", second.resolve("missing").toString()).startsWith("-ERR"));
            assertTrue(c.call("CONFIG", "SET", "dir", "relative").startsWith("-ERR"));
            checkRdb(second.resolve("dump.rdb"));
        }
    }

    @Test
    void aFullDiskLeavesThePreviousDumpIntact() throws Exception
    {
        final Path mount = Files.createTempDirectory(tmp, "kv-full");
        run(List.of("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount.toString()));
        try
        {
            try (KvTestServer kv = new KvTestServer(mount, CopyMode.COPA, "");
                RespConnection c = new RespConnection(kv.port()))
            {
                assertEquals("+OK\r\n", c.call("SET", "small", "value"));
                assertEquals("+OK\r\n", c.call("SAVE"));
                final byte[] previous = Files.readAllBytes(mount.resolve("dump.rdb"));
                assertEquals("+OK\r\n", c.call("DEBUG", "POPULATE", "5000", "big", "100"));
                assertEquals("+Background saving started\r\n", c.call("BGSAVE"));
                awaitBgsave(c);
                assertEquals("err", c.info("rdb_last_bgsave_status"));
                assertArrayEquals(previous, Files.readAllBytes(mount.resolve("dump.rdb")), "the old dump changed");
                try (var files = Files.list(mount))
                {
                    assertEquals(List.of("dump.rdb"), files.map(p -> p.getFileName().toString()).toList(),
                        "the failed temporary file was left behind");
                }
                assertEquals(":5001\r\n", c.call("DBSIZE"));
            }
        }
        finally
        {
            run(List.of("umount", mount.toString()));
        }
    }

    @Test
    void aRestartLoadsOurDumpAndRealRedisDumps() throws Exception
    {
        final Path dir = Files.createTempDirectory(tmp, "kv-restart");
        try (KvTestServer kv = new KvTestServer(dir, CopyMode.COPA, "");
            RespConnection c = new RespConnection(kv.port()))
        {
            assertEquals("+OK\r\n", c.call("SET", "s", "v"));
            assertEquals(":2\r\n", c.call("RPUSH", "l", "a", "b"));
            assertEquals("+OK\r\n", c.call("SET", "t", "x", "EX", "1000"));
            c.send(RealRedis.encode(RespConnection.args("SHUTDOWN", "SAVE")));
            assertEquals(0, kv.awaitExit());
        }
        try (KvTestServer kv = new KvTestServer(dir, CopyMode.COPA, "");
            RespConnection c = new RespConnection(kv.port()))
        {
            assertEquals("$1\r\nv\r\n", c.call("GET", "s"));
            assertEquals("*2\r\n$1\r\na\r\n$1\r\nb\r\n", c.call("LRANGE", "l", "0", "-1"));
            assertTrue(Long.parseLong(c.call("TTL", "t").substring(1).trim()) > 900);
        }
        final Path realDir = Files.createTempDirectory(tmp, "kv-from-redis");
        try (RealRedis redis = RealRedis.start())
        {
            redis.call(RespConnection.args("HSET", "h", "a", "1", "b", "2"));
            redis.call(RespConnection.args("SADD", "s", "1", "2", "3"));
            redis.call(RespConnection.args("SET", "long", "x".repeat(1000)));
            redis.call(RespConnection.args("SAVE"));
            Files.copy(redis.dir().resolve("dump.rdb"), realDir.resolve("dump.rdb"));
        }
        try (KvTestServer kv = new KvTestServer(realDir, CopyMode.COPA, "");
            RespConnection c = new RespConnection(kv.port()))
        {
            assertEquals("*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", c.call("HGETALL", "h"));
            assertEquals("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", c.call("SMEMBERS", "s"));
            assertEquals(":1000\r\n", c.call("STRLEN", "long"));
        }
    }

    @Test
    void savePointsTriggerBackgroundSavesAndKeysExpireActively() throws Exception
    {
        final Path dir = Files.createTempDirectory(tmp, "kv-savepoints");
        try (KvTestServer kv = new KvTestServer(dir, CopyMode.COPA, "1 1");
            RespConnection c = new RespConnection(kv.port()))
        {
            final String before = c.call("LASTSAVE");
            assertEquals("+OK\r\n", c.call("SET", "x", "1"));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (c.call("LASTSAVE").equals(before) || !"0".equals(c.info("rdb_bgsave_in_progress")))
            {
                assertTrue(System.nanoTime() < deadline, "the save point never fired:\n" + kv.log());
                Thread.sleep(20);
            }
            assertTrue(Files.exists(dir.resolve("dump.rdb")));
            assertEquals("0", c.info("rdb_changes_since_last_save"));
            for (int i = 0; i < 100; i++)
            {
                assertEquals("+OK\r\n", c.call("SET", "ephemeral:" + i, "v", "PX", "20"));
            }
            while (!c.call("DBSIZE").equals(":1\r\n"))
            {
                assertTrue(System.nanoTime() < deadline, "expired keys were never swept");
                Thread.sleep(20);
            }
        }
    }
}
