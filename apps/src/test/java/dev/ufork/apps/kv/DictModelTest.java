package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Dict} and its {@link EntrySlab}s against a plain map, over seeded random inserts and removals on the µprocess
 * malloc: a keyspace-like dict with a slab of its own and two dicts sharing one, interleaved so that their entries
 * and the freed ones mix. After every batch each dict holds exactly the model's keys and extras, by lookup, by its
 * hash-order walk and, for the one with its own slab, by its memory-order walk, which visits each entry once, at the
 * address the table links to. {@code -Dufork.seed=N} replays a run.
 */
class DictModelTest
{
    private static final int OPERATIONS = 20_000;
    private static final int KEYS = 600;

    @Test
    void dictsMatchTheModelWhateverTheirSlab(@TempDir final Path tmp) throws Exception
    {
        final long seed = Long.getLong("ufork.seed", 0xD1C7_5EEDL);
        final String replay = "seed=" + seed + " (replay with -Dufork.seed=" + seed + ")";
        try
        {
            InProcess.run(tmp, 64 << 20, posix -> run(new Mem(posix.memory(), new PosixHeap(posix)),
                new SplittableRandom(seed)));
        }
        catch (final AssertionError e)
        {
            throw new AssertionError(replay + ": " + e.getMessage(), e);
        }
    }

    /** Freeing an entry twice is refused and leaves the dict and its slab as they were. */
    @Test
    void anEntryFreedTwiceIsRefusedAndChangesNothing(@TempDir final Path tmp) throws Exception
    {
        InProcess.run(tmp, 16 << 20, posix ->
        {
            final Mem mem = new Mem(posix.memory(), new PosixHeap(posix));
            final Dict dict = Dict.createWithOwnSlab(mem);
            final Map<String, Long> model = new HashMap<>();
            for (int i = 0; i < 10; i++)
            {
                final byte[] key = ("k" + i).getBytes(StandardCharsets.US_ASCII);
                mem.memory.storeLong(dict.insert(mem.newSds(key), Mem.hash(key)), Dict.EXTRA, i);
                model.put("k" + i, (long)i);
            }
            final byte[] gone = "k3".getBytes(StandardCharsets.US_ASCII);
            final Capability entry = dict.unlink(gone, Mem.hash(gone));
            dict.freeEntry(entry);
            model.remove("k3");
            assertThrows(IllegalStateException.class, () -> dict.freeEntry(entry));
            check(mem, dict, model, true, "after a refused second free");
            // The slot is reused once, by the next insert, and the one after takes a fresh slot.
            final byte[] a = "a".getBytes(StandardCharsets.US_ASCII);
            final byte[] b = "b".getBytes(StandardCharsets.US_ASCII);
            assertEquals(entry.address(), dict.insert(mem.newSds(a), Mem.hash(a)).address(), "the freed slot is reused");
            assertTrue(dict.insert(mem.newSds(b), Mem.hash(b)).address() != entry.address(), "and only once");
        });
    }

    /**
     * Clearing a dict that has its slab to itself gives the slab's blocks back: the entries inserted next are carved
     * afresh, so the memory-order walk meets them in the order they were inserted, while a dict sharing its slab keeps
     * reusing freed entries.
     */
    @Test
    void clearingADictWithItsOwnSlabLaysOutTheNextEntriesAfresh(@TempDir final Path tmp) throws Exception
    {
        InProcess.run(tmp, 16 << 20, posix ->
        {
            final Mem mem = new Mem(posix.memory(), new PosixHeap(posix));
            final Dict dict = Dict.createWithOwnSlab(mem);
            final SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < 3000; i++)
            {
                final byte[] key = ("old" + random.nextInt(5000)).getBytes(StandardCharsets.US_ASCII);
                if (dict.find(key) == null)
                {
                    dict.insert(mem.newSds(key), Mem.hash(key));
                }
                else if (random.nextBoolean())
                {
                    dict.freeEntry(dict.unlink(key, Mem.hash(key)));
                }
            }
            dict.clear(entry -> { });
            assertEquals(0, dict.size());
            final Map<String, Long> model = new HashMap<>();
            for (int i = 0; i < 1500; i++)
            {
                final byte[] key = ("new" + i).getBytes(StandardCharsets.US_ASCII);
                mem.memory.storeLong(dict.insert(mem.newSds(key), Mem.hash(key)), Dict.EXTRA, i);
                model.put("new" + i, (long)i);
            }
            check(mem, dict, model, true, "after clear and 1500 inserts");
            // Two blocks (1023 entries each): the newer first, each in insertion order.
            final List<Long> order = new ArrayList<>();
            dict.forEachInMemoryOrder(entry -> order.add(mem.memory.loadLong(entry, Dict.EXTRA)));
            final List<Long> expected = new ArrayList<>();
            for (long i = 1023; i < 1500; i++)
            {
                expected.add(i);
            }
            for (long i = 0; i < 1023; i++)
            {
                expected.add(i);
            }
            assertEquals(expected, order, "entries carved afresh, in insertion order within each block");
        });
    }

    private static void run(final Mem mem, final SplittableRandom random)
    {
        final List<Dict> dicts = List.of(Dict.createWithOwnSlab(mem), Dict.create(mem), Dict.create(mem));
        final List<Map<String, Long>> models = List.of(new HashMap<>(), new HashMap<>(), new HashMap<>());
        for (int op = 0; op < OPERATIONS; op++)
        {
            final int which = random.nextInt(dicts.size());
            final Dict dict = dicts.get(which);
            final Map<String, Long> model = models.get(which);
            final String key = "k" + random.nextInt(KEYS);
            final byte[] bytes = key.getBytes(StandardCharsets.US_ASCII);
            final long hash = Mem.hash(bytes);
            // Inserts outnumber removals early and removals win later, so dicts grow, shrink and reuse entries.
            final boolean insert = random.nextInt(OPERATIONS) >= op / 2;
            if (insert && !model.containsKey(key))
            {
                final long extra = random.nextLong();
                mem.memory.storeLong(dict.insert(mem.newSds(bytes), hash), Dict.EXTRA, extra);
                model.put(key, extra);
            }
            else if (!insert && model.containsKey(key))
            {
                dict.freeEntry(dict.unlink(bytes, hash));
                dict.maybeShrink();
                model.remove(key);
            }
            if (op % 500 == 0 || op == OPERATIONS - 1)
            {
                for (int d = 0; d < dicts.size(); d++)
                {
                    check(mem, dicts.get(d), models.get(d), d == 0, "dict " + d + " after op " + op);
                }
            }
        }
    }

    private static void check(final Mem mem, final Dict dict, final Map<String, Long> model, final boolean ownSlab,
        final String where)
    {
        assertEquals(model.size(), dict.size(), where + ": size");
        for (final Map.Entry<String, Long> e : model.entrySet())
        {
            final Capability entry = dict.find(e.getKey().getBytes(StandardCharsets.US_ASCII));
            assertTrue(entry != null, where + ": " + e.getKey() + " not found");
            assertEquals(e.getValue(), mem.memory.loadLong(entry, Dict.EXTRA), where + ": extra of " + e.getKey());
        }
        assertEquals(model, walk(mem, dict, false), where + ": hash-order walk");
        if (ownSlab)
        {
            assertEquals(model, walk(mem, dict, true), where + ": memory-order walk");
        }
        else
        {
            assertThrows(IllegalStateException.class, () -> dict.forEachInMemoryOrder(entry -> { }),
                where + ": a dict that shares its slab cannot be walked in memory order");
        }
    }

    /** @return the dict's keys and extras as a walk sees them; fails if it visits a key twice or a stray entry. */
    private static Map<String, Long> walk(final Mem mem, final Dict dict, final boolean memoryOrder)
    {
        final Map<String, Long> seen = new HashMap<>();
        final List<String> problems = new ArrayList<>();
        final Dict.EntryVisitor visitor = entry ->
        {
            final byte[] key = mem.sds(mem.memory.loadCapability(entry, Dict.KEY));
            final String name = new String(key, StandardCharsets.US_ASCII);
            final Capability linked = dict.find(key);
            if (linked == null || linked.address() != entry.address())
            {
                problems.add(name + " visited at " + entry.address() + " but linked at "
                    + (linked == null ? "nothing" : linked.address()));
            }
            if (seen.put(name, mem.memory.loadLong(entry, Dict.EXTRA)) != null)
            {
                problems.add(name + " visited twice");
            }
        };
        if (memoryOrder)
        {
            dict.forEachInMemoryOrder(visitor);
        }
        else
        {
            dict.forEach(visitor);
        }
        assertTrue(problems.isEmpty(), (memoryOrder ? "memory" : "hash") + "-order walk: " + problems);
        return seen;
    }
}
