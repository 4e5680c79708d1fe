package dev.ufork.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Page states with lazily allocated leaves: a missing leaf reads all SHARED, the first transition in a leaf
 * allocates it (concurrent first transitions agree on one leaf), and retiring makes every page PRIVATE, whether its
 * leaf exists, is being allocated right now, or never will be.
 */
class PageStatesTest
{
    private static final int LEAF = PageStates.LEAF_PAGES;

    @ParameterizedTest
    @ValueSource(ints = {16, 32, 48, 4096, 3 * 4096, 4 * 4096 + 32})
    void shouldReadSharedUntilATransitionAllocatesTheLeafOfThatPageOnly(final int pages)
    {
        final PageStates states = new PageStates(pages);
        assertEquals(-1, states.nextLeaf(0), "a fresh area has no leaves");
        for (int page = 0; page < pages; page += 7)
        {
            assertEquals(PageStates.SHARED, states.get(page), "page " + page);
        }
        assertFalse(states.transition(pages - 1, PageStates.COPYING, PageStates.PRIVATE),
            "a transition out of COPYING fails on a page that has no leaf");
        assertEquals(-1, states.nextLeaf(0), "and allocates nothing");
        final int last = pages - 1;
        assertTrue(states.transition(last, PageStates.SHARED, PageStates.COPYING));
        assertEquals(PageStates.COPYING, states.get(last));
        assertTrue(states.transition(last, PageStates.COPYING, PageStates.PRIVATE));
        assertTrue(states.isPrivate(last));
        assertEquals(last / LEAF, states.nextLeaf(0), "only the last page's leaf exists");
        assertEquals(-1, states.nextLeaf(last / LEAF + 1));
        assertEquals(1, states.privateCount());
        for (int page = 0; page < last; page += 5)
        {
            assertEquals(PageStates.SHARED, states.get(page), "page " + page + " beside the private one");
        }
        assertFalse(states.transition(last, PageStates.SHARED, PageStates.COPYING), "a private page stays private");
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 32, 48, 4096, 3 * 4096, 4 * 4096 + 32})
    void shouldMakeEveryPagePrivateWhenRetiredWithAndWithoutLeaves(final int pages)
    {
        final PageStates states = new PageStates(pages);
        if (pages > LEAF)
        {
            assertTrue(states.transition(LEAF + 1, PageStates.SHARED, PageStates.COPYING));
            assertTrue(states.transition(LEAF + 1, PageStates.COPYING, PageStates.PRIVATE));
        }
        assertEquals(pages > LEAF ? 1 : 0, states.retire(), "retire counts the pages that were copied");
        assertEquals(pages, states.privateCount(), "every page of the area, and none beyond it");
        for (int page = 0; page < pages; page++)
        {
            if (!states.isPrivate(page))
            {
                throw new AssertionError("page " + page + " of " + pages + " is not private after retire");
            }
            if (states.transition(page, PageStates.SHARED, PageStates.COPYING))
            {
                throw new AssertionError("page " + page + " could still start a copy after retire");
            }
        }
        assertEquals(0, states.nextLeaf(0), "retired slots all read as leaves");
    }

    /**
     * Copiers racing on the pages of leaves nobody has allocated yet, each in its own seeded random order: every
     * page is won by exactly one of them, and every win lands in the one leaf all of them end up using.
     */
    @Test
    void shouldAgreeOnOneLeafWhenCopiersRaceToAllocateIt() throws Exception
    {
        final long seed = TestPrograms.seed(0x1EAF_0001L);
        System.out.println("PageStatesTest copiers: " + TestPrograms.replay(seed));
        final SplittableRandom random = TestPrograms.random(seed);
        final int copiers = 4;
        final int pages = 2 * LEAF;
        for (int round = 0; round < 20; round++)
        {
            final String context = "round " + round + ", " + TestPrograms.replay(seed);
            final PageStates states = new PageStates(pages);
            final AtomicIntegerArray winners = new AtomicIntegerArray(pages);
            final CyclicBarrier start = new CyclicBarrier(copiers);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread[] threads = new Thread[copiers];
            for (int c = 0; c < copiers; c++)
            {
                final int[] order = shuffled(pages, random.split());
                threads[c] = new Thread(() ->
                {
                    try
                    {
                        start.await();
                        for (final int page : order)
                        {
                            if (states.transition(page, PageStates.SHARED, PageStates.COPYING))
                            {
                                winners.incrementAndGet(page);
                                if (!states.transition(page, PageStates.COPYING, PageStates.PRIVATE))
                                {
                                    throw new AssertionError("the winner of page " + page + " lost it");
                                }
                            }
                        }
                    }
                    catch (final Throwable t)
                    {
                        failure.compareAndSet(null, t);
                    }
                });
                threads[c].start();
            }
            for (final Thread thread : threads)
            {
                thread.join();
            }
            if (failure.get() != null)
            {
                throw new AssertionError(context, failure.get());
            }
            for (int page = 0; page < pages; page++)
            {
                assertEquals(1, winners.get(page), context + ": copies of page " + page);
                assertTrue(states.isPrivate(page), context + ": page " + page);
            }
            assertEquals(pages, states.privateCount(), context);
        }
    }

    /**
     * A copier's first transition in a leaf racing the area's retirement: either the copier loses (the page is
     * already PRIVATE), or retire waits until its copy is done, so nothing writes into the area after retire.
     */
    @Test
    void shouldNeverLetACopyOutliveRetireWhenItRacesTheLeafAllocation() throws Exception
    {
        final long seed = TestPrograms.seed(0x1EAF_0002L);
        System.out.println("PageStatesTest retire: " + TestPrograms.replay(seed));
        final SplittableRandom random = TestPrograms.random(seed);
        int copiesWon = 0;
        final int rounds = 2000;
        for (int round = 0; round < rounds; round++)
        {
            final String context = "round " + round + ", " + TestPrograms.replay(seed);
            final int pages = 2 * LEAF;
            final int page = random.nextInt(pages);
            final PageStates states = new PageStates(pages);
            final AtomicBoolean won = new AtomicBoolean();
            final AtomicBoolean copied = new AtomicBoolean();
            final CyclicBarrier start = new CyclicBarrier(2);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread copier = new Thread(() ->
            {
                try
                {
                    start.await();
                    if (states.transition(page, PageStates.SHARED, PageStates.COPYING))
                    {
                        won.set(true);
                        Thread.onSpinWait();
                        copied.set(true);
                        states.transition(page, PageStates.COPYING, PageStates.PRIVATE);
                    }
                }
                catch (final Throwable t)
                {
                    failure.set(t);
                }
            });
            copier.start();
            start.await();
            states.retire();
            final boolean wonAfterRetire = won.get();
            final boolean copiedAfterRetire = copied.get();
            copier.join();
            if (failure.get() != null)
            {
                throw new AssertionError(context, failure.get());
            }
            assertEquals(wonAfterRetire, copiedAfterRetire, context + ": a copy that had started was finished");
            assertEquals(pages, states.privateCount(), context);
            copiesWon += won.get() ? 1 : 0;
        }
        System.out.println("PageStatesTest retire: the copier won " + copiesWon + " of " + rounds + " races");
    }

    private static int[] shuffled(final int n, final SplittableRandom random)
    {
        final int[] order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--)
        {
            final int j = random.nextInt(i + 1);
            final int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
