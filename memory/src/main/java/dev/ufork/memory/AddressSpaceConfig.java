package dev.ufork.memory;

/**
 * How to build an {@link AddressSpace}. Start from {@link #defaults()} or {@link #ofSize(long)} and adjust with the
 * {@code with*} methods.
 *
 * @param sizeBytes        bytes to reserve (rounded up to whole pages). Reserved with {@code MAP_NORESERVE}, so a
 *                         large space costs address space, not memory. Default 64 GiB.
 * @param guardBytes       bytes at the bottom of the space that no area ever covers, so that address 0 (NULL) and
 *                         small offsets from it are never valid in any area. Default 64 KiB.
 * @param warmRetainBytes  how much memory of freed areas to keep resident for reuse before giving it back to the OS
 *                         with {@code madvise}. Reusing a resident page costs a memset; a released page costs a
 *                         fresh fault (about 2.8 µs per page on our machines). A freed area counts its size, or
 *                         its resident bytes if its size alone exceeds this. 0 keeps nothing. Default 256 MiB.
 * @param lockStripes      number of page-lock stripes, a power of two. Default 4096.
 */
public record AddressSpaceConfig(long sizeBytes, long guardBytes, long warmRetainBytes, int lockStripes)
{
    /** The default size: 64 GiB. */
    public static final long DEFAULT_SIZE = 64L << 30;

    /**
     * Validates the settings.
     */
    public AddressSpaceConfig
    {
        if (sizeBytes <= 0)
        {
            throw new IllegalArgumentException("sizeBytes must be positive: " + sizeBytes);
        }
        if (sizeBytes > (1L << 46))
        {
            throw new IllegalArgumentException("sizeBytes above 64 TiB: " + sizeBytes);
        }
        if (guardBytes < Geometry.PAGE_SIZE || guardBytes >= sizeBytes)
        {
            throw new IllegalArgumentException("guardBytes must be at least a page and less than the size: "
                + guardBytes);
        }
        if (warmRetainBytes < 0)
        {
            throw new IllegalArgumentException("warmRetainBytes must not be negative: " + warmRetainBytes);
        }
        if (!Geometry.isPowerOfTwo(lockStripes))
        {
            throw new IllegalArgumentException("lockStripes must be a power of two: " + lockStripes);
        }
        sizeBytes = Geometry.alignUp(sizeBytes, Geometry.PAGE_SIZE);
        guardBytes = Geometry.alignUp(guardBytes, Geometry.PAGE_SIZE);
    }

    /** @return the defaults: 64 GiB, 64 KiB guard, 256 MiB warm memory, 4096 lock stripes. */
    public static AddressSpaceConfig defaults()
    {
        return new AddressSpaceConfig(DEFAULT_SIZE, 64 << 10, 256L << 20, 4096);
    }

    /**
     * @param sizeBytes bytes to reserve.
     * @return the defaults with another size.
     */
    public static AddressSpaceConfig ofSize(final long sizeBytes)
    {
        return defaults().withSize(sizeBytes);
    }

    /** @param bytes new size. @return a copy with that size. */
    public AddressSpaceConfig withSize(final long bytes)
    {
        return new AddressSpaceConfig(bytes, guardBytes, warmRetainBytes, lockStripes);
    }

    /** @param bytes new guard. @return a copy with that guard. */
    public AddressSpaceConfig withGuard(final long bytes)
    {
        return new AddressSpaceConfig(sizeBytes, bytes, warmRetainBytes, lockStripes);
    }

    /** @param bytes new warm retention. @return a copy with that retention. */
    public AddressSpaceConfig withWarmRetain(final long bytes)
    {
        return new AddressSpaceConfig(sizeBytes, guardBytes, bytes, lockStripes);
    }

    /** @param stripes new stripe count. @return a copy with that count. */
    public AddressSpaceConfig withLockStripes(final int stripes)
    {
        return new AddressSpaceConfig(sizeBytes, guardBytes, warmRetainBytes, stripes);
    }
}
