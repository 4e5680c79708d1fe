package dev.ufork.memory;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The concurrency guarantee of docs/cheri.md §2.1 and §5.8: no thread ever loads a tagged capability over bytes
 * that are partly another store's. Writers hammer a few granules (two of them either side of a page boundary) with
 * capability stores of a self-consistent pattern and with data stores, fills and copies; readers load capabilities
 * and check that every tagged load is one whole capability store.
 * <p>
 * The pattern: a capability's address word has every byte in {@code 0x00..0x3F} and its metadata word is the
 * complement of the address word (so every byte is in {@code 0xC0..0xFF}). Every data store writes bytes in
 * {@code 0x40..0xBF} only, so a tagged granule holding any data byte, or the words of two different capability
 * stores, breaks the pattern. Bounded by operation counts, not time; {@code -Dufork.seed=N} replays a seed
 * (thread interleavings still vary), {@code -Dufork.stressOps=N} sets the operations per writer.
 */
class TagAtomicityStressTest
{
    private static final int WRITERS = 2;
    /** Deadlock detection only; the test normally takes a few seconds. */
    private static final Duration HANG_LIMIT = Duration.ofSeconds(120);
    private static final int WRITER_OPS = Integer.getInteger("ufork.stressOps", 600_000);
    private static final long PAGE = 500 * PAGE_SIZE;
    /** Hammered granules: two at the end of one page, two at the start of the next, one on another page. */
    private static final long[] GRANULES = {
        PAGE + PAGE_SIZE - 2 * GRANULE_SIZE,
        PAGE + PAGE_SIZE - GRANULE_SIZE,
        PAGE + PAGE_SIZE,
        PAGE + PAGE_SIZE + GRANULE_SIZE,
        PAGE + 5 * PAGE_SIZE + 256,
    };

    /** What the writers do and which granules the reader loads. */
    enum Scenario
    {
        /** Both writers mix every kind of store over all hammered granules. */
        MIXED(GRANULES),
        /**
         * Writer 0 stores capabilities into the last granule of a page and the first of the next; writer 1 makes
         * small data stores that straddle the boundary between them, so each needs both pages' locks.
         */
        STRADDLING(new long[] {GRANULES[1], GRANULES[2]});

        final long[] loaded;

        Scenario(final long[] loaded)
        {
            this.loaded = loaded;
        }
    }

    @ParameterizedTest
    @EnumSource(Scenario.class)
    void shouldNeverLoadTaggedCapabilityOverMixedBytesWhenStoresRace(final Scenario scenario) throws Exception
    {
        final long seed = Seeds.seed(0x57_2E55L);
        try (AddressSpace space = AddressSpace.reserve(16L << 20))
        {
            final TaggedMemory memory = space.memory();
            final AtomicReference<String> violation = new AtomicReference<>();
            final AtomicReference<Throwable> error = new AtomicReference<>();
            final AtomicBoolean writing = new AtomicBoolean(true);
            final CyclicBarrier start = new CyclicBarrier(WRITERS + 1);
            // Per thread (writers, then the reader): tagged loads seen, loads made.
            final long[][] tagged = new long[WRITERS + 1][1];
            final long[][] loads = new long[WRITERS + 1][1];
            final SplittableRandom root = Seeds.random(seed);

            final Thread[] writers = new Thread[WRITERS];
            for (int w = 0; w < WRITERS; w++)
            {
                final SplittableRandom rnd = root.split();
                final int writer = w;
                writers[w] = thread("writer-" + w, start, error, () ->
                {
                    // Writers load too: on two cores the reader often runs alone, and a torn capability made by
                    // two racing writers may live only until one of them stores again.
                    final CapabilityBits bits = new CapabilityBits();
                    for (int op = 0; op < WRITER_OPS && violation.get() == null; op++)
                    {
                        if (scenario == Scenario.MIXED)
                        {
                            write(memory, rnd);
                        }
                        else
                        {
                            writeStraddling(memory, rnd, writer);
                        }
                        final long granule = scenario.loaded[(op + writer) % scenario.loaded.length];
                        memory.loadCapability(granule, bits);
                        check(granule, bits.addressWord(), bits.metadataWord(), bits.tag(), violation,
                            tagged[writer], "loadCapability by writer " + writer);
                        loads[writer][0]++;
                    }
                });
            }
            final Thread reader = thread("reader", start, error, () ->
            {
                final CapabilityBits bits = new CapabilityBits();
                int i = 0;
                while (writing.get() && violation.get() == null)
                {
                    final long granule = scenario.loaded[i++ % scenario.loaded.length];
                    if ((i & 7) == 0)
                    {
                        // The manual protocol: begin, read words and tag, validate.
                        final long stamp = memory.beginCapabilityLoad(granule);
                        final long addressWord = memory.loadLong(granule);
                        final long metadataWord = memory.loadLong(granule + 8);
                        final boolean tag = memory.isTagged(granule);
                        if (!memory.validateCapabilityLoad(granule, stamp))
                        {
                            continue;
                        }
                        check(granule, addressWord, metadataWord, tag, violation, tagged[WRITERS],
                            "validated load by the reader");
                    }
                    else
                    {
                        memory.loadCapability(granule, bits);
                        check(granule, bits.addressWord(), bits.metadataWord(), bits.tag(), violation,
                            tagged[WRITERS], "loadCapability by the reader");
                    }
                    loads[WRITERS][0]++;
                }
            });

            // A hang guard, not a speed check: a lost or leaked page lock makes the threads spin forever.
            for (final Thread writer : writers)
            {
                writer.join(HANG_LIMIT);
                assertFalse(writer.isAlive(), () -> writer.getName() + " made no progress within " + HANG_LIMIT
                    + " (deadlock or leaked page lock), " + Seeds.replay(seed));
            }
            writing.set(false);
            reader.join(HANG_LIMIT);
            assertFalse(reader.isAlive(), () -> "the reader made no progress within " + HANG_LIMIT
                + " (a page lock is held forever), " + Seeds.replay(seed));

            final long totalLoads = Arrays.stream(loads).mapToLong(c -> c[0]).sum();
            final long totalTagged = Arrays.stream(tagged).mapToLong(c -> c[0]).sum();
            System.out.printf("%s %s: %d writer ops, %d capability loads (%d by the reader), %d tagged%n", scenario,
                Seeds.replay(seed), (long)WRITERS * WRITER_OPS, totalLoads, loads[WRITERS][0], totalTagged);
            assertNull(error.get(), () -> "a thread failed: " + error.get() + ", " + Seeds.replay(seed));
            assertNull(violation.get(), () -> violation.get() + ", " + Seeds.replay(seed));
            assertTrue(totalTagged > 0, "no thread ever saw a tagged capability in " + totalLoads + " loads, so the "
                + "test proved nothing; " + Seeds.replay(seed));
            // Quiescent: every granule is consistent too.
            final CapabilityBits bits = new CapabilityBits();
            for (final long granule : GRANULES)
            {
                memory.loadCapability(granule, bits);
                check(granule, bits.addressWord(), bits.metadataWord(), bits.tag(), violation, new long[1],
                    "final load");
            }
            assertNull(violation.get(), () -> violation.get() + ", " + Seeds.replay(seed));
        }
    }

    private static void check(final long granule, final long addressWord, final long metadataWord,
        final boolean tag, final AtomicReference<String> violation, final long[] tagged, final String how)
    {
        if (!tag)
        {
            return;
        }
        tagged[0]++;
        if (!isCapability(addressWord, metadataWord))
        {
            violation.compareAndSet(null, how + " of granule 0x" + Long.toHexString(granule)
                + " returned tag set over mixed bytes: address word 0x" + Long.toHexString(addressWord)
                + ", metadata word 0x" + Long.toHexString(metadataWord));
        }
    }

    private static boolean isCapability(final long addressWord, final long metadataWord)
    {
        return (addressWord & 0xC0C0_C0C0_C0C0_C0C0L) == 0 && metadataWord == ~addressWord;
    }

    /** @return a capability address word: every byte in 0x00..0x3F. */
    private static long capabilityWord(final SplittableRandom rnd)
    {
        return rnd.nextLong() & 0x3F3F_3F3F_3F3F_3F3FL;
    }

    /** @return a data byte: 0x40..0xBF. */
    private static byte dataByte(final SplittableRandom rnd)
    {
        return (byte)(0x40 + rnd.nextInt(0x80));
    }

    /** @return a data word: every byte in 0x40..0xBF. */
    private static long dataWord(final SplittableRandom rnd)
    {
        long word = 0;
        for (int i = 0; i < 8; i++)
        {
            word = (word << 8) | (dataByte(rnd) & 0xFF);
        }
        return word;
    }

    private static void write(final TaggedMemory memory, final SplittableRandom rnd)
    {
        final int index = rnd.nextInt(GRANULES.length);
        final long granule = GRANULES[index];
        switch (rnd.nextInt(12))
        {
            case 0, 1, 2, 3 ->
            {
                final long word = capabilityWord(rnd);
                memory.storeCapability(granule, word, ~word, true);
            }
            case 4 -> memory.storeCapability(granule, dataWord(rnd), dataWord(rnd), false);
            // Small stores at +0/+8 (one word), +4 and any other offset, some straddling into the next granule
            // (and, for the second granule, into the next page).
            case 5 -> memory.storeLong(granule + (rnd.nextBoolean() ? 8 * rnd.nextInt(2) : rnd.nextInt(16)),
                dataWord(rnd));
            case 6 -> memory.storeInt(granule + (rnd.nextBoolean() ? 4 : rnd.nextInt(16)), (int)dataWord(rnd));
            case 7 ->
            {
                final int offset = rnd.nextInt(16);
                if (rnd.nextBoolean())
                {
                    memory.storeByte(granule + offset, dataByte(rnd));
                }
                else
                {
                    memory.storeShort(granule + offset, (short)dataWord(rnd));
                }
            }
            case 8 ->
            {
                // Spans this granule and the next (across the page boundary for the second granule).
                final byte[] bytes = new byte[16];
                for (int i = 0; i < bytes.length; i++)
                {
                    bytes[i] = dataByte(rnd);
                }
                memory.storeBytes(granule + 8, bytes, 0, bytes.length);
            }
            case 9 -> memory.fill(granule + rnd.nextInt(16), 1 + rnd.nextInt(24), dataByte(rnd));
            case 10 ->
            {
                // Aligned copy from another hammered granule: bytes and tag move together.
                final long src = GRANULES[rnd.nextInt(GRANULES.length)];
                memory.copy(src, granule, GRANULE_SIZE, true);
            }
            default ->
            {
                // Misaligned or tag-stripping copies: the destination tags must end up clear.
                final long src = GRANULES[rnd.nextInt(GRANULES.length)] + rnd.nextInt(1, 16);
                memory.copy(src, granule, GRANULE_SIZE, rnd.nextBoolean());
            }
        }
    }

    /** Writer 0: capabilities either side of the page boundary; writer 1: data stores straddling it. */
    private static void writeStraddling(final TaggedMemory memory, final SplittableRandom rnd, final int writer)
    {
        final long below = GRANULES[1];
        if (writer == 0)
        {
            final long word = capabilityWord(rnd);
            memory.storeCapability(rnd.nextBoolean() ? below : below + GRANULE_SIZE, word, ~word, true);
            return;
        }
        switch (rnd.nextInt(5))
        {
            case 0 -> memory.storeLong(below + rnd.nextInt(9, 16), dataWord(rnd));
            case 1 -> memory.storeInt(below + rnd.nextInt(13, 16), (int)dataWord(rnd));
            case 2 -> memory.storeShort(below + 15, (short)dataWord(rnd));
            case 3 -> memory.storeDouble(below + rnd.nextInt(9, 16), Double.longBitsToDouble(dataWord(rnd)));
            default -> memory.storeChar(below + 15, (char)dataWord(rnd));
        }
    }

    private static Thread thread(final String name, final CyclicBarrier start, final AtomicReference<Throwable> error,
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
                error.compareAndSet(null, t);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
