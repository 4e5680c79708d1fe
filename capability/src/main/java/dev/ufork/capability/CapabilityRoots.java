package dev.ufork.capability;

import dev.ufork.memory.AddressSpace;

/**
 * Where every valid capability starts. Holding an {@link AddressSpace} is what entitles the holder (the kernel) to
 * mint roots; everything a µprocess holds is derived from them by monotone steps.
 * <p>
 * As on hardware after reset, the power is split: the memory root can load and store anywhere in the space but
 * cannot seal, and the sealing root can seal and unseal every object type but addresses no memory.
 * <p>
 * Thread safety: stateless.
 */
public final class CapabilityRoots
{
    /** Permissions of the memory root: everything except sealing. */
    public static final int MEMORY_ROOT_PERMISSIONS =
        Permissions.ALL & ~(Permission.SEAL.mask() | Permission.UNSEAL.mask());

    private CapabilityRoots()
    {
    }

    /**
     * @param space the address space.
     * @return a tagged capability over the whole space (its top rounded down to the nearest exactly representable
     *         length), with every permission except SEAL and UNSEAL, its address at 0.
     */
    public static Capability memoryRoot(final AddressSpace space)
    {
        final long size = space.size();
        final long top = size & Capability.representableAlignmentMask(size);
        return Capability.root(0, top, MEMORY_ROOT_PERMISSIONS);
    }

    /**
     * @return a tagged capability over the object-type space {@code [0, 2^18)} with SEAL, UNSEAL and GLOBAL: derive
     *         a sealer for a type with {@link Capability#withAddress(long)}. The top four values are reserved types;
     *         sealing with them fails as the ISA says (the bound is a power of two so that it is exact).
     */
    public static Capability sealingRoot()
    {
        return Capability.root(0, 1L << ObjectType.WIDTH, Permissions.SEALING);
    }
}
