package dev.ufork.memory;

import java.util.SplittableRandom;
import java.util.stream.LongStream;

/**
 * Seeds for randomized tests. {@code -Dufork.seed=N} replays exactly one seed; without it, each test runs its fixed
 * default seeds. Every failure message of a randomized test carries {@link #replay(long)}.
 */
final class Seeds
{
    /** The system property that overrides the default seeds. */
    static final String PROPERTY = "ufork.seed";

    private Seeds()
    {
    }

    /**
     * @param defaults the seeds to run when {@code ufork.seed} is not set.
     * @return the seeds to run.
     */
    static LongStream seeds(final long... defaults)
    {
        final String override = System.getProperty(PROPERTY);
        if (override != null && !override.isBlank())
        {
            return LongStream.of(Long.parseLong(override.trim()));
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
     * @param seed a seed.
     * @return a random generator for it.
     */
    static SplittableRandom random(final long seed)
    {
        return new SplittableRandom(seed);
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
