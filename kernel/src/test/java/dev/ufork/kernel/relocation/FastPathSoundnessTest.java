package dev.ufork.kernel.relocation;

import dev.ufork.capability.CheriConcentrate;
import dev.ufork.kernel.relocation.CapabilityImages.Granule;
import dev.ufork.kernel.relocation.CapabilityImages.Mix;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The claim the fast path rests on, checked directly on the codec: whenever {@code RelocationCore.isFast} accepts a
 * capability, its bounds lie inside the parent's area (no clamping needed) and the unchanged metadata word decodes,
 * at address + delta, to exactly base + delta and top + delta.
 */
class FastPathSoundnessTest
{
    private static final int SAMPLES = 200_000;

    @Test
    void fastCapabilitiesShouldMoveExactlyAndNeedNoClamping()
    {
        final long seed = RelocationSeeds.seed();
        int fast = 0;
        for (final TestWindows windows : TestWindows.values())
        {
            final RelocationWindow w = windows.window;
            final SplittableRandom random = RelocationSeeds.random(seed, windows.ordinal(), 6);
            final CapabilityImages images = new CapabilityImages(w, Mix.FULL, random);
            for (int i = 0; i < SAMPLES / TestWindows.values().length; i++)
            {
                final Granule g = images.capability();
                if (!w.inSource(g.address())
                    || !RelocationCore.isFast(g.metadata(), g.address() - w.fromBase(), w.size(), w.fastExponentLimit()))
                {
                    continue;
                }
                fast++;
                final long m = g.metadata();
                final long a = g.address();
                final long base = CheriConcentrate.decodeBase(m, a);
                final long top = CheriConcentrate.decodeTop(m, a);
                final String where = windows + " " + RelocationReference.describe(g) + " "
                    + RelocationSeeds.replay(seed);
                assertTrue(!CheriConcentrate.decodeTopHigh(m, a) && base >= w.fromBase() && top <= w.fromTop(),
                    "fast capability would need clamping: " + where);
                assertTrue(CheriConcentrate.decodesTo(m, a + w.delta(), base + w.delta(), top + w.delta(), false),
                    "metadata does not move with the address: " + where);
            }
        }
        assertTrue(fast > SAMPLES / 10, "too few fast samples (" + fast + ") " + RelocationSeeds.replay(seed));
    }
}
