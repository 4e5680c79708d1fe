package dev.ufork.capability;

import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.Area;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link CapabilityMemory#holdsCapability} says exactly what {@code loadCapability(...).equals(expected)} says, and
 * faults exactly where that load faults, over seeded random granules, authorities and expected values.
 */
class HoldsCapabilityTest
{
    @Test
    void agreesWithLoadThenEquals()
    {
        final long seed = ModelSeeds.seed(0x401D5L);
        final SplittableRandom random = new SplittableRandom(seed);
        try (AddressSpace space = AddressSpace.reserve(16L << 20))
        {
            final CapabilityMemory memory = new CapabilityMemory(space);
            final Area area = space.allocate(1 << 16);
            final Capability root = CapabilityRoots.memoryRoot(space).withAddress(area.base()).setBoundsExact(1 << 16);
            final Capability[] values = new Capability[8];
            for (int i = 0; i < values.length; i++)
            {
                values[i] = root.add(16L * random.nextInt(256)).setBoundsExact(16 + 16L * random.nextInt(16));
            }
            values[0] = Capability.NULL;
            values[1] = values[2].withTagCleared();
            for (int slot = 0; slot < 64; slot++)
            {
                memory.storeCapability(root, 16L * slot, values[random.nextInt(values.length)]);
            }
            final Capability[] authorities = {root, root.andPermissions(Permissions.DATA_READ),
                root.andPermissions(Permissions.NONE), root.withTagCleared(), root.add(256).setBoundsExact(64)};
            int checked = 0;
            for (int i = 0; i < 5000; i++)
            {
                final Capability authority = authorities[random.nextInt(authorities.length)];
                final long offset = random.nextInt(4) == 0 ? random.nextInt(1 << 10) : 16L * random.nextInt(64);
                final Capability expected = values[random.nextInt(values.length)];
                CapabilityFault loadFault = null;
                Capability loaded = null;
                try
                {
                    loaded = memory.loadCapability(authority, offset);
                }
                catch (final CapabilityFault f)
                {
                    loadFault = f;
                }
                if (loadFault != null)
                {
                    final FaultCause cause = loadFault.faultCause();
                    final CapabilityFault f = assertThrows(CapabilityFault.class,
                        () -> memory.holdsCapability(authority, offset, expected), ModelSeeds.replay(seed));
                    assertEquals(cause, f.faultCause(), ModelSeeds.replay(seed));
                }
                else
                {
                    assertEquals(loaded.equals(expected), memory.holdsCapability(authority, offset, expected),
                        ModelSeeds.replay(seed) + ": " + loaded + " vs " + expected);
                    checked++;
                }
            }
            assertEquals(true, checked > 1000, "too few successful loads: " + checked);
        }
    }
}
