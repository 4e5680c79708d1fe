package dev.ufork.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The copy state of every page of a forked µprocess's area, two bits per page:
 * <pre>
 *  SHARED  (0)  the page's contents are still its source's view of the same page
 *  COPYING (1)  one thread is copying the source's view into the page
 *  PRIVATE (2)  the page holds its own bytes
 * </pre>
 * All pages start SHARED, and a fresh {@code long[]} is all zeros, so a fork costs one small array (2 bits per
 * 4 KiB page: 64 KiB of states for a 1 GiB area) and no work per page. A page only moves SHARED → COPYING → PRIVATE.
 * <p>
 * Thread safety: transitions use compare-and-set; reads are acquire, so a thread that sees PRIVATE sees the copied
 * bytes.
 */
final class PageStates
{
    static final int SHARED = 0;
    static final int COPYING = 1;
    static final int PRIVATE = 2;

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] words;
    private final int pages;

    PageStates(final int pages)
    {
        this.pages = pages;
        this.words = new long[(pages + 31) >>> 5];
    }

    int pages()
    {
        return pages;
    }

    int get(final int page)
    {
        final long word = (long)WORDS.getAcquire(words, page >>> 5);
        return (int)(word >>> ((page & 31) << 1)) & 3;
    }

    boolean isPrivate(final int page)
    {
        return get(page) == PRIVATE;
    }

    /** Moves a page from {@code expected} to {@code next}; fails if it is not in {@code expected}. */
    boolean transition(final int page, final int expected, final int next)
    {
        final int index = page >>> 5;
        final int shift = (page & 31) << 1;
        while (true)
        {
            final long word = (long)WORDS.getAcquire(words, index);
            if (((int)(word >>> shift) & 3) != expected)
            {
                return false;
            }
            final long updated = (word & ~(3L << shift)) | ((long)next << shift);
            if (WORDS.compareAndSet(words, index, word, updated))
            {
                return true;
            }
        }
    }

    /**
     * Ends all copying into the area before it is freed: every SHARED page becomes PRIVATE without a copy, and this
     * waits for pages that are being copied right now. Afterwards no thread will write into the area.
     */
    void retire()
    {
        final long allPrivate = 0xAAAAAAAAAAAAAAAAL;
        for (int index = 0; index < words.length; index++)
        {
            while (true)
            {
                final long word = (long)WORDS.getAcquire(words, index);
                // A COPYING pair is 01: its low bit set and its high bit clear.
                if ((word & 0x5555555555555555L & ~(word >>> 1)) != 0)
                {
                    Thread.onSpinWait();
                    continue;
                }
                if (word == allPrivate || WORDS.compareAndSet(words, index, word, allPrivate))
                {
                    break;
                }
            }
        }
    }

    /** @return how many pages are PRIVATE. */
    int privateCount()
    {
        int count = 0;
        for (int page = 0; page < pages; page++)
        {
            count += isPrivate(page) ? 1 : 0;
        }
        return count;
    }
}
