package dev.ufork.apps;

import dev.ufork.capability.Capability;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import dev.ufork.memory.Geometry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintStream;
import java.io.OutputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The map in µprocess memory, built with malloc, and children walking their relocated copies. */
class CapabilityHashMapTest
{
    private UforkSession session;

    @BeforeEach
    void boot()
    {
        session = UforkSession.boot(1L << 30, new PrintStream(OutputStream.nullOutputStream()));
    }

    @AfterEach
    void close()
    {
        session.close();
    }

    @Test
    void mapStoresFindsReplacesAndWalksItsEntries() throws InterruptedException
    {
        session.call(MapWorkload.areaFor(1000), posix ->
        {
            final CapabilityHashMap map = MapWorkload.build(posix, posix::malloc, 1000);
            assertEquals(1000, map.size());
            assertEquals(512, map.bucketCount());
            for (long i = 0; i < 1000; i++)
            {
                final long key = MapWorkload.keyOf(i);
                final Capability value = map.get(key);
                assertTrue(value.isTagged());
                assertEquals(MapWorkload.valueWord(key, 3), posix.memory().loadLong(value, 24));
            }
            assertFalse(map.get(MapWorkload.keyOf(1000)).isTagged());
            final Capability other = map.get(MapWorkload.keyOf(1));
            assertFalse(map.put(MapWorkload.keyOf(0), other, MapWorkload.VALUE_BYTES));
            assertEquals(1000, map.size());
            assertTrue(map.get(MapWorkload.keyOf(0)).addressEquals(other));
            // The walk checks every value against its key, so the replaced one is now the single bad entry.
            final MapWorkload.Walk walk = MapWorkload.walk(posix);
            assertEquals(1000, walk.visited());
            assertEquals(1, walk.bad());
            assertFalse(walk.verified(1000));
            assertThrows(UnsupportedOperationException.class, () -> CapabilityHashMap.attach(posix.memory(),
                map.header()).put(1, Capability.NULL, 0));
            assertThrows(IllegalArgumentException.class, () -> CapabilityHashMap.attach(posix.memory(),
                posix.scratch()));
            return null;
        });
    }

    @Test
    void aDamagedValueFailsTheWalk() throws InterruptedException
    {
        session.call(MapWorkload.areaFor(300), posix ->
        {
            final CapabilityHashMap map = MapWorkload.build(posix, posix::malloc, 300);
            assertTrue(MapWorkload.walk(posix).verified(300));
            assertFalse(MapWorkload.walk(posix).verified(301));
            posix.memory().storeLong(map.get(MapWorkload.keyOf(7)), 8, 0);
            final MapWorkload.Walk walk = MapWorkload.walk(posix);
            assertEquals(1, walk.bad());
            assertFalse(walk.verified(300));
            return null;
        });
    }

    @Test
    void childrenWalkTheirRelocatedCopiesInEveryModeAndCopyAsTheirModeSays() throws InterruptedException
    {
        final long entries = 2000;
        final MapForkExperiment.Report report = MapForkExperiment.run(session, entries, 1,
            List.of(CopyMode.COA, CopyMode.COPA, CopyMode.COPY));
        assertEquals(MapWorkload.areaFor(entries), report.areaBytes());
        assertTrue(report.parentPrivateBytes() > entries * (CapabilityHashMap.NODE_BYTES + MapWorkload.VALUE_BYTES));
        final long areaPages = report.areaBytes() / Geometry.PAGE_SIZE;
        final MapForkExperiment.ModeResult coa = report.modes().get(0);
        final MapForkExperiment.ModeResult copa = report.modes().get(1);
        final MapForkExperiment.ModeResult copy = report.modes().get(2);
        for (final MapForkExperiment.ModeResult mode : report.modes())
        {
            assertTrue(mode.verified(), mode.toString());
            assertEquals(entries, mode.verifiedEntries());
            assertTrue(mode.forkMicros() > 0);
        }
        // COPY copies every page the parent has touched at the fork (untouched ones read zero on both sides).
        assertTrue(copy.pagesCopiedAtFork() > areaPages / 2 && copy.pagesCopiedAtFork() <= areaPages,
            copy.toString());
        assertEquals(0, copy.pagesCopiedByWalk());
        assertEquals(copy.pagesCopiedAtFork() * Geometry.PAGE_SIZE, copy.childPrivateBytes());
        for (final MapForkExperiment.ModeResult lazy : List.of(coa, copa))
        {
            // Only the register file is copied at the fork; the rest is copied as the walk needs it.
            assertEquals(1, lazy.pagesCopiedAtFork(), lazy.toString());
            assertEquals((lazy.pagesCopiedAtFork() + lazy.pagesCopiedByWalk()) * Geometry.PAGE_SIZE,
                lazy.childPrivateBytes(), lazy.toString());
        }
        // COA copies every page the walk reads; COPA leaves the value pages, which hold no capability, shared.
        final long valuePages = entries * MapWorkload.VALUE_BYTES / Geometry.PAGE_SIZE;
        assertTrue(coa.pagesCopiedByWalk() - copa.pagesCopiedByWalk() >= valuePages - 1,
            "COA copied " + coa.pagesCopiedByWalk() + ", COPA " + copa.pagesCopiedByWalk());
        assertTrue(copa.childProportionalBytes() > copa.childPrivateBytes(), copa.toString());
    }
}
