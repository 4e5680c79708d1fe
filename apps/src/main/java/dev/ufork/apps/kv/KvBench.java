package dev.ufork.apps.kv;

import dev.ufork.kernel.CopyMode;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ufork bench kv}: ufork's kv server against a real redis-server in the same run, driven by the real Redis
 * tools. For each key count: fill with {@code DEBUG POPULATE N key 100}, take BGSAVEs (fork latency as the server
 * reports it in {@code latest_fork_usec}, total time from the BGSAVE command until {@code rdb_bgsave_in_progress}
 * goes back to 0, and the child's private bytes {@code rdb_last_cow_size}), then redis-benchmark SET and GET with 50
 * clients at {@code -P 1} and {@code -P 16} (and, with {@code --random-keys}, again with {@code -r N}), after one
 * unreported pass of those on each server. Installs nothing:
 * without redis-server it says how to get it and measures ufork alone; without redis-benchmark it skips the
 * throughput rows.
 * <p>
 * Thread safety: a command-line entry point.
 */
public final class KvBench
{
    static final String CSV_HEADER = "metric,keys,system,value,unit";

    static final String USAGE = """
        usage: ufork bench kv [--keys LIST] [--modes LIST] [--format csv|table] [--bgsaves N] [--requests N]
                              [--random-keys]

        ufork kv against a real redis-server, both started now on loopback ports, driven by redis-cli style commands
        and redis-benchmark.

          --keys LIST     key counts, comma-separated, K/M suffixes allowed (default 10000,100000,1000000)
          --modes LIST    ufork fork modes to measure: copa, coa, copy (default copa; rows are 'ufork' for copa
                          alone, 'ufork-<mode>' when several are asked for)
          --format F      csv (header metric,keys,system,value,unit) or table (default csv)
          --bgsaves N     BGSAVEs per key count and system; the median is reported (default 3)
          --requests N    redis-benchmark requests per test (default 100000)
          --random-keys   also run redis-benchmark with -r KEYS (random keys over the key count), as rows
                          set_random_p1, get_random_p1, set_random_p16, get_random_p16; redis-benchmark's keys
                          (key:000000000042) are not DEBUG POPULATE's (key:42), so a GET finds only keys the
                          SETs before it wrote: mostly misses when the key count is far above --requests, mostly
                          hits when it is below; the same on both servers
        """;

    /** One measured value. */
    record Row(String metric, long keys, String system, double value, String unit)
    {
    }

    private KvBench()
    {
    }

    /**
     * @param args the arguments after {@code bench kv}.
     * @return the exit status.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        List<Long> keys = List.of(10_000L, 100_000L, 1_000_000L);
        List<CopyMode> modes = List.of(CopyMode.COPA);
        String format = "csv";
        int bgsaves = 3;
        int requests = 100_000;
        boolean randomKeys = false;
        try
        {
            for (int i = 0; i < args.length; i++)
            {
                final String arg = args[i];
                if (arg.equals("-h") || arg.equals("--help"))
                {
                    out.print(USAGE);
                    return 0;
                }
                if (arg.equals("--random-keys"))
                {
                    randomKeys = true;
                    continue;
                }
                if (i + 1 >= args.length)
                {
                    throw new IllegalArgumentException(arg + " needs a value");
                }
                final String value = args[++i];
                switch (arg)
                {
                    case "--keys" -> keys = parseCounts(value);
                    case "--modes" ->
                    {
                        final List<CopyMode> list = new ArrayList<>();
                        for (final String m : value.split(","))
                        {
                            list.add(KvOptions.parseMode(m.trim()));
                        }
                        modes = List.copyOf(list);
                    }
                    case "--format" ->
                    {
                        if (!value.equals("csv") && !value.equals("table"))
                        {
                            throw new IllegalArgumentException("unknown format '" + value + "' (known: csv, table)");
                        }
                        format = value;
                    }
                    case "--bgsaves" -> bgsaves = positive(arg, value);
                    case "--requests" -> requests = positive(arg, value);
                    default -> throw new IllegalArgumentException("unknown argument '" + arg + "'");
                }
            }
        }
        catch (final IllegalArgumentException e)
        {
            err.println("ufork bench kv: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        final String redisServer = find("redis-server");
        final String benchmark = find("redis-benchmark");
        if (redisServer == null)
        {
            err.println("bench kv: redis-server not found; measuring ufork alone. Install it to compare, e.g. "
                + "apt-get install redis-server");
        }
        if (benchmark == null)
        {
            err.println("bench kv: redis-benchmark not found; skipping the throughput rows. Install it with "
                + "apt-get install redis-tools");
        }
        final List<Row> rows = new ArrayList<>();
        try
        {
            for (final CopyMode mode : modes)
            {
                final String system = modes.size() == 1 && mode == CopyMode.COPA ? "ufork"
                    : "ufork-" + mode.name().toLowerCase(Locale.ROOT);
                try (Server server = Server.ufork(mode, maxKeys(keys), err))
                {
                    measure(server, system, keys, bgsaves, requests, randomKeys, benchmark, rows, err);
                }
            }
            if (redisServer != null)
            {
                try (Server server = Server.redis(redisServer, err))
                {
                    measure(server, "redis", keys, bgsaves, requests, randomKeys, benchmark, rows, err);
                }
            }
        }
        catch (final IOException e)
        {
            err.println("bench kv: " + e.getMessage());
            return 1;
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return 1;
        }
        if (format.equals("csv"))
        {
            out.println(CSV_HEADER);
            for (final Row row : rows)
            {
                out.println(row.metric() + "," + row.keys() + "," + row.system() + ","
                    + (row.value() == Math.rint(row.value()) ? Long.toString((long)row.value())
                    : String.format(Locale.ROOT, "%.2f", row.value())) + "," + row.unit());
            }
        }
        else
        {
            printTable(rows, out);
        }
        return 0;
    }

    private static long maxKeys(final List<Long> keys)
    {
        return keys.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private static int positive(final String option, final String value)
    {
        try
        {
            final int n = Integer.parseInt(value);
            if (n < 1)
            {
                throw new NumberFormatException();
            }
            return n;
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(option + " needs a positive number, not '" + value + "'");
        }
    }

    static List<Long> parseCounts(final String list)
    {
        final List<Long> out = new ArrayList<>();
        for (final String item : list.split(","))
        {
            final String t = item.trim().toUpperCase(Locale.ROOT);
            long unit = 1;
            String digits = t;
            if (t.endsWith("K") || t.endsWith("M"))
            {
                unit = t.endsWith("K") ? 1_000 : 1_000_000;
                digits = t.substring(0, t.length() - 1);
            }
            try
            {
                final long n = Long.parseLong(digits) * unit;
                if (n < 0 || n > 100_000_000)
                {
                    throw new NumberFormatException();
                }
                out.add(n);
            }
            catch (final NumberFormatException e)
            {
                throw new IllegalArgumentException("bad key count '" + item + "' in --keys (0 to 100M, e.g. 10000,1M)");
            }
        }
        return List.copyOf(out);
    }

    private static String find(final String name)
    {
        for (final String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/local/bin").split(":"))
        {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name)))
            {
                return Path.of(dir, name).toString();
            }
        }
        return null;
    }

    private static void measure(final Server server, final String system, final List<Long> keys, final int bgsaves,
        final int requests, final boolean randomKeys, final String benchmark, final List<Row> rows,
        final PrintStream log)
        throws IOException, InterruptedException
    {
        if (benchmark != null)
        {
            // One unreported pass of the throughput tests per server, the same for both: a JVM server runs its
            // request path interpreted until the JIT has seen it, and the first key count would pay for that.
            log.println("bench kv: " + system + ": warm-up pass of redis-benchmark (not reported)");
            server.call("FLUSHALL");
            server.benchmark(benchmark, requests, 1, 0);
            server.benchmark(benchmark, requests, 16, 0);
        }
        for (final long n : keys)
        {
            log.println("bench kv: " + system + " with " + n + " keys");
            server.call("FLUSHALL");
            server.call("DEBUG", "POPULATE", Long.toString(n), "key", "100");
            final List<Double> fork = new ArrayList<>();
            final List<Double> total = new ArrayList<>();
            final List<Double> cow = new ArrayList<>();
            // One unreported BGSAVE first: the JIT compiles the snapshot path of a JVM server on its first run.
            for (int i = -1; i < bgsaves; i++)
            {
                final long start = System.nanoTime();
                final String reply = server.call("BGSAVE");
                if (!reply.startsWith("+"))
                {
                    throw new IOException(system + " refused BGSAVE: " + reply.trim());
                }
                Map<String, String> info;
                while (true)
                {
                    info = server.info("persistence");
                    if ("0".equals(info.get("rdb_bgsave_in_progress")))
                    {
                        break;
                    }
                    Thread.sleep(1);
                }
                final double elapsed = (System.nanoTime() - start) / 1e6;
                if (!"ok".equals(info.get("rdb_last_bgsave_status")))
                {
                    throw new IOException(system + " BGSAVE failed: rdb_last_bgsave_status "
                        + info.get("rdb_last_bgsave_status"));
                }
                if (i < 0)
                {
                    continue;
                }
                total.add(elapsed);
                fork.add(Double.parseDouble(server.info("stats").getOrDefault("latest_fork_usec", "0")));
                cow.add(Double.parseDouble(info.getOrDefault("rdb_last_cow_size", "0")));
            }
            rows.add(new Row("fork_latency", n, system, median(fork), "us"));
            rows.add(new Row("bgsave_time", n, system, median(total), "ms"));
            rows.add(new Row("child_private_bytes", n, system, median(cow), "bytes"));
            if (benchmark != null)
            {
                for (final int pipeline : new int[] {1, 16})
                {
                    final Map<String, Double> rps = server.benchmark(benchmark, requests, pipeline, 0);
                    rows.add(new Row("set_p" + pipeline, n, system, rps.getOrDefault("SET", 0.0), "rps"));
                    rows.add(new Row("get_p" + pipeline, n, system, rps.getOrDefault("GET", 0.0), "rps"));
                }
                // Last for this key count: the random SETs add keys, and the next count starts with FLUSHALL.
                for (final int pipeline : randomKeys ? new int[] {1, 16} : new int[0])
                {
                    final Map<String, Double> rps = server.benchmark(benchmark, requests, pipeline, n);
                    rows.add(new Row("set_random_p" + pipeline, n, system, rps.getOrDefault("SET", 0.0), "rps"));
                    rows.add(new Row("get_random_p" + pipeline, n, system, rps.getOrDefault("GET", 0.0), "rps"));
                }
            }
        }
    }

    private static double median(final List<Double> values)
    {
        final List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        final int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static void printTable(final List<Row> rows, final PrintStream out)
    {
        final Map<String, Map<String, Row>> byMetric = new LinkedHashMap<>();
        for (final Row row : rows)
        {
            byMetric.computeIfAbsent(row.metric() + " @" + row.keys(), k -> new LinkedHashMap<>())
                .put(row.system(), row);
        }
        out.printf(Locale.ROOT, "%-28s %-12s %16s %12s%n", "metric @keys", "system", "value", "vs redis");
        for (final Map.Entry<String, Map<String, Row>> e : byMetric.entrySet())
        {
            final Row redis = e.getValue().get("redis");
            for (final Row row : e.getValue().values())
            {
                final String ratio = redis == null || redis.value() == 0 ? "-"
                    : String.format(Locale.ROOT, "%.2fx", row.value() / redis.value());
                out.printf(Locale.ROOT, "%-28s %-12s %12.1f %-3s %12s%n", e.getKey(), row.system(), row.value(),
                    row.unit(), ratio);
            }
        }
    }

    /** A server under test: its process, port and a client connection. */
    private static final class Server implements AutoCloseable
    {
        private final Process process;
        private final Path dir;
        private final int port;
        private final Socket socket;
        private final OutputStream out;
        private final InputStream in;

        private Server(final Process process, final Path dir, final int port) throws IOException, InterruptedException
        {
            this.process = process;
            this.dir = dir;
            this.port = port;
            Socket connected = null;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (connected == null)
            {
                try
                {
                    connected = new Socket("127.0.0.1", port);
                }
                catch (final IOException e)
                {
                    if (!process.isAlive() || System.nanoTime() > deadline)
                    {
                        process.destroyForcibly();
                        throw new IOException("the server on port " + port + " did not start", e);
                    }
                    Thread.sleep(20);
                }
            }
            this.socket = connected;
            this.out = socket.getOutputStream();
            this.in = new BufferedInputStream(socket.getInputStream());
        }

        static int freePort() throws IOException
        {
            try (ServerSocket s = new ServerSocket(0))
            {
                return s.getLocalPort();
            }
        }

        static Server ufork(final CopyMode mode, final long keys, final PrintStream log)
            throws IOException, InterruptedException
        {
            final Path dir = Files.createTempDirectory("ufork-bench-kv");
            final int port = freePort();
            final String java = ProcessHandle.current().info().command().orElse("java");
            // Room for the keyspace: about 300 bytes a key with 100-byte values, at least 1 GiB.
            final long memory = Math.max(1L << 30, Long.highestOneBit(Math.max(1, keys * 300)) * 2);
            final List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--add-modules", "jdk.incubator.vector", "-Xmx2g", "-XX:AutoBoxCacheMax=65536", "-cp",
                System.getProperty("java.class.path"),
                "dev.ufork.apps.Main", "kv", "--port", Integer.toString(port), "--dir", dir.toString(), "--save", "",
                "--fork-mode", mode.name().toLowerCase(Locale.ROOT), "--memory", (memory >> 20) + "M"));
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("server.log").toFile()).start();
            log.println("bench kv: started ufork kv (" + mode + ") on port " + port + ", log " + dir.resolve("server.log"));
            return new Server(process, dir, port);
        }

        static Server redis(final String executable, final PrintStream log) throws IOException, InterruptedException
        {
            final Path dir = Files.createTempDirectory("ufork-bench-redis");
            final int port = freePort();
            final Process process = new ProcessBuilder(executable, "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--enable-debug-command",
                "local").redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
            log.println("bench kv: started redis-server on port " + port);
            return new Server(process, dir, port);
        }

        String call(final String... words) throws IOException
        {
            final ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(("*" + words.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            for (final String w : words)
            {
                final byte[] bytes = w.getBytes(StandardCharsets.UTF_8);
                b.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
                b.writeBytes(bytes);
                b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write(b.toByteArray());
            out.flush();
            return readReply();
        }

        private String readLine() throws IOException
        {
            final StringBuilder s = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0)
            {
                if (c == '\n')
                {
                    return s.toString();
                }
                if (c != '\r')
                {
                    s.append((char)c);
                }
            }
            throw new IOException("the server closed the connection");
        }

        private String readReply() throws IOException
        {
            final String line = readLine();
            if (line.startsWith("$"))
            {
                final int n = Integer.parseInt(line.substring(1));
                if (n < 0)
                {
                    return null;
                }
                final String body = new String(in.readNBytes(n), StandardCharsets.UTF_8);
                in.readNBytes(2);
                return body;
            }
            return line + "\r\n";
        }

        Map<String, String> info(final String section) throws IOException
        {
            final String text = call("INFO", section);
            final Map<String, String> fields = new LinkedHashMap<>();
            for (final String line : text.split("\r\n"))
            {
                final int colon = line.indexOf(':');
                if (colon > 0 && !line.startsWith("#"))
                {
                    fields.put(line.substring(0, colon), line.substring(colon + 1));
                }
            }
            return fields;
        }

        /** @param randomKeys the range of {@code -r}, or 0 for redis-benchmark's single key. */
        Map<String, Double> benchmark(final String executable, final int requests, final int pipeline,
            final long randomKeys) throws IOException, InterruptedException
        {
            final List<String> command = new ArrayList<>(List.of(executable, "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-c", "50", "-n", Integer.toString(requests), "-P", Integer.toString(pipeline),
                "-t", "set,get", "--csv"));
            if (randomKeys > 0)
            {
                command.addAll(List.of("-r", Long.toString(randomKeys)));
            }
            final Process run = new ProcessBuilder(command).redirectErrorStream(true).start();
            final Map<String, Double> rps = new LinkedHashMap<>();
            final StringBuilder all = new StringBuilder();
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(run.getInputStream(),
                StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = reader.readLine()) != null)
                {
                    all.append(line).append('\n');
                    final String[] cells = line.split(",");
                    if (cells.length >= 2 && cells[0].startsWith("\"") && !cells[0].equals("\"test\""))
                    {
                        rps.put(cells[0].replace("\"", ""), Double.parseDouble(cells[1].replace("\"", "")));
                    }
                }
            }
            if (run.waitFor() != 0 || all.toString().contains("Error"))
            {
                throw new IOException("redis-benchmark failed against port " + port + ":\n" + all);
            }
            return rps;
        }

        @Override
        public void close() throws IOException
        {
            try
            {
                call("SHUTDOWN", "NOSAVE");
            }
            catch (final IOException e)
            {
                // The server closes the connection as it goes: that is the expected end.
            }
            socket.close();
            try
            {
                if (!process.waitFor(30, TimeUnit.SECONDS))
                {
                    process.destroyForcibly();
                }
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
            deleteTree(dir);
        }

        private static void deleteTree(final Path dir)
        {
            final File[] files = dir.toFile().listFiles();
            if (files != null)
            {
                for (final File f : files)
                {
                    f.delete();
                }
            }
            dir.toFile().delete();
        }
    }
}
