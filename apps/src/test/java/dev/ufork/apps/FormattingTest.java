package dev.ufork.apps;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CSV row, the run length's loop, units and the text table. */
class FormattingTest
{
    @Test
    void csvHasTheAgreedHeaderAndOneRowPerMeasurement()
    {
        assertEquals("benchmark,system,ops,ops_per_sec", Measurement.CSV_HEADER);
        final Measurement m = new Measurement("spawn", "ufork", 150_000, 2.0);
        assertEquals(75_000.0, m.opsPerSecond());
        assertEquals("spawn,ufork,150000,75000.0", m.csvRow());
        assertEquals("pipe,linux,3,2.1", new Measurement("pipe", "linux", 3, 1.428571).csvRow());
        assertThrows(IllegalArgumentException.class, () -> new Measurement("spawn", "ufork", 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Measurement("spawn", "ufork", 1, 0));
    }

    @Test
    void aFixedRunLengthRunsExactlyThatManyOperationsAfterItsWarmUp()
    {
        final AtomicLong calls = new AtomicLong();
        final RunLength.Result result = new RunLength(25, 0, 0).measure(i -> calls.incrementAndGet());
        assertEquals(25, result.ops());
        assertEquals(25, calls.get());
        final AtomicLong lastIndex = new AtomicLong(-1);
        final RunLength.Result warmed = new RunLength(10, 0, 0.01).measure(lastIndex::set);
        assertEquals(10, warmed.ops());
        assertEquals(9, lastIndex.get());
    }

    @Test
    void aTimedRunLengthRunsUntilItsTimeIsUp()
    {
        final RunLength.Result result = new RunLength(0, 0.02, 0).measure(i -> Thread.onSpinWait());
        assertTrue(result.ops() > 0);
        assertTrue(result.nanos() >= 20_000_000L, "stopped after " + result.nanos() + " ns");
        assertThrows(IllegalArgumentException.class, () -> new RunLength(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new RunLength(-1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new RunLength(1, 0, -1));
    }

    @Test
    void noWarmUpIsDoneAtOnceAndAShortOneEnds()
    {
        assertTrue(new WarmUp(0).done());
        final WarmUp warmUp = new WarmUp(0.1);
        long spins = 0;
        while (!warmUp.done())
        {
            spins++;
        }
        assertTrue(spins > 0, "a warm-up with a minimum ended before its first check");
    }

    @Test
    void slicesShareTheOperationsOrTheTimeAndOnlyTheFirstWarmsUp()
    {
        final RunLength ops = new RunLength(10, 0, 0.5);
        assertEquals(new RunLength(4, 0, 0.5), ops.slice(0, 3));
        assertEquals(new RunLength(3, 0, 0), ops.slice(1, 3));
        assertEquals(new RunLength(3, 0, 0), ops.slice(2, 3));
        assertEquals(new RunLength(0, 0.5, 0), new RunLength(0, 2, 1).slice(3, 4));
        assertThrows(IllegalArgumentException.class, () -> ops.slice(3, 3));
        assertThrows(IllegalArgumentException.class, () -> new RunLength(2, 0, 0).slice(0, 3));
    }

    @Test
    void interleavedRoundsAlternateAndAddUp() throws InterruptedException
    {
        final List<String> order = new ArrayList<>();
        final List<Measurement> rows = Interleaved.measure(new RunLength(7, 0, 0.1), 3,
            slice -> record(order, "ufork", slice), slice -> record(order, "linux", slice));
        assertEquals(List.of("ufork 3 0.1", "linux 3 0.1", "ufork 2 0.0", "linux 2 0.0", "ufork 2 0.0",
            "linux 2 0.0"), order);
        assertEquals(List.of(new Measurement("spawn", "ufork", 7, 7), new Measurement("spawn", "linux", 7, 7)), rows);
        order.clear();
        assertEquals(List.of(new Measurement("spawn", "ufork", 2, 2)),
            Interleaved.measure(new RunLength(2, 0, 0), 5, slice -> record(order, "ufork", slice), null));
        assertEquals(2, order.size());
        assertThrows(IllegalArgumentException.class, () -> Measurement.combine(List.of(
            new Measurement("spawn", "ufork", 1, 1), new Measurement("pipe", "ufork", 1, 1))));
    }

    /** A fake side: one second per operation. */
    private static Measurement record(final List<String> order, final String system, final RunLength slice)
    {
        order.add(system + " " + slice.ops() + " " + slice.warmupSeconds());
        return new Measurement("spawn", system, slice.ops(), slice.ops());
    }

    @Test
    void unitsReadWell()
    {
        assertEquals("4.2 µs", Units.duration(4.24));
        assertEquals("61 µs", Units.duration(61.4));
        assertEquals("1.25 ms", Units.duration(1250));
        assertEquals("2.31 s", Units.seconds(2.31));
        assertEquals("512 B", Units.bytes(512));
        assertEquals("64 KiB", Units.bytes(64 << 10));
        assertEquals("26.9 MiB", Units.bytes(28_200_000));
        assertEquals("64 GiB", Units.bytes(64L << 30));
        assertEquals("300,000", Units.count(300_000));
        assertEquals("74,985", Units.rate(74_985.2));
        assertEquals("ufork is 23.4x Linux", Units.comparison(234, 10));
        assertEquals("Linux is 2.00x ufork", Units.comparison(5, 10));
        assertEquals("7.80x faster", Units.faster(10, 78));
        assertEquals("34.0x slower", Units.faster(340, 10));
    }

    @Test
    void tableColumnsLineUp()
    {
        final String table = new TextTable("  ")
            .column("system", TextTable.Align.LEFT)
            .column("forks/s", TextTable.Align.RIGHT)
            .row("ufork", "150,000")
            .row("linux", "4,000")
            .render();
        assertEquals("""
              system   forks/s
              ufork    150,000
              linux      4,000
            """, table);
        assertThrows(IllegalArgumentException.class, () -> new TextTable("").column("a", TextTable.Align.LEFT)
            .row("1", "2"));
    }
}
