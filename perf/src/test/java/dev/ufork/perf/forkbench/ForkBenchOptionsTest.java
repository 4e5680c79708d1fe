package dev.ufork.perf.forkbench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line of {@code ./ufork bench fork}: defaults, accepted forms, and a clear message for every kind of
 * bad input.
 */
class ForkBenchOptionsTest
{
    private static final long K = 1L << 10;
    private static final long M = 1L << 20;
    private static final long G = 1L << 30;

    private static ForkBenchOptions parse(final String... args)
    {
        return ForkBenchOptions.parse(args);
    }

    private static String error(final String... args)
    {
        return assertThrows(IllegalArgumentException.class, () -> ForkBenchOptions.parse(args)).getMessage();
    }

    @Test
    void defaultsAreTheIssuesSizesAndModes()
    {
        final ForkBenchOptions options = parse();
        assertEquals(List.of(64 * K, M, 16 * M, 256 * M, G), options.sizes());
        assertEquals(List.of(ForkMode.COPY, ForkMode.COA, ForkMode.COPA, ForkMode.LINUX), options.modes());
        assertEquals(ForkBenchOptions.Format.TABLE, options.format());
        assertFalse(options.touch());
        assertEquals(200, options.forksFor(64 * K));
        assertEquals(200, options.forksFor(M));
        assertEquals(50, options.forksFor(16 * M));
        assertEquals(10, options.forksFor(256 * M));
        assertEquals(20, options.warmupFor(M));
        assertEquals(2, options.warmupFor(G));
        assertEquals(ForkBenchOptions.DEFAULT_WARMUP_NANOS, options.warmupNanos());
    }

    @Test
    void givenValuesReplaceTheDefaults()
    {
        final ForkBenchOptions options = parse("--sizes", "64K,1536k,2MiB,1G,8192", "--modes=COPA,linux",
            "--format", "csv", "--forks", "3", "--warmup=0", "--touch");
        assertEquals(List.of(64 * K, 1536 * K, 2 * M, G, 8192L), options.sizes());
        assertEquals(List.of(ForkMode.COPA, ForkMode.LINUX), options.modes());
        assertEquals(ForkBenchOptions.Format.CSV, options.format());
        assertEquals(3, options.forksFor(G));
        assertEquals(0, options.warmupFor(64 * K));
        assertEquals(0, options.warmupNanos(), "an explicit --warmup is a count, not a time");
        assertTrue(options.touch());
    }

    @Test
    void helpReturnsNull()
    {
        assertNull(parse("--help"));
        assertNull(parse("--sizes", "64K", "-h"));
    }

    @Test
    void unknownModeNamesTheKnownOnes()
    {
        final String message = error("--modes", "copa,cow");
        assertTrue(message.contains("'cow'") && message.contains("copy, coa, copa, linux"), message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "64X", "K", "-64K", "1.5M", "64 K", "1T"})
    void badSizeSaysHowToWriteOne(final String size)
    {
        final String message = error("--sizes", size);
        assertTrue(message.contains("bad size") && message.contains("64K"), message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0K", "65G", "99999999999G"})
    void sizeOutOfRangeSaysTheRange(final String size)
    {
        final String message = error("--sizes", size);
        assertTrue(message.contains("out of range") || message.contains("bad size"), message);
    }

    @Test
    void sizeThatIsNoWholePageIsRefused()
    {
        assertTrue(error("--sizes", "6K").contains("not a multiple of 4K"));
        assertTrue(error("--sizes", "4097").contains("not a multiple of 4K"));
    }

    @Test
    void emptyItemsAreRefused()
    {
        assertTrue(error("--sizes", "64K,,1M").contains("empty item in --sizes"));
        assertTrue(error("--modes", "copa,").contains("empty item in --modes"));
        assertTrue(error("--sizes=").contains("empty item in --sizes"));
    }

    @Test
    void duplicatesAreRefused()
    {
        assertTrue(error("--sizes", "1M,64K,1024K").contains("given twice in --sizes"));
        assertTrue(error("--modes", "copa,COPA").contains("mode 'copa' given twice"));
    }

    @Test
    void missingValuesAreNamed()
    {
        assertEquals("--sizes needs a value", error("--sizes"));
        assertEquals("--modes needs a value", error("--modes", "--touch"));
        assertEquals("--format needs a value", error("--touch", "--format"));
        assertEquals("--forks needs a value", error("--forks"));
        assertEquals("--warmup needs a value", error("--warmup", "--sizes", "64K"));
    }

    @Test
    void badCountsAreRefused()
    {
        assertTrue(error("--forks", "0").contains("between 1 and 1000000"));
        assertTrue(error("--forks", "ten").contains("whole number"));
        assertTrue(error("--warmup", "-1").contains("between 0 and 1000000"));
        assertTrue(error("--forks", "1000001").contains("between 1 and 1000000"));
    }

    @Test
    void otherBadArgumentsAreRefused()
    {
        assertTrue(error("--format", "json").contains("unknown format 'json' (known: csv, table)"));
        assertEquals("unknown argument '--size'", error("--size", "64K"));
        assertEquals("unknown argument 'copa'", error("copa"));
        assertEquals("--touch takes no value", error("--touch=yes"));
    }

    @Test
    void runnerReportsBadArgumentsWithStatus2AndTheUsage()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status = ForkBench.run(new String[] {"--modes", "cow"}, print(out), print(err));
        assertEquals(2, status);
        assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing on stdout");
        final String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("ufork bench fork: unknown mode 'cow'"), text);
        assertTrue(text.contains("usage: ./ufork bench fork"), text);
    }

    @Test
    void runnerPrintsTheUsageForHelp()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, ForkBench.run(new String[] {"--help"}, print(out), print(new ByteArrayOutputStream())));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("usage: ./ufork bench fork"));
    }

    @Test
    void sizesFormatInTheirShortestExactForm()
    {
        assertEquals("64K", ForkBenchOptions.formatSize(64 * K));
        assertEquals("1536K", ForkBenchOptions.formatSize(1536 * K));
        assertEquals("1M", ForkBenchOptions.formatSize(M));
        assertEquals("1G", ForkBenchOptions.formatSize(G));
        assertEquals("100", ForkBenchOptions.formatSize(100));
    }

    static PrintStream print(final ByteArrayOutputStream bytes)
    {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
