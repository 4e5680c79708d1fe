package dev.ufork.memory;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PageLocks}: stripe mapping, mutual exclusion, deadlock-free pair locking, and the optimistic read protocol
 * (also through {@link TaggedMemory#beginCapabilityLoad}).
 */
class PageLocksTest
{
    /** A deadlock check, not a speed check: generous on purpose. */
    private static final Duration DEADLOCK_LIMIT = Duration.ofSeconds(60);

    @Test
    void shouldMapPagesToStripesByLowBitsWhenCountIsPowerOfTwo()
    {
        final PageLocks locks = new PageLocks(16);
        assertEquals(0, locks.stripeOf(0));
        assertEquals(15, locks.stripeOf(15));
        assertEquals(0, locks.stripeOf(16));
        assertEquals(1, locks.stripeOf(17));
        assertEquals(5, locks.stripeOf((1L << 40) + 5));
        assertEquals(15, locks.stripeOf((1L << 34) - 1), "pages beyond int range map by their low bits");
        final PageLocks single = new PageLocks(1);
        assertEquals(0, single.stripeOf(12345));
        final PageLocks many = new PageLocks(4096);
        for (long page = 0; page < 10_000; page += 7)
        {
            assertEquals((int)(page % 4096), many.stripeOf(page), "page " + page);
        }
    }

    @Test
    void shouldRejectStripeCountWhenNotPowerOfTwo()
    {
        for (final int count : new int[] {0, -1, -16, 3, 12, 4095})
        {
            assertThrows(IllegalArgumentException.class, () -> new PageLocks(count), "count " + count);
        }
    }

    @Test
    void shouldValidateReadWhenNoWriterRan()
    {
        final PageLocks locks = new PageLocks(8);
        final long stamp = locks.readStamp(3);
        assertEquals(0, stamp & 1, "a stamp is even");
        assertTrue(locks.validate(3, stamp));
        assertTrue(locks.validate(3 + 8, stamp), "a page sharing the stripe shares the stamp");
        // A writer on another stripe does not disturb the read.
        locks.lockStripe(locks.stripeOf(4));
        locks.unlockStripe(locks.stripeOf(4));
        assertTrue(locks.validate(3, stamp));
    }

    @Test
    void shouldFailValidationWhenWriterRanInBetween()
    {
        final PageLocks locks = new PageLocks(8);
        final long stamp = locks.readStamp(3);
        locks.lockStripe(locks.stripeOf(3));
        assertFalse(locks.validate(3, stamp), "a writer holds the stripe");
        locks.unlockStripe(locks.stripeOf(3));
        assertFalse(locks.validate(3, stamp), "a writer ran and released");
        final long next = locks.readStamp(3);
        assertEquals(0, next & 1);
        assertTrue(next != stamp);

        // Through a pair: both pages' stamps are invalidated.
        final long a = locks.readStamp(1);
        final long b = locks.readStamp(6);
        locks.lockPair(6, 1);
        locks.unlockPair(6, 1);
        assertFalse(locks.validate(1, a));
        assertFalse(locks.validate(6, b));
    }

    @Test
    void shouldTakeSharedStripeOnceWhenBothPagesMapToIt()
    {
        final PageLocks locks = new PageLocks(16);
        final long stamp = locks.readStamp(3);
        // Locks are not reentrant: locking stripe 3 twice would spin forever.
        assertTimeoutPreemptively(DEADLOCK_LIMIT, () ->
        {
            locks.lockPair(3, 3 + 16);
            locks.unlockPair(3, 3 + 16);
            locks.lockPair(7, 7);
            locks.unlockPair(7, 7);
        });
        assertEquals(stamp + 2, locks.readStamp(3), "one lock and one release of stripe 3");
    }

    @Test
    void shouldWaitForWriterWhenReadStampIsTakenWhileLocked() throws Exception
    {
        final PageLocks locks = new PageLocks(4);
        final long before = locks.readStamp(2);
        locks.lockStripe(2);
        final CountDownLatch started = new CountDownLatch(1);
        final AtomicLong seen = new AtomicLong(-1);
        final Thread reader = new Thread(() ->
        {
            started.countDown();
            seen.set(locks.readStamp(2));
        });
        reader.setDaemon(true);
        reader.start();
        started.await();
        // Give the reader a chance to spin on the held stripe (not needed for correctness of the assertion).
        for (int i = 0; i < 1_000 && reader.getState() == Thread.State.RUNNABLE; i++)
        {
            Thread.onSpinWait();
        }
        locks.unlockStripe(2);
        reader.join();
        assertEquals(before + 2, seen.get(), "readStamp returns only a stamp taken after the writer released");
    }

    @Test
    void shouldExcludeEachOtherWhenTwoThreadsLockTheSamePairInOppositeOrder()
    {
        final PageLocks locks = new PageLocks(64);
        final int iterations = 200_000;
        final long[] counter = new long[1];
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        assertTimeoutPreemptively(DEADLOCK_LIMIT, () ->
        {
            final CyclicBarrier start = new CyclicBarrier(2);
            final Thread forward = worker(start, failure, () ->
            {
                for (int i = 0; i < iterations; i++)
                {
                    locks.lockPair(5, 9);
                    counter[0]++;
                    locks.unlockPair(5, 9);
                }
            });
            final Thread backward = worker(start, failure, () ->
            {
                for (int i = 0; i < iterations; i++)
                {
                    locks.lockPair(9, 5);
                    counter[0]++;
                    locks.unlockPair(9, 5);
                }
            });
            forward.join();
            backward.join();
        });
        assertNull(failure.get());
        assertEquals(2L * iterations, counter[0], "increments under the pair lock were lost: no mutual exclusion");
    }

    @Test
    void shouldNotDeadlockWhenThreadsLockRandomPairsInOppositeOrders()
    {
        final long seed = Seeds.seed(0xD0_0D1EL);
        final int stripes = 8;
        final PageLocks locks = new PageLocks(stripes);
        final int iterations = 200_000;
        final long[] counters = new long[stripes];
        final long[] expected = new long[stripes];
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        // Both threads draw the same pages; one locks (p, q), the other (q, p).
        final long[][] pairs = new long[iterations][2];
        final SplittableRandom rnd = Seeds.random(seed);
        for (int i = 0; i < iterations; i++)
        {
            pairs[i][0] = rnd.nextLong(1L << 30);
            pairs[i][1] = rnd.nextLong(1L << 30);
            expected[locks.stripeOf(pairs[i][0])] += 2;
            if (locks.stripeOf(pairs[i][0]) != locks.stripeOf(pairs[i][1]))
            {
                expected[locks.stripeOf(pairs[i][1])] += 2;
            }
        }
        assertTimeoutPreemptively(DEADLOCK_LIMIT, () ->
        {
            final CyclicBarrier start = new CyclicBarrier(2);
            final Thread one = worker(start, failure, () -> lockPairs(locks, pairs, counters, false));
            final Thread two = worker(start, failure, () -> lockPairs(locks, pairs, counters, true));
            one.join();
            two.join();
        }, () -> "deadlock, " + Seeds.replay(seed));
        assertNull(failure.get(), Seeds.replay(seed));
        assertArrayEquals(expected, counters, "per-stripe increments under lock, " + Seeds.replay(seed));
    }

    private static void lockPairs(final PageLocks locks, final long[][] pairs, final long[] counters,
        final boolean reversed)
    {
        for (final long[] pair : pairs)
        {
            final long a = reversed ? pair[1] : pair[0];
            final long b = reversed ? pair[0] : pair[1];
            locks.lockPair(a, b);
            counters[locks.stripeOf(a)]++;
            if (locks.stripeOf(a) != locks.stripeOf(b))
            {
                counters[locks.stripeOf(b)]++;
            }
            locks.unlockPair(a, b);
        }
    }

    private static Thread worker(final CyclicBarrier start, final AtomicReference<Throwable> failure,
        final Runnable body)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                start.await();
                body.run();
            }
            catch (final Throwable t)
            {
                failure.compareAndSet(null, t);
            }
        });
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    @Test
    void shouldFailCapabilityLoadValidationWhenStoreRanOnSamePage()
    {
        try (AddressSpace space = AddressSpace.reserve(AddressSpaceConfig.ofSize(16L << 20).withLockStripes(64)))
        {
            final TaggedMemory memory = space.memory();
            final long granule = 300 * PAGE_SIZE + 64;
            memory.storeCapability(granule, 11, 22, true);

            long stamp = memory.beginCapabilityLoad(granule);
            final long word = memory.loadLong(granule);
            assertTrue(memory.isTagged(granule));
            assertTrue(memory.validateCapabilityLoad(granule, stamp), "nothing ran in between");
            assertEquals(11, word);

            stamp = memory.beginCapabilityLoad(granule);
            memory.storeByte(granule + 1000, (byte)1);
            assertFalse(memory.validateCapabilityLoad(granule, stamp), "a data store on the same page ran");

            stamp = memory.beginCapabilityLoad(granule);
            memory.storeLong(granule + PAGE_SIZE, 5L);
            assertTrue(memory.validateCapabilityLoad(granule, stamp), "a store on a page of another stripe");

            stamp = memory.beginCapabilityLoad(granule);
            memory.copy(granule + PAGE_SIZE, granule - 48, 16, true);
            assertFalse(memory.validateCapabilityLoad(granule, stamp), "a copy into the same page ran");

            stamp = memory.beginCapabilityLoad(granule);
            memory.storeCapability(granule, 11, 22, true);
            assertFalse(memory.validateCapabilityLoad(granule, stamp), "a capability store ran");
        }
    }
}
