package dev.ufork.kernel.relocation;

import java.util.SplittableRandom;

/**
 * The seed of the randomized relocation tests: {@code -Dufork.seed=N} replays one run; without it every test uses
 * {@link #DEFAULT}, so a plain build is reproducible. Every failure message carries {@link #replay(long)}.
 */
final class RelocationSeeds
{
    /** The system property that overrides the default seed. */
    static final String PROPERTY = "ufork.seed";
    /** The seed used when {@value #PROPERTY} is not set. */
    static final long DEFAULT = 0x5EED_F0F0_1234L;

    private RelocationSeeds()
    {
    }

    /** @return the seed of this run. */
    static long seed()
    {
        final String given = System.getProperty(PROPERTY);
        if (given == null || given.isBlank())
        {
            return DEFAULT;
        }
        final String s = given.strip();
        return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
    }

    /**
     * @param seed    the run's seed.
     * @param streams values that pick an independent stream per test case (density, window...).
     * @return a generator for that case.
     */
    static SplittableRandom random(final long seed, final long... streams)
    {
        long mixed = seed;
        for (final long s : streams)
        {
            mixed = mixed * 0x9E37_79B9_7F4A_7C15L + s;
        }
        return new SplittableRandom(mixed);
    }

    /**
     * @param seed the run's seed.
     * @return text for a failure message that tells how to replay the run.
     */
    static String replay(final long seed)
    {
        return "seed=" + seed + " (replay with -D" + PROPERTY + "=" + seed + ")";
    }
}
