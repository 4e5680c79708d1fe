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
 * The default thresholds are the crossovers measured on the target machine (AMD Zen 4, 2 vCPUs) with the
 * {@code RelocationBenchmark} capability mix, for the vector width in use ({@link VectorRelocator#bits()}):
 * <ul>
 *   <li>512-bit: in place from 48 tagged granules of 256 (about 19 %) in cache, from 10 (4 %) when streaming;
 *   copy-and-relocate from 20 (8 %);</li>
 *   <li>256-bit: in place from 84 (33 %) in cache, from 13 (5 %) when streaming; copy-and-relocate from 64
 *   (25 %);</li>
 *   <li>128-bit: never (not measured; half the 256-bit width, which barely wins).</li>
 * </ul>
 * Pages streamed from DRAM cross over much lower: the scalar kernel's scattered reads of a sparse page defeat the
 * hardware prefetcher, the vector kernel's sequential ones do not. A page's popcount cannot tell where the page is,
 * but the range can: {@link #relocate} takes a range of at least {@link #STREAMING_BYTES} (more than the L2 holds) as
 * streaming. A single page ({@link #copyAndRelocate}) gets the cache-hot threshold. Counting costs four loads and four
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
    /** The same for a {@link #relocate} range of at least {@link #STREAMING_BYTES}, whose pages stream from DRAM. */
    public static final int DEFAULT_STREAMING_THRESHOLD = switch (VectorRelocator.bits())
    {
        case 512 -> 10;
        case 256 -> 13;
        default -> GRANULES_PER_PAGE + 1;
    };
    /** Bytes of a {@link #relocate} range from which it counts as streaming: the 1 MiB L2 of the target machine. */
    public static final long STREAMING_BYTES = 1L << 20;
    /** The same for {@link #copyAndRelocate}, where the vector kernel also does the copy. */
    public static final int DEFAULT_COPY_THRESHOLD = switch (VectorRelocator.bits())
    {
        case 512 -> 20;
        case 256 -> 64;
        default -> GRANULES_PER_PAGE + 1;
    };

    private final int threshold;
    private final int streamingThreshold;
    private final int copyThreshold;

    /** A relocator with the measured default thresholds. */
    public AdaptiveRelocator()
    {
        this(DEFAULT_THRESHOLD, DEFAULT_STREAMING_THRESHOLD, DEFAULT_COPY_THRESHOLD);
    }

    /**
     * A relocator whose {@link #relocate} uses one threshold whatever the range.
     *
     * @param threshold     tagged granules per page from which {@link #relocate} uses the vector kernel: 0 always
     *                      uses it, anything above {@value dev.ufork.memory.Geometry#GRANULES_PER_PAGE} never.
     * @param copyThreshold the same for {@link #copyAndRelocate}.
     * @throws IllegalArgumentException if a threshold is negative.
     */
    public AdaptiveRelocator(final int threshold, final int copyThreshold)
    {
        this(threshold, threshold, copyThreshold);
    }

    /**
     * @param threshold          tagged granules per page from which {@link #relocate} uses the vector kernel on a
     *                           range shorter than {@link #STREAMING_BYTES}: 0 always uses it, anything above
     *                           {@value dev.ufork.memory.Geometry#GRANULES_PER_PAGE} never.
     * @param streamingThreshold the same for a range of at least {@link #STREAMING_BYTES}.
     * @param copyThreshold      the same for {@link #copyAndRelocate}.
     * @throws IllegalArgumentException if a threshold is negative.
     */
    public AdaptiveRelocator(final int threshold, final int streamingThreshold, final int copyThreshold)
    {
        if (threshold < 0 || streamingThreshold < 0 || copyThreshold < 0)
        {
            throw new IllegalArgumentException("negative threshold: " + threshold + ", " + streamingThreshold + ", "
                + copyThreshold);
        }
        this.threshold = threshold;
        this.streamingThreshold = streamingThreshold;
        this.copyThreshold = copyThreshold;
    }

    /** @return tagged granules per page from which {@link #relocate} uses the vector kernel on a short range. */
    public int threshold()
    {
        return threshold;
    }

    /** @return the same on a range of at least {@link #STREAMING_BYTES}. */
    public int streamingThreshold()
    {
        return streamingThreshold;
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
        final int limit = length >= STREAMING_BYTES ? streamingThreshold : threshold;
        long count = 0;
        long page = RelocationCore.nextTaggedPage(tags, start, end);
        while (page >= 0)
        {
            if (RelocationCore.tagCount(tags, page) >= limit)
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
        return "AdaptiveRelocator[threshold=" + threshold + "/" + GRANULES_PER_PAGE + ", streamingThreshold="
            + streamingThreshold + "/" + GRANULES_PER_PAGE + ", copyThreshold=" + copyThreshold + "/"
            + GRANULES_PER_PAGE + ", " + VectorRelocator.bits() + "-bit]";
    }
}
