package dev.ufork.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The copy state of every page of a forked µprocess's area, two bits per page:
 * <pre>
 *  SHARED  (0)  the page's contents are still its source's view of the same page
 *  COPYING (1)  one thread is copying the source's view into the page
 *  PRIVATE (2)  the page holds its own bytes
 * </pre>
 * A page only moves SHARED → COPYING → PRIVATE. The states live in leaves of {@value #LEAF_PAGES} pages (16 MiB
 * of area, 1 KiB of states each) under a small root, and a leaf is allocated by the first transition in it: a
 * missing leaf means "all SHARED". So a fork costs the root (one reference per 16 MiB: 64 for a 1 GiB area), not
 * work or memory per page, and a child pays for the states of only the regions it copies.
 * <p>
 * Thread safety: transitions use compare-and-set; reads are acquire, so a thread that sees PRIVATE sees the copied
 * bytes. Concurrent first transitions in a leaf agree on one leaf: each installs its fresh leaf with a CAS on the
 * root slot, and the losers use the winner's.
 */
final class PageStates
{
    static final int SHARED = 0;
    static final int COPYING = 1;
    static final int PRIVATE = 2;

    /** log2 of the pages per leaf. */
    static final int LEAF_SHIFT = 12;
    /** Pages per leaf. */
    static final int LEAF_PAGES = 1 << LEAF_SHIFT;
    /** Words per full leaf: 32 pages per word. */
    private static final int LEAF_WORDS = LEAF_PAGES >>> 5;

    /** A word whose 32 pages are all PRIVATE. */
    private static final long ALL_PRIVATE = 0xAAAAAAAAAAAAAAAAL;

    /**
     * The leaf of a retired area's slots that never had one: all PRIVATE, and never written (no transition leaves
     * PRIVATE), so one instance serves every area.
     */
    private static final long[] RETIRED = retiredLeaf();

    private static final VarHandle LEAVES = MethodHandles.arrayElementVarHandle(long[][].class);
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[][] leaves;
    private final int pages;

    PageStates(final int pages)
    {
        this.pages = pages;
        this.leaves = new long[(pages + LEAF_PAGES - 1) >>> LEAF_SHIFT][];
    }

    private static long[] retiredLeaf()
    {
        final long[] leaf = new long[LEAF_WORDS];
        Arrays.fill(leaf, ALL_PRIVATE);
        return leaf;
    }

    int pages()
    {
        return pages;
    }

    int get(final int page)
    {
        final long[] leaf = (long[])LEAVES.getAcquire(leaves, page >>> LEAF_SHIFT);
        if (leaf == null)
        {
            return SHARED;
        }
        final long word = (long)WORDS.getAcquire(leaf, (page & (LEAF_PAGES - 1)) >>> 5);
        return (int)(word >>> ((page & 31) << 1)) & 3;
    }

    boolean isPrivate(final int page)
    {
        return get(page) == PRIVATE;
    }

    /** Moves a page from {@code expected} to {@code next}; fails if it is not in {@code expected}. */
    boolean transition(final int page, final int expected, final int next)
    {
        final long[] leaf = leafFor(page, expected);
        if (leaf == null)
        {
            return false;
        }
        final int index = (page & (LEAF_PAGES - 1)) >>> 5;
        final int shift = (page & 31) << 1;
        while (true)
        {
            final long word = (long)WORDS.getAcquire(leaf, index);
            if (((int)(word >>> shift) & 3) != expected)
            {
                // In particular every transition fails on RETIRED: no page leaves PRIVATE.
                return false;
            }
            final long updated = (word & ~(3L << shift)) | ((long)next << shift);
            if (WORDS.compareAndSet(leaf, index, word, updated))
            {
                return true;
            }
        }
    }

    /**
     * @return the leaf holding {@code page}, allocated (all SHARED) if it has none and a transition from SHARED
     *         needs it; null if it has none and {@code expected} is not SHARED (so the transition fails).
     */
    private long[] leafFor(final int page, final int expected)
    {
        final int slot = page >>> LEAF_SHIFT;
        final long[] leaf = (long[])LEAVES.getAcquire(leaves, slot);
        if (leaf != null || expected != SHARED)
        {
            return leaf;
        }
        final long[] fresh = new long[leafWords(slot)];
        final long[] witness = (long[])LEAVES.compareAndExchange(leaves, slot, null, fresh);
        return witness == null ? fresh : witness;
    }

    private int leafWords(final int slot)
    {
        return Math.min(LEAF_WORDS, (pages - (slot << LEAF_SHIFT) + 31) >>> 5);
    }

    /**
     * Ends all copying into the area before it is freed: every SHARED page becomes PRIVATE without a copy, and this
     * waits for pages that are being copied right now. Afterwards no thread will write into the area. Costs one step
     * per leaf slot and per word of the leaves that exist.
     *
     * @return how many pages were PRIVATE before (or became so by a copy that was running): at most the pages that
     *         copies wrote, the rest of the area having been written by nobody since the fork.
     */
    int retire()
    {
        int copied = 0;
        for (int slot = 0; slot < leaves.length; slot++)
        {
            final long[] leaf = (long[])LEAVES.compareAndExchange(leaves, slot, null, RETIRED);
            if (leaf == null || leaf == RETIRED)
            {
                // Installed before any copier got a leaf here: every later transition in the slot fails.
                continue;
            }
            for (int index = 0; index < leaf.length; index++)
            {
                while (true)
                {
                    final long word = (long)WORDS.getAcquire(leaf, index);
                    // A COPYING pair is 01: its low bit set and its high bit clear.
                    if ((word & 0x5555555555555555L & ~(word >>> 1)) != 0)
                    {
                        Thread.onSpinWait();
                        continue;
                    }
                    if (word == ALL_PRIVATE || WORDS.compareAndSet(leaf, index, word, ALL_PRIVATE))
                    {
                        copied += Long.bitCount(word & ALL_PRIVATE);
                        break;
                    }
                }
            }
        }
        return copied;
    }

    /**
     * @param slot a leaf slot, from 0.
     * @return the first slot at or after {@code slot} that has a leaf (only pages there may be PRIVATE), or -1.
     */
    int nextLeaf(final int slot)
    {
        for (int at = slot; at < leaves.length; at++)
        {
            if (LEAVES.getAcquire(leaves, at) != null)
            {
                return at;
            }
        }
        return -1;
    }

    /** @return how many pages are PRIVATE; one step per leaf slot and per word of the leaves that exist. */
    int privateCount()
    {
        int count = 0;
        for (int slot = 0; slot < leaves.length; slot++)
        {
            final long[] leaf = (long[])LEAVES.getAcquire(leaves, slot);
            if (leaf == null)
            {
                continue;
            }
            final int words = leafWords(slot);
            for (int index = 0; index < words; index++)
            {
                long word = (long)WORDS.getAcquire(leaf, index);
                final int first = (slot << LEAF_SHIFT) + (index << 5);
                if (pages - first < 32)
                {
                    // The last word of an area of fewer than 32 pages: retire marks its unused pairs too.
                    word &= (1L << ((pages - first) << 1)) - 1;
                }
                // PRIVATE is 10 and 11 never occurs, so the high bits count the PRIVATE pages.
                count += Long.bitCount(word & ALL_PRIVATE);
            }
        }
        return count;
    }
}
