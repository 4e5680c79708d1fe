package dev.ufork.kernel.relocation;

import dev.ufork.capability.CheriConcentrate;
import dev.ufork.memory.TagBitmap;
import dev.ufork.memory.TaggedMemory;

import java.lang.foreign.MemorySegment;

import static dev.ufork.memory.Geometry.GRANULES_PER_PAGE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;

/**
 * Picks the kernel per page: the popcount of the page's four tag words against a threshold sends sparse pages to
 * the scalar kernel ({@link ScalarRelocator}) and dense ones to the vector kernel ({@link VectorRelocator}).
 * <p>
 * The default thresholds are the crossovers measured on the target machine (AMD Zen 4, 2 vCPUs) with cache-hot
 * pages of the {@code RelocationBenchmark} capability mix, for the vector width in use ({@link VectorRelocator#bits()}):
 * <ul>
 *   <li>512-bit: in place from 48 tagged granules of 256 (about 19 %), copy-and-relocate from 20 (8 %);</li>
 *   <li>256-bit: in place from 84 (33 %), copy-and-relocate from 64 (25 %);</li>
 *   <li>128-bit: never (not measured; half the 256-bit width, which barely wins).</li>
 * </ul>
 * Pages streamed from DRAM cross over lower (about 5 % at 512 bits), since the scalar kernel's scattered accesses
 * then wait on memory; a page's popcount cannot tell where the page is, so the cache-hot crossover is used, which
 * never loses in cache and loses at most the DRAM gap between the crossovers. Counting costs four loads and four
 * {@code popcnt} per page, noise next to either kernel.
 * <p>
 * Needs {@code --add-modules jdk.incubator.vector} at run time. Thread safety: immutable; see the {@link Relocator}
 * precondition.
 */
public final class AdaptiveRelocator implements Relocator
{
    /** Tagged granules per page (of 256) from which the vector kernel is used, for in-place relocation. */
    public static final int DEFAULT_THRESHOLD = switch (VectorRelocator.bits())
    {
        case 512 -> 48;
        case 256 -> 84;
        default -> GRANULES_PER_PAGE + 1;
    };
    /** The same for {@link #copyAndRelocate}, where the vector kernel also does the copy. */
    public static final int DEFAULT_COPY_THRESHOLD = switch (VectorRelocator.bits())
    {
        case 512 -> 20;
        case 256 -> 64;
        default -> GRANULES_PER_PAGE + 1;
    };

    private final int threshold;
    private final int copyThreshold;

    /** A relocator with the measured default thresholds. */
    public AdaptiveRelocator()
    {
        this(DEFAULT_THRESHOLD, DEFAULT_COPY_THRESHOLD);
    }

    /**
     * @param threshold     tagged granules per page from which {@link #relocate} uses the vector kernel: 0 always
     *                      uses it, anything above {@value dev.ufork.memory.Geometry#GRANULES_PER_PAGE} never.
     * @param copyThreshold the same for {@link #copyAndRelocate}.
     * @throws IllegalArgumentException if a threshold is negative.
     */
    public AdaptiveRelocator(final int threshold, final int copyThreshold)
    {
        if (threshold < 0 || copyThreshold < 0)
        {
            throw new IllegalArgumentException("negative threshold: " + threshold + ", " + copyThreshold);
        }
        this.threshold = threshold;
        this.copyThreshold = copyThreshold;
    }

    /** @return tagged granules per page from which {@link #relocate} uses the vector kernel. */
    public int threshold()
    {
        return threshold;
    }

    /** @return tagged granules per page from which {@link #copyAndRelocate} uses the vector kernel. */
    public int copyThreshold()
    {
        return copyThreshold;
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
            if (RelocationCore.tagCount(tags, page) >= threshold)
            {
                count += VectorRelocator.relocatePage(data, tags, page, page, window, scratch);
            }
            else
            {
                count += RelocationCore.relocatePageScalar(data, tags, page, window, scratch);
            }
            page = RelocationCore.nextTaggedPage(tags, page + PAGE_SIZE, end);
        }
        return count;
    }

    @Override
    public long copyAndRelocate(final TaggedMemory memory, final long srcPage, final long dstPage,
        final RelocationWindow window)
    {
        RelocationCore.checkPages(memory, srcPage, dstPage);
        if (RelocationCore.tagCount(memory.tags(), srcPage) >= copyThreshold)
        {
            return VectorRelocator.copyAndRelocatePage(memory, srcPage, dstPage, window);
        }
        return RelocationCore.copyAndRelocateScalar(memory, srcPage, dstPage, window);
    }

    @Override
    public String toString()
    {
        return "AdaptiveRelocator[threshold=" + threshold + "/" + GRANULES_PER_PAGE + ", copyThreshold="
            + copyThreshold + "/" + GRANULES_PER_PAGE + "]";
    }
}
