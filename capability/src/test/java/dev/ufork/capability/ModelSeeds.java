package dev.ufork.capability;

import java.util.stream.LongStream;

/**
 * Seeds for the randomized tests of this package that are built on {@link ModelMemory}. {@code -Dufork.seed=N}
 * replays exactly one seed; without it, each test runs its fixed default seeds, so a plain build is reproducible.
 * Every failure message of such a test carries {@link #replay(long)}.
 */
final class ModelSeeds
{
    /** The system property that overrides the default seeds. */
    static final String PROPERTY = "ufork.seed";

    private ModelSeeds()
    {
    }

    /**
     * @param defaults the seeds to run when {@code ufork.seed} is not set.
     * @return the seeds to run.
     */
    static LongStream seeds(final long... defaults)
    {
        final String given = System.getProperty(PROPERTY);
        if (given != null && !given.isBlank())
        {
            final String s = given.strip();
            return LongStream.of(s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s));
        }
        return LongStream.of(defaults);
    }

    /**
     * @param fallback the seed to use when {@code ufork.seed} is not set.
     * @return the one seed a single-seed test runs.
     */
    static long seed(final long fallback)
    {
        return seeds(fallback).findFirst().orElse(fallback);
    }

    /**
     * @param seed the seed of the failing run.
     * @return text for a failure message that tells how to replay the run.
     */
    static String replay(final long seed)
    {
        return "seed=" + seed + " (replay with -D" + PROPERTY + "=" + seed + ")";
    }
}
