package dev.ufork.kernel.relocation;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Validation and derived values of {@link RelocationWindow}. */
class RelocationWindowTest
{
    private static final long MIB = 1L << 20;

    @Test
    void shouldDeriveDeltaSizeAndInverse()
    {
        final RelocationWindow w = RelocationWindow.of(4 * MIB, 12 * MIB, MIB);
        assertEquals(8 * MIB, w.delta());
        assertEquals(MIB, w.size());
        assertEquals(new RelocationWindow(12 * MIB, 13 * MIB, 4 * MIB, 5 * MIB), w.inverse());
        assertEquals(-8 * MIB, w.inverse().delta());
        assertTrue(w.inSource(4 * MIB));
        assertTrue(w.inSource(5 * MIB - 1));
        assertFalse(w.inSource(5 * MIB));
        assertFalse(w.inSource(4 * MIB - 1));
        assertFalse(w.inSource(-1));
        assertTrue(w.inTarget(12 * MIB));
        assertFalse(w.inTarget(13 * MIB));
    }

    @Test
    void shouldRejectBadWindows()
    {
        assertThrows(IllegalArgumentException.class, () -> new RelocationWindow(4096, 8192, 16384, 24576));
        assertThrows(IllegalArgumentException.class, () -> new RelocationWindow(4097, 8192, 16384, 20480));
        assertThrows(IllegalArgumentException.class, () -> new RelocationWindow(4096, 8192, 16384, 20481));
        assertThrows(IllegalArgumentException.class, () -> new RelocationWindow(8192, 8192, 16384, 16384));
        assertThrows(IllegalArgumentException.class, () -> new RelocationWindow(8192, 4096, 16384, 12288));
        assertThrows(IllegalArgumentException.class, () -> new RelocationWindow(-4096, 0, 16384, 20480));
    }

    @Test
    void fastExponentLimitShouldFollowDeltaAlignmentAndAreaSize()
    {
        // delta 2^22, area 2^20: the margin (2^(E+14) each side) limits E to 20 - 15 = 5.
        assertEquals(5, RelocationWindow.of(4 * MIB, 8 * MIB, MIB).fastExponentLimit());
        // delta 2^16 + 2^14: only E = 0 is exact.
        assertEquals(0, RelocationWindow.of(4 * MIB, 4 * MIB + (80 << 10), MIB).fastExponentLimit());
        // Page-aligned delta only: no fast lane.
        assertTrue(RelocationWindow.of(4 * MIB, 4 * MIB + 4096, MIB).fastExponentLimit() < 0);
        // Large area, large aligned delta: E up to 30 - 15.
        assertEquals(15, RelocationWindow.of(0, 1L << 32, 1L << 30).fastExponentLimit());
    }
}
