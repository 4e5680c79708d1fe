package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ProcessContext#heap()} for every power-of-two area size from the smallest to 64 GiB: a tagged capability
 * with exact bounds that end at the area's end and start after the register file, as close to it as the bounds'
 * precision allows, and through which the program can store at both ends.
 */
class HeapCapabilityTest
{
    private static final long SMALLEST = Kernel.MIN_AREA;
    private static final long LARGEST = 64L << 30;

    @Test
    void shouldBeTaggedAndExactForEveryAreaSizeUpTo64GiB()
    {
        final List<String> offsets = new ArrayList<>();
        try (Kernel kernel = TestPrograms.boot(2 * LARGEST, SMALLEST, CopyMode.COPA))
        {
            for (long size = SMALLEST; size <= LARGEST; size <<= 1)
            {
                final long areaSize = size;
                final String context = "area of " + areaSize + " bytes";
                final long[] seen = new long[1];
                TestPrograms.runClean(kernel, areaSize, context, ctx ->
                {
                    final Capability area = ctx.area();
                    final Capability heap = ctx.heap();
                    assertTrue(heap.isTagged(), context + ": heap " + heap);
                    assertEquals(heap.base(), heap.address(), context + ": the address is the base");
                    assertEquals(area.base() + area.length(), heap.base() + heap.length(),
                        context + ": the heap ends where the area ends");
                    final long offset = heap.base() - area.base();
                    assertTrue(offset >= RegisterFileDescriptor.SIZE, context + ": the heap starts at " + offset
                        + ", inside the register file");
                    // The bounds' precision: with an internal exponent, bounds about 2^k long are encoded in steps
                    // of 2^(k-9), so the start is the register file's end or the first such step after it.
                    assertTrue(offset <= Math.max(RegisterFileDescriptor.SIZE, areaSize / 512),
                        context + ": the heap starts " + offset + " bytes into the area");
                    assertEquals(heap, heap.setBoundsExact(heap.length()), context + ": the bounds are exact");
                    ctx.memory().storeLong(heap, 0, 1);
                    ctx.memory().storeLong(heap, heap.length() - Long.BYTES, 2);
                    assertEquals(1, ctx.memory().loadLong(heap, 0), context);
                    assertEquals(2, ctx.memory().loadLong(heap, heap.length() - Long.BYTES), context);
                    seen[0] = offset;
                });
                offsets.add((areaSize >>> 10) + " KiB: +" + seen[0]);
            }
        }
        System.out.println("HeapCapabilityTest: the heap's start, per area size: " + offsets);
    }
}
