package dev.ufork.kernel.relocation;

import dev.ufork.capability.CheriConcentrate;
import dev.ufork.memory.TagBitmap;
import dev.ufork.memory.TaggedMemory;

import java.lang.foreign.MemorySegment;

import static dev.ufork.memory.Geometry.PAGE_SIZE;

/**
 * The scalar relocator: skips pages whose summary bit is clear, then walks each page's tag words with
 * {@link Long#numberOfTrailingZeros(long)}, touching only tagged granules. Best at the low tag densities of ordinary
 * heaps (about 5 %), and needs no incubator module.
 * <p>
 * Thread safety: stateless; see the {@link Relocator} precondition.
 */
public final class ScalarRelocator implements Relocator
{
    /** Creates the relocator; it holds no state, so one instance may serve every fork. */
    public ScalarRelocator()
    {
    }

    @Override
    public long relocate(final TaggedMemory memory, final long start, final long length,
        final RelocationWindow window)
    {
        RelocationCore.checkRange(memory, start, length);
        final MemorySegment data = memory.segment();
        final TagBitmap tags = memory.tags();
        final CheriConcentrate.BoundsEncoding scratch = new CheriConcentrate.BoundsEncoding();
        final long end = start + length;
        long count = 0;
        long page = RelocationCore.nextTaggedPage(tags, start, end);
        while (page >= 0)
        {
            count += RelocationCore.relocatePageScalar(data, tags, page, window, scratch);
            page = RelocationCore.nextTaggedPage(tags, page + PAGE_SIZE, end);
        }
        return count;
    }

    @Override
    public long copyAndRelocate(final TaggedMemory memory, final long srcPage, final long dstPage,
        final RelocationWindow window)
    {
        RelocationCore.checkPages(memory, srcPage, dstPage);
        return RelocationCore.copyAndRelocateScalar(memory, srcPage, dstPage, window);
    }

    @Override
    public String toString()
    {
        return "ScalarRelocator";
    }
}
