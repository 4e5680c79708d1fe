package dev.ufork.capability;

/**
 * A hook between the capability checks and memory, through which a kernel gives a µprocess its own view of memory
 * that shares pages copy-on-write with other µprocesses. {@link CapabilityMemory} calls it after the checks pass and
 * before it touches memory, always for an access that lies within one 4 KiB page.
 * <ul>
 *   <li>A data load brackets its read with {@link #beginLoad(long)}, which may redirect it to the page the data
 *   still lives in, and {@link #endLoad()}, which says whether the read was consistent; if not, it is repeated.</li>
 *   <li>{@link #beforeStore(long)} runs before any store into a page, so the page can be made private first.</li>
 *   <li>{@link #beforeCapabilityLoad(long)} runs before a capability is loaded from a page.</li>
 * </ul>
 * Thread safety: an instance serves one thread (it may keep state from {@link #beginLoad} to {@link #endLoad}).
 */
public interface AccessBarrier
{
    /**
     * @param address first byte of a data load that lies within one page.
     * @return the address to read the same bytes from (the same address when the page is private).
     */
    long beginLoad(long address);

    /**
     * @return whether the bytes read since {@link #beginLoad(long)} are a consistent view; {@code false} to retry.
     */
    boolean endLoad();

    /**
     * Called before a store of data or a capability into the page holding {@code address}.
     *
     * @param address an address in the page.
     */
    void beforeStore(long address);

    /**
     * Called before a capability load from the granule at {@code address}.
     *
     * @param address the granule's address.
     */
    void beforeCapabilityLoad(long address);
}
