package dev.ufork.kernel.relocation;

import dev.ufork.memory.TaggedMemory;

/**
 * Rewrites the capabilities of a forked child so that those pointing into the parent's area point into the child's
 * (paper §1.5). For every <em>tagged</em> granule in the range whose capability address lies in
 * {@code [window.fromBase, window.fromTop)}, or whose bounds lie within {@code [window.fromBase, window.fromTop]}
 * (a capability derived from the area whose address has left it, such as a one-past-the-end pointer):
 * <ul>
 *   <li>address, base and top move by {@link RelocationWindow#delta()}, and the bounds are clamped to
 *   {@code [toBase, toTop)};</li>
 *   <li>permissions, object type (sealed capabilities and sentries stay sealed) and flags are kept;</li>
 *   <li>if the clamped bounds cannot be encoded exactly, or the new address is not representable with them, or the
 *   bounds do not meet the parent's area at all, the granule's tag is cleared and its bytes are left as they were:
 *   failing safe, since a rounded encoding could reach outside the child's area.</li>
 * </ul>
 * Untagged granules are never changed, whatever their bytes look like; tagged capabilities whose address and bounds
 * lie outside the parent's area (kernel entry points, shared memory) stay as they are.
 * <p>
 * <b>Precondition.</b> The caller holds the pages being written exclusively: it holds their page locks, or no other
 * thread can reach them yet (a child that has not started, a page not yet mapped in). Implementations read and write
 * the raw {@link TaggedMemory#segment()} and change tags through the {@link dev.ufork.memory.TagBitmap} directly,
 * and rewrite whole 32-byte blocks with the same bytes where nothing changes; they never take a page lock (page locks
 * are not reentrant, so taking one the caller holds would deadlock).
 * <p>
 * Thread safety: implementations are stateless and may be shared; concurrent calls must touch disjoint pages.
 */
public interface Relocator
{
    /**
     * Relocates the capabilities in {@code [start, start + length)} in place.
     *
     * @param memory the space's memory.
     * @param start  page-aligned first byte of the range.
     * @param length page-aligned byte count.
     * @param window where capabilities move from and to.
     * @return how many capabilities were relocated (and are still tagged); granules whose tag had to be cleared are
     *         not counted.
     * @throws IllegalArgumentException  if {@code start} or {@code length} is not page-aligned.
     * @throws IndexOutOfBoundsException if the range is not inside the space.
     */
    long relocate(TaggedMemory memory, long start, long length, RelocationWindow window);

    /**
     * Copies one 4 KiB page, bytes and tags, from {@code srcPage} to {@code dstPage} and relocates the copy in the same
     * pass, as a copy-on-write or copy-on-pointer-access fault does. The source page is not changed. Besides the
     * {@link Relocator class precondition} on the destination, nobody may write the source page meanwhile (the caller
     * holds its lock or it is mapped read-only).
     *
     * @param memory  the space's memory.
     * @param srcPage page-aligned address of the source page.
     * @param dstPage page-aligned address of the destination page.
     * @param window  where capabilities move from and to.
     * @return how many capabilities of the copy were relocated.
     * @throws IllegalArgumentException  if an address is not page-aligned.
     * @throws IndexOutOfBoundsException if a page is not inside the space.
     */
    long copyAndRelocate(TaggedMemory memory, long srcPage, long dstPage, RelocationWindow window);
}
