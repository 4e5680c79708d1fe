package dev.ufork.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Striped sequence locks keyed by page: what makes a granule's bytes and its tag change together.
 * <p>
 * Every store into the address space (data or capability) holds the write lock of each page it touches while it
 * clears or sets tags and writes bytes. A capability load reads the tag and the 16 bytes optimistically, between
 * {@link #readStamp(long)} and {@link #validate(long, long)}, and retries if a writer ran in between. So no thread
 * can ever load a tagged capability over bytes that are partly another store's: either the whole capability store
 * or the whole data store (which clears the tag) happened before the load.
 * <p>
 * A stripe's word is even when free and odd while a writer holds it; each release advances it by one, so a reader
 * that sees the same even value before and after its reads saw no writer. Pages map to stripes by their low bits;
 * pages sharing a stripe only share contention, never correctness. Writers of several pages take stripes in
 * ascending stripe order, so two multi-page writers cannot deadlock. Stripes sit on separate cache lines.
 * <p>
 * Thread safety: all methods are safe from any thread. Locks are not reentrant.
 */
public final class PageLocks
{
    private static final VarHandle STRIPE = MethodHandles.arrayElementVarHandle(long[].class);
    /** Longs per stripe: 8 × 8 B = one 64-byte cache line, so stripes never false-share. */
    private static final int PADDING_SHIFT = 3;

    private final long[] stripes;
    private final int mask;

    /**
     * @param stripeCount number of stripes, a power of two.
     */
    public PageLocks(final int stripeCount)
    {
        if (!Geometry.isPowerOfTwo(stripeCount))
        {
            throw new IllegalArgumentException("stripe count must be a power of two: " + stripeCount);
        }
        this.stripes = new long[stripeCount << PADDING_SHIFT];
        this.mask = stripeCount - 1;
    }

    /**
     * @param page a page index.
     * @return the stripe that guards it.
     */
    public int stripeOf(final long page)
    {
        return (int)page & mask;
    }

    /**
     * Takes the write lock of one stripe, spinning while another writer holds it.
     *
     * @param stripe a stripe from {@link #stripeOf(long)}.
     */
    public void lockStripe(final int stripe)
    {
        final int index = stripe << PADDING_SHIFT;
        while (true)
        {
            final long value = (long)STRIPE.getOpaque(stripes, index);
            if ((value & 1) == 0 && STRIPE.compareAndSet(stripes, index, value, value + 1))
            {
                return;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Releases a stripe taken by {@link #lockStripe(int)}; the writes made under it become visible first.
     *
     * @param stripe the stripe.
     */
    public void unlockStripe(final int stripe)
    {
        final int index = stripe << PADDING_SHIFT;
        STRIPE.setRelease(stripes, index, (long)STRIPE.get(stripes, index) + 1);
    }

    /**
     * Locks the stripes of two pages in ascending order (once if they share a stripe).
     *
     * @param pageA one page.
     * @param pageB another page.
     */
    public void lockPair(final long pageA, final long pageB)
    {
        final int a = stripeOf(pageA);
        final int b = stripeOf(pageB);
        if (a == b)
        {
            lockStripe(a);
        }
        else
        {
            lockStripe(Math.min(a, b));
            lockStripe(Math.max(a, b));
        }
    }

    /**
     * Releases what {@link #lockPair(long, long)} took.
     *
     * @param pageA one page.
     * @param pageB another page.
     */
    public void unlockPair(final long pageA, final long pageB)
    {
        final int a = stripeOf(pageA);
        final int b = stripeOf(pageB);
        unlockStripe(a);
        if (a != b)
        {
            unlockStripe(b);
        }
    }

    /**
     * Starts an optimistic read of a page: waits until no writer holds its stripe.
     *
     * @param page the page.
     * @return the stamp to pass to {@link #validate(long, long)}.
     */
    public long readStamp(final long page)
    {
        final int index = stripeOf(page) << PADDING_SHIFT;
        final long value = (long)STRIPE.getAcquire(stripes, index);
        // The wait is out of line: a capability load inlines this, and must stay small.
        return (value & 1) == 0 ? value : awaitNoWriter(index);
    }

    private long awaitNoWriter(final int index)
    {
        while (true)
        {
            Thread.onSpinWait();
            final long value = (long)STRIPE.getAcquire(stripes, index);
            if ((value & 1) == 0)
            {
                return value;
            }
        }
    }

    /**
     * Ends an optimistic read.
     *
     * @param page  the page given to {@link #readStamp(long)}.
     * @param stamp what it returned.
     * @return whether no writer touched the page's stripe since: the values read in between are consistent.
     */
    public boolean validate(final long page, final long stamp)
    {
        VarHandle.loadLoadFence();
        return (long)STRIPE.getAcquire(stripes, stripeOf(page) << PADDING_SHIFT) == stamp;
    }
}
