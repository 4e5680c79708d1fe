package dev.ufork.perf.forkbench;

import dev.ufork.kernel.CopyMode;

import java.util.Locale;

/**
 * What a row of the fork benchmark measures: a ufork fork in one {@link CopyMode}, or the Linux baseline (a native
 * process calling {@code fork(2)}).
 */
enum ForkMode
{
    /** ufork, {@link CopyMode#COPY}: every page copied and relocated at the fork. */
    COPY(CopyMode.COPY),
    /** ufork, {@link CopyMode#COA}: copy-on-access. */
    COA(CopyMode.COA),
    /** ufork, {@link CopyMode#COPA}: copy-on-pointer-access. */
    COPA(CopyMode.COPA),
    /** A small C process calling {@code fork(2)}, measured in the same run. */
    LINUX(null);

    private final CopyMode copyMode;

    ForkMode(final CopyMode copyMode)
    {
        this.copyMode = copyMode;
    }

    /** @return the kernel's copy mode; null for {@link #LINUX}. */
    CopyMode copyMode()
    {
        return copyMode;
    }

    /** @return the name used on the command line and in the output. */
    String label()
    {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @param text a mode name, any case.
     * @return the mode.
     * @throws IllegalArgumentException naming the known modes if there is none by that name.
     */
    static ForkMode parse(final String text)
    {
        for (final ForkMode mode : values())
        {
            if (mode.label().equals(text.trim().toLowerCase(Locale.ROOT)))
            {
                return mode;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + text + "' (known: copy, coa, copa, linux)");
    }
}
