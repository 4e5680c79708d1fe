package dev.ufork.kernel;

import dev.ufork.memory.AddressSpaceConfig;

/**
 * How to boot a {@link Kernel}.
 *
 * @param space           the address space to reserve.
 * @param defaultCopyMode the copy mode of {@link ProcessContext#fork(Program)}.
 * @param defaultAreaSize bytes of a spawned µprocess's area (rounded up to a power of two, at least 64 KiB).
 * @param isolation       how strictly µprocesses are separated.
 */
public record KernelConfig(AddressSpaceConfig space, CopyMode defaultCopyMode, long defaultAreaSize,
    IsolationLevel isolation)
{
    /** Validates the settings. */
    public KernelConfig
    {
        if (space == null || defaultCopyMode == null || isolation == null)
        {
            throw new NullPointerException("space, defaultCopyMode and isolation are required");
        }
        if (defaultAreaSize <= 0 || defaultAreaSize > space.sizeBytes())
        {
            throw new IllegalArgumentException("defaultAreaSize outside (0, space size]: " + defaultAreaSize);
        }
    }

    /**
     * @param spaceBytes bytes of address space.
     * @return COPA forks, 1 MiB areas, adversarial isolation, in a space of that size.
     */
    public static KernelConfig ofSpace(final long spaceBytes)
    {
        return new KernelConfig(AddressSpaceConfig.ofSize(spaceBytes), CopyMode.COPA, 1 << 20,
            IsolationLevel.ADVERSARIAL);
    }

    /** @param mode the default copy mode. @return a copy with it. */
    public KernelConfig withCopyMode(final CopyMode mode)
    {
        return new KernelConfig(space, mode, defaultAreaSize, isolation);
    }

    /** @param bytes the default area size. @return a copy with it. */
    public KernelConfig withAreaSize(final long bytes)
    {
        return new KernelConfig(space, defaultCopyMode, bytes, isolation);
    }

    /** @param level the isolation level. @return a copy with it. */
    public KernelConfig withIsolation(final IsolationLevel level)
    {
        return new KernelConfig(space, defaultCopyMode, defaultAreaSize, level);
    }
}
