package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.AddressSpaceConfig;
import dev.ufork.memory.Geometry;
import dev.ufork.memory.TaggedMemory;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * Shared plumbing for the kernel tests: seeds, booting small kernels, running a program as a µprocess with its
 * failures carried out, hang guards, and checksums of an area read from outside.
 * <p>
 * <b>Seeds.</b> Every randomized test takes its seed from the system property {@value #SEED_PROPERTY} if set, else
 * from its fixed default, and every failure message carries {@link #replay(long)}.
 * <p>
 * <b>Hang guards.</b> Waits are bounded by {@link #HANG_GUARD}; it only turns a hang into a failure, nothing is ever
 * asserted about how long an operation took.
 */
final class TestPrograms
{
    /** The system property that replays one seed. */
    static final String SEED_PROPERTY = "ufork.seed";

    /** How long any single wait may take before the test calls it a hang. */
    static final Duration HANG_GUARD = Duration.ofMinutes(2);

    /** Exit status a guarded program uses when it recorded a failure. */
    static final int FAILED = 125;

    private TestPrograms()
    {
    }

    /**
     * @param fallback the seed when {@value #SEED_PROPERTY} is not set.
     * @return the seed to run.
     */
    static long seed(final long fallback)
    {
        final String override = System.getProperty(SEED_PROPERTY);
        return override == null || override.isBlank() ? fallback : Long.parseLong(override.trim());
    }

    /**
     * @param seed a seed.
     * @return its random generator.
     */
    static SplittableRandom random(final long seed)
    {
        return new SplittableRandom(seed);
    }

    /**
     * @param seed the seed of the run.
     * @return text for failure messages that tells how to replay the run.
     */
    static String replay(final long seed)
    {
        return "seed=" + seed + " (replay with -D" + SEED_PROPERTY + "=" + seed + ")";
    }

    /**
     * @param spaceBytes bytes of address space (reserved with MAP_NORESERVE).
     * @param areaBytes  the default area size.
     * @param mode       the default copy mode.
     * @return a booted kernel; close it.
     */
    static Kernel boot(final long spaceBytes, final long areaBytes, final CopyMode mode)
    {
        return Kernel.boot(new KernelConfig(AddressSpaceConfig.ofSize(spaceBytes), mode, areaBytes,
            IsolationLevel.ADVERSARIAL));
    }

    /** A µprocess body that may throw anything; see {@link #guarded}. */
    @FunctionalInterface
    interface Body
    {
        /**
         * @param ctx the µprocess's context.
         * @throws Exception to fail the test.
         */
        void run(ProcessContext ctx) throws Exception;
    }

    /**
     * Wraps a body so that a failure inside the µprocess is recorded for the test thread (the first one wins) and
     * the µprocess exits with {@link #FAILED}; exit and kill unwind through untouched.
     *
     * @param failure where the first failure goes.
     * @param body    the program.
     * @return the program to spawn or fork.
     */
    static Program guarded(final AtomicReference<Throwable> failure, final Body body)
    {
        return ctx ->
        {
            try
            {
                body.run(ctx);
            }
            catch (final ProcessTermination t)
            {
                throw t;
            }
            catch (final Throwable t)
            {
                failure.compareAndSet(null, t);
                ctx.exit(FAILED);
            }
        };
    }

    /**
     * Spawns {@code body} as a µprocess, waits for it, and rethrows what went wrong inside it.
     *
     * @param kernel    the kernel.
     * @param areaBytes its area size.
     * @param context   text for failure messages (seed, mode).
     * @param body      the program.
     * @return its wait status, after checking that no failure was recorded.
     */
    static int run(final Kernel kernel, final long areaBytes, final String context, final Body body)
    {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final int pid = kernel.spawn(areaBytes, guarded(failure, body));
        final int status = awaitExit(kernel, pid, context);
        if (failure.get() != null)
        {
            throw new AssertionError(context + ": " + failure.get(), failure.get());
        }
        return status;
    }

    /**
     * As {@link #run} and also requires a clean {@code exit(0)}.
     */
    static void runClean(final Kernel kernel, final long areaBytes, final String context, final Body body)
    {
        final int status = run(kernel, areaBytes, context, body);
        if (!WaitStatus.ifExited(status) || WaitStatus.exitStatus(status) != 0)
        {
            throw new AssertionError(context + ": µprocess ended with wait status 0x" + Integer.toHexString(status));
        }
    }

    /**
     * {@link Kernel#awaitExit} with a hang guard.
     *
     * @return the wait status.
     */
    static int awaitExit(final Kernel kernel, final int pid, final String context)
    {
        final CompletableFuture<Integer> status = new CompletableFuture<>();
        final Thread waiter = Thread.ofVirtual().name("await-" + pid).start(() ->
        {
            try
            {
                status.complete(kernel.awaitExit(pid));
            }
            catch (final Throwable t)
            {
                status.completeExceptionally(t);
            }
        });
        try
        {
            return status.get(HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (final TimeoutException e)
        {
            waiter.interrupt();
            throw new AssertionError(context + ": µprocess " + pid + " did not end within the hang guard " + HANG_GUARD);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError(context + ": interrupted", e);
        }
        catch (final ExecutionException e)
        {
            throw new AssertionError(context + ": awaitExit(" + pid + ") failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Waits (polling, bounded by the hang guard) until {@code condition} holds.
     *
     * @param what      what is awaited, for the failure message.
     * @param condition the condition.
     */
    static void awaitCondition(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + HANG_GUARD.toNanos();
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("hang guard: still waiting for " + what);
            }
            try
            {
                Thread.sleep(1);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    /**
     * Waits until only {@code live} µprocesses (init included) are left unreaped.
     */
    static void awaitLiveProcesses(final Kernel kernel, final long live, final String context)
    {
        awaitCondition(context + ": liveProcesses() == " + live + " (now " + kernel.metrics().liveProcesses() + ")",
            () -> kernel.metrics().liveProcesses() == live);
    }

    /**
     * A checksum of an area's bytes and tags, read from outside through the raw memory (data loads and tag reads are
     * open to every thread). Order-sensitive (FNV-style mixing of every word and every tag word).
     *
     * @param space the address space.
     * @param base  first byte.
     * @param size  bytes, a multiple of the page size.
     * @return the checksum.
     */
    static long checksum(final AddressSpace space, final long base, final long size)
    {
        final TaggedMemory memory = space.memory();
        long h = 0xcbf29ce484222325L;
        for (long at = base; at < base + size; at += Long.BYTES)
        {
            h = (h ^ memory.loadLong(at)) * 0x100000001b3L;
        }
        final long firstWord = base >>> (Geometry.GRANULE_SHIFT + 6);
        final long words = size >>> (Geometry.GRANULE_SHIFT + 6);
        for (long w = 0; w < words; w++)
        {
            h = (h ^ memory.tags().tagWord(firstWord + w)) * 0x100000001b3L;
        }
        return h;
    }

    /**
     * @param cap  a capability.
     * @param base an area base.
     * @return a position-independent rendering: tag, offsets from {@code base}, length, permissions, object type.
     */
    static String relative(final Capability cap, final long base)
    {
        return "{tag=" + cap.isTagged() + " addr=+0x" + Long.toHexString(cap.address() - base) + " base=+0x"
            + Long.toHexString(cap.base() - base) + " len=0x" + Long.toHexString(cap.length()) + " perms=0x"
            + Integer.toHexString(cap.permissions()) + " otype=" + cap.objectType() + "}";
    }
}
