package dev.ufork.capability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.Geometry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * cheri.md §2.1 and the {@link CapabilityMemory} contract: a capability loaded while other threads store into the
 * same granule is the old or the new value, never a mix; in particular, no load may return a tagged capability
 * whose bytes are partly another store's. Writers alternate capability stores of two different valid capabilities
 * with data stores whose bytes are those same capabilities' words, shuffled (storeLong at +0/+8, storeInt at +4,
 * storeBytes straddling two granules and a page boundary, fill) and tag-preserving and tag-clearing copies; readers
 * check that every tagged load equals one of the two capabilities exactly (address and metadata bits).
 * <p>
 * Bounded by iteration counts, not time. {@code -Dufork.seed=N} replays the writers' and readers' choices (the
 * interleaving is the scheduler's).
 */
class CapabilityTornLoadStressTest
{
    private static final int WRITERS = 2;
    private static final int READERS = 2;
    private static final int WRITER_OPS = 200_000;
    private static final int MIN_READS = 200_000;
    private static final int MAX_READS = 20_000_000;
    /** Four granules, two on each side of a page boundary. */
    private static final long TARGET = 16 * Geometry.PAGE_SIZE - 32;
    private static final int GRANULES = 4;
    /** A hang guard for joins, not a timing assertion: generous enough that only a deadlock trips it. */
    private static final Duration HANG_GUARD = Duration.ofMinutes(2);
    /** A source of the two capabilities for copies: A at SOURCE, B at SOURCE + 16. */
    private static final long SOURCE = 0x4_0000;

    @Test
    void shouldLoadOnlyWholeStoredCapabilitiesWhenWritersRaceDataAndCapabilityStores() throws Exception
    {
        final long seed = ModelSeeds.seed(0x7042_0001L);
        try (AddressSpace space = AddressSpace.reserve(16L << 20))
        {
            final CapabilityMemory mem = new CapabilityMemory(space);
            final Capability root = CapabilityRoots.memoryRoot(space);
            final Capability a = root.withAddress(0x20_0000).setBoundsExact(4096).withAddress(0x20_0123)
                .andPermissions(Permissions.CAP_READ_WRITE);
            final Capability b = root.withAddress(0x30_0000).setBoundsExact(256).withAddress(0x30_0040)
                .andPermissions(Permissions.DATA_READ_WRITE & ~Permission.GLOBAL.mask());
            assertTrue(a.isTagged() && b.isTagged(), "fixtures");
            assertNotEquals(a.address(), b.address());
            assertNotEquals(a.metadataBits(), b.metadataBits());
            final Capability target = root.withAddress(TARGET).setBoundsExact(16 * GRANULES);
            final Capability sources = root.withAddress(SOURCE).setBoundsExact(64);
            mem.storeCapability(sources, 0, a);
            mem.storeCapability(sources, 16, b);
            // Data words that, mixed with a capability's other word, would make a plausible-looking capability.
            final long[] words = {a.address(), a.metadataBits(), b.address(), b.metadataBits()};

            final AtomicReference<String> failure = new AtomicReference<>();
            final AtomicBoolean writersDone = new AtomicBoolean();
            final AtomicInteger writersLeft = new AtomicInteger(WRITERS);
            final AtomicLong taggedLoads = new AtomicLong();
            final AtomicLong untaggedLoads = new AtomicLong();
            final CountDownLatch start = new CountDownLatch(1);
            final List<Thread> threads = new ArrayList<>();

            for (int w = 0; w < WRITERS; w++)
            {
                final SplittableRandom rnd = new SplittableRandom(seed * 31 + w);
                threads.add(Thread.ofPlatform().name("writer-" + w).unstarted(() ->
                {
                    try
                    {
                        start.await();
                        for (int i = 0; i < WRITER_OPS && failure.get() == null; i++)
                        {
                            final long g = 16L * rnd.nextInt(GRANULES);
                            final long word = words[rnd.nextInt(words.length)];
                            switch (rnd.nextInt(10))
                            {
                                case 0, 1 -> mem.storeCapability(target, g, a);
                                case 2, 3 -> mem.storeCapability(target, g, b);
                                case 4 -> mem.storeLong(target, g, word);
                                case 5 -> mem.storeLong(target, g + 8, word);
                                case 6 -> mem.storeInt(target, g + 4, (int)(word >>> 16));
                                case 7 ->
                                {
                                    // 16 bytes across two granules: the middle pair (and the page boundary).
                                    final byte[] bytes = new byte[16];
                                    for (int k = 0; k < 16; k++)
                                    {
                                        bytes[k] = (byte)(words[(k / 8 + 1) % words.length] >>> (8 * (k % 8)));
                                    }
                                    mem.storeBytes(target, 24, bytes, 0, 16);
                                }
                                case 8 ->
                                {
                                    final long at = g + rnd.nextInt(8);
                                    mem.fill(target, at, rnd.nextLong(1, Math.min(25, 16 * GRANULES - at + 1)),
                                        (byte)(word >>> 8));
                                }
                                default ->
                                {
                                    if (rnd.nextBoolean())
                                    {
                                        // Tag-preserving copy of A or B (same alignment, LOAD_CAP).
                                        mem.copy(target, g, sources, 16L * rnd.nextInt(2), 16);
                                    }
                                    else
                                    {
                                        // Misaligned copy: a capability's bytes across two granules, tags
                                        // cleared.
                                        mem.copy(target, 8 + 16L * rnd.nextInt(GRANULES - 1), sources,
                                            16L * rnd.nextInt(2), 16);
                                    }
                                }
                            }
                        }
                    }
                    catch (final Throwable t)
                    {
                        failure.compareAndSet(null, "writer: " + t);
                    }
                    finally
                    {
                        if (writersLeft.decrementAndGet() == 0)
                        {
                            writersDone.set(true);
                        }
                    }
                }));
            }
            for (int r = 0; r < READERS; r++)
            {
                final SplittableRandom rnd = new SplittableRandom(seed * 37 + r);
                threads.add(Thread.ofPlatform().name("reader-" + r).unstarted(() ->
                {
                    try
                    {
                        start.await();
                        long tagged = 0;
                        long untagged = 0;
                        for (int i = 0; i < MAX_READS && failure.get() == null
                            && (i < MIN_READS || !writersDone.get()); i++)
                        {
                            final long g = 16L * rnd.nextInt(GRANULES);
                            final Capability got = mem.loadCapability(target, g);
                            if (!got.isTagged())
                            {
                                untagged++;
                                continue;
                            }
                            tagged++;
                            if (!got.equals(a) && !got.equals(b))
                            {
                                failure.compareAndSet(null, "torn load at +" + g + " (read " + i + "): " + got
                                    + " words 0x" + Long.toHexString(got.address()) + " 0x"
                                    + Long.toHexString(got.metadataBits()) + " is neither A " + a + " nor B " + b);
                            }
                        }
                        taggedLoads.addAndGet(tagged);
                        untaggedLoads.addAndGet(untagged);
                    }
                    catch (final Throwable t)
                    {
                        failure.compareAndSet(null, "reader: " + t);
                    }
                }));
            }
            threads.forEach(Thread::start);
            start.countDown();
            for (final Thread t : threads)
            {
                assertTrue(t.join(HANG_GUARD), ModelSeeds.replay(seed) + ": " + t.getName() + " hangs");
            }
            assertNull(failure.get(), () -> ModelSeeds.replay(seed) + ": " + failure.get());
            assertTrue(taggedLoads.get() > 0, ModelSeeds.replay(seed) + ": no tagged load was seen, "
                + untaggedLoads.get() + " untagged");
            assertTrue(untaggedLoads.get() > 0, ModelSeeds.replay(seed) + ": no untagged load was seen, "
                + taggedLoads.get() + " tagged");
            System.out.println(ModelSeeds.replay(seed) + ": " + taggedLoads.get() + " tagged and "
                + untaggedLoads.get() + " untagged loads");
            // Memory is consistent afterwards, too.
            for (int i = 0; i < GRANULES; i++)
            {
                final Capability got = mem.loadCapability(target, 16L * i);
                if (got.isTagged())
                {
                    assertTrue(got.equals(a) || got.equals(b), ModelSeeds.replay(seed) + ": final " + got);
                }
                assertEquals(got.isTagged(), space.memory().isTagged(TARGET + 16L * i));
            }
        }
    }
}
