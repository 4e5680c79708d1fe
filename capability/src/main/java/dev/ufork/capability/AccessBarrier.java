package dev.ufork.capability;

/**
 * A hook between the capability checks and memory, through which a kernel gives a µprocess its own view of memory:
 * pages shared copy-on-write with other µprocesses, and a fence around the µprocess's own area. {@link
 * CapabilityMemory} calls it after the capability checks pass and before it touches memory, always for an access
 * that lies within one 4 KiB page.
 * <ul>
 *   <li>A data load brackets its read with {@link #beginLoad}, which may redirect it to the page the data still
 *   lives in, and {@link #endLoad()}, which says whether the read was consistent; if not, it is repeated.</li>
 *   <li>{@link #beforeStore} runs before any store into a page, so the page can be made private first.</li>
 *   <li>{@link #beforeCapabilityLoad} runs before a capability is loaded from a page.</li>
 * </ul>
 * Each method may refuse the access by throwing a {@link CapabilityFault} (for instance {@link
 * FaultCause#ISOLATION}); nothing has been read or written then.
 * <p>
 * Thread safety: an instance serves one thread (it may keep state from {@link #beginLoad} to {@link #endLoad}).
 */
public interface AccessBarrier
{
    /**
     * @param authority the capability the load goes through (already checked).
     * @param address   first byte of a data load that lies within one page.
     * @param length    bytes of the load, at least 1.
     * @return the address to read the same bytes from (the same address when the page is private).
     * @throws CapabilityFault if the barrier refuses the access.
     */
    long beginLoad(Capability authority, long address, long length);

    /**
     * @return whether the bytes read since {@link #beginLoad} are a consistent view; {@code false} to retry.
     */
    boolean endLoad();

    /**
     * Called before a store of data or a capability into the page holding {@code address}.
     *
     * @param authority the capability the store goes through (already checked).
     * @param address   an address in the page: the first byte the store writes there.
     * @throws CapabilityFault if the barrier refuses the access.
     */
    void beforeStore(Capability authority, long address);

    /**
     * Called before a capability is loaded from the granule at {@code address}, or before a copy moves the
     * capabilities of a page that holds {@code address}.
     *
     * @param authority the capability the load goes through (already checked).
     * @param address   the granule's address.
     * @throws CapabilityFault if the barrier refuses the access.
     */
    void beforeCapabilityLoad(Capability authority, long address);
}
