package dev.ufork.posix;

import dev.ufork.kernel.KernelConfig;

import java.nio.file.Path;

/**
 * How to boot a {@link PosixSystem}.
 *
 * @param kernel      the kernel underneath.
 * @param root        the host directory that is the file system's {@code /}; no path gets out of it.
 * @param maxOpenFiles the most descriptors one µprocess may hold ({@code RLIMIT_NOFILE}); {@code open} and friends
 *                    fail with EMFILE beyond it.
 * @param hostStdio   whether spawned µprocesses get the host's standard output and error as descriptors 1 and 2
 *                    (else all three standard descriptors are {@code /dev/null}).
 */
public record PosixConfig(KernelConfig kernel, Path root, int maxOpenFiles, boolean hostStdio)
{
    /** Validates the settings. */
    public PosixConfig
    {
        if (kernel == null || root == null)
        {
            throw new NullPointerException("kernel and root are required");
        }
        if (maxOpenFiles < 3 || maxOpenFiles > 1 << 20)
        {
            throw new IllegalArgumentException("maxOpenFiles outside [3, 2^20]: " + maxOpenFiles);
        }
    }

    /**
     * @param kernel the kernel configuration.
     * @param root   the file system root.
     * @return 1024 descriptors per µprocess, no host stdio.
     */
    public static PosixConfig of(final KernelConfig kernel, final Path root)
    {
        return new PosixConfig(kernel, root, 1024, false);
    }

    /** @param limit descriptors per µprocess. @return a copy with it. */
    public PosixConfig withMaxOpenFiles(final int limit)
    {
        return new PosixConfig(kernel, root, limit, hostStdio);
    }

    /** @param enabled whether descriptors 1 and 2 are the host's. @return a copy with it. */
    public PosixConfig withHostStdio(final boolean enabled)
    {
        return new PosixConfig(kernel, root, maxOpenFiles, enabled);
    }
}
