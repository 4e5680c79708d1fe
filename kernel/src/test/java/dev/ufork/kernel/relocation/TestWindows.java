package dev.ufork.kernel.relocation;

/**
 * The windows the contract tests relocate through. Capability addresses only have to be values: the pages being
 * relocated live elsewhere in the test space ({@link #SCRATCH}), so areas may overlap each other or the scratch pages
 * without aliasing.
 */
enum TestWindows
{
    /** delta = 4 MiB, a multiple of the (1 MiB) area size: every capability away from the edges is fast. */
    ALIGNED(RelocationWindow.of(4L << 20, 8L << 20, 1L << 20)),
    /** Negative delta (-8 MiB), child below parent. */
    NEGATIVE(RelocationWindow.of(16L << 20, 8L << 20, 1L << 20)),
    /** delta = 1 MiB + 16 KiB: only E = 0 capabilities are fast (fast exponent limit 0). */
    MINIMAL_ALIGNMENT(RelocationWindow.of(4L << 20, (5L << 20) + (16 << 10), 1L << 20)),
    /** delta = 8 MiB + 4 KiB, page-aligned only: no fast lane, everything goes through the slow path. */
    PAGE_ALIGNED(RelocationWindow.of(4L << 20, (12L << 20) + 4096, 1L << 20)),
    /** Overlapping areas, delta = 512 KiB. */
    OVERLAPPING(RelocationWindow.of(4L << 20, (4L << 20) + (512 << 10), 1L << 20)),
    /** An 8 MiB + 4 KiB area: its own bounds are not exactly representable, so area-wide caps lose their tag. */
    ODD_SIZE(RelocationWindow.of(4L << 20, 20L << 20, (8L << 20) + 4096));

    /** Bytes of the test address space (reserved with MAP_NORESERVE: costs nothing untouched). */
    static final long SPACE_SIZE = 64L << 20;
    /** Where the tests put the pages they relocate, above every window. */
    static final long SCRATCH = 40L << 20;

    final RelocationWindow window;

    TestWindows(final RelocationWindow window)
    {
        this.window = window;
    }
}
