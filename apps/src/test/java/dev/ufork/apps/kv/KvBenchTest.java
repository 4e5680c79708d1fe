package dev.ufork.apps.kv;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ufork bench kv} end to end on a small keyspace: it starts {@code ufork kv} and a real redis-server, and its
 * CSV has every metric for both, with plausible values; bad arguments get the usage and exit status 2. Needs
 * redis-server and redis-benchmark (.ci/run installs them).
 */
class KvBenchTest
{
    private static final List<String> METRICS = List.of("fork_latency", "bgsave_time", "child_private_bytes",
        "set_p1", "get_p1", "set_p16", "get_p16", "set_random_p1", "get_random_p1", "set_random_p16",
        "get_random_p16");

    @Test
    void measuresEveryMetricForUforkAndRedis()
    {
        RealRedis.executable("redis-server");
        RealRedis.executable("redis-benchmark");
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status = KvBench.run(new String[] {"--keys", "2000", "--bgsaves", "1", "--requests", "2000",
            "--random-keys"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        final String csv = out.toString(StandardCharsets.UTF_8);
        final String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, "exit status; stderr:\n" + log);
        final List<String> lines = csv.lines().toList();
        assertEquals(KvBench.CSV_HEADER, lines.get(0), csv);
        final Map<String, Double> values = new HashMap<>();
        for (final String line : lines.subList(1, lines.size()))
        {
            final String[] cells = line.split(",");
            assertEquals(5, cells.length, line);
            assertEquals("2000", cells[1], line);
            values.put(cells[0] + "/" + cells[2], Double.parseDouble(cells[3]));
        }
        for (final String system : List.of("ufork", "redis"))
        {
            for (final String metric : METRICS)
            {
                final Double value = values.get(metric + "/" + system);
                assertTrue(value != null, metric + " missing for " + system + " in\n" + csv);
                assertTrue(value > 0, metric + " of " + system + " is " + value);
            }
        }
        assertEquals(2 * METRICS.size(), values.size(), "no other rows:\n" + csv);
        // A 2000-key keyspace is copied in well under a second, and every BGSAVE's child copies something.
        assertTrue(values.get("bgsave_time/ufork") < 10_000, csv);
    }

    @Test
    void badArgumentsGetTheUsageAndStatusTwo()
    {
        for (final String[] args : List.of(new String[] {"--keys"}, new String[] {"--format", "xml"},
            new String[] {"--bgsaves", "0"}, new String[] {"--modes", "cow"}, new String[] {"--nonsense", "1"}))
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            final int status = KvBench.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(2, status, String.join(" ", args));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: ufork bench kv"), String.join(" ", args));
            assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing on stdout for " + String.join(" ", args));
        }
    }
}
