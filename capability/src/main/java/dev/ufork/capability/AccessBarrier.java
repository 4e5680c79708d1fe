package dev.ufork.capability;

/**
 * A hook between the capability checks and memory, through which a kernel gives a µprocess its own view of memory:
 * pages shared copy-on-write with other µprocesses, and a fence around the µprocess's own area. {@link
 * CapabilityMemory} calls it after the capability checks pass and before it touches memory.
 * <ul>
 *   <li>A data load first asks {@link #loadsInPlace}: if it answers {@code true} the bytes are read where they are
 *   and nothing else is called. That is the common case (a private page on the view's own thread), so the test must
 *   cost a few instructions; it may answer {@code false} whenever it is unsure.</li>
 *   <li>Otherwise the load is split at page boundaries and each part is bracketed with {@link #beginLoad}, which may
 *   redirect it to the page the data still lives in or refuse it, and {@link #endLoad()}, which says whether the read
 *   was consistent; if not, it is repeated.</li>
 *   <li>A store first asks {@link #storesInPlace}; otherwise {@link #beforeStore} runs before it writes each page, so
 *   the page can be made private first.</li>
 *   <li>{@link #beforeCapabilityLoad} runs before a capability is loaded from a page.</li>
 * </ul>
 * Each method except {@link #loadsInPlace} and {@link #storesInPlace} may refuse the access by throwing a {@link CapabilityFault} (for
 * instance {@link FaultCause#ISOLATION}); nothing has been read or written then.
 * <p>
 * An abstract class rather than an interface so that a call from {@link CapabilityMemory} needs no type check when
 * one implementation is loaded, which matters on the path of every load.
 * <p>
 * Thread safety: an instance serves one thread (it may keep state from {@link #beginLoad} to {@link #endLoad}).
 */
public abstract class AccessBarrier
{
    /** For subclasses. */
    protected AccessBarrier()
    {
    }

    /**
     * Whether a data load may read its bytes in place with no further call to the barrier: they are in this view's
     * own memory, nobody else needs them copied first, and the access is allowed. Must not throw or change anything.
     *
     * @param authority the capability the load goes through (already checked, so the bytes lie within its bounds).
     * @param address   first byte of the load.
     * @param length    bytes of the load, at least 1; they may straddle pages.
     * @return {@code true} to read in place; {@code false} to go through {@link #beginLoad}.
     */
    public abstract boolean loadsInPlace(Capability authority, long address, long length);

    /**
     * Whether a store (data or capability) may write its bytes in place with no further call to the barrier; the
     * same contract as {@link #loadsInPlace}.
     *
     * @param authority the capability the store goes through (already checked, so the bytes lie within its bounds).
     * @param address   first byte of the store.
     * @param length    bytes of the store, at least 1; they may straddle pages.
     * @return {@code true} to write in place; {@code false} to call {@link #beforeStore} for each page first.
     */
    public abstract boolean storesInPlace(Capability authority, long address, long length);

    /**
     * @param authority the capability the load goes through (already checked).
     * @param address   first byte of a data load that lies within one page.
     * @param length    bytes of the load, at least 1.
     * @return the address to read the same bytes from (the same address when the page is private).
     * @throws CapabilityFault if the barrier refuses the access.
     */
    public abstract long beginLoad(Capability authority, long address, long length);

    /**
     * @return whether the bytes read since {@link #beginLoad} are a consistent view; {@code false} to retry.
     */
    public abstract boolean endLoad();

    /**
     * Called before a store of data or a capability into the page holding {@code address}, unless
     * {@link #storesInPlace} said it need not be.
     *
     * @param authority the capability the store goes through (already checked).
     * @param address   an address in the page: the first byte the store writes there.
     * @throws CapabilityFault if the barrier refuses the access.
     */
    public abstract void beforeStore(Capability authority, long address);

    /**
     * Called before a capability is loaded from the granule at {@code address}, or before a copy moves the
     * capabilities of a page that holds {@code address}.
     *
     * @param authority the capability the load goes through (already checked).
     * @param address   the granule's address.
     * @throws CapabilityFault if the barrier refuses the access.
     */
    public abstract void beforeCapabilityLoad(Capability authority, long address);
}
