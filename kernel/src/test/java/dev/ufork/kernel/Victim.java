package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A µprocess that attackers aim at: it fills its area with seeded data and capabilities, hands the test its area and
 * entry-table capabilities (what an attacker might smuggle), then waits until released; released, it checks that
 * its own kernel entries all still work and exits 0.
 * <p>
 * Thread safety: the handle is used by the test thread; the µprocess runs on its own.
 */
final class Victim
{
    /** Every how many granules the victim stores a capability. */
    private static final int CAPABILITY_EVERY = 7;

    final int pid;
    /** The victim's area capability, as an attacker would smuggle it. */
    final Capability area;
    /** The victim's ENTRIES register: a capability over its (genuine) entry table. */
    final Capability table;
    final long base;
    final long size;
    private final Kernel kernel;
    private final CountDownLatch release;
    private final AtomicReference<Throwable> failure;

    private Victim(final Kernel kernel, final int pid, final Capability[] caps, final CountDownLatch release,
        final AtomicReference<Throwable> failure)
    {
        this.kernel = kernel;
        this.pid = pid;
        this.area = caps[0];
        this.table = caps[1];
        this.base = area.base();
        this.size = area.length();
        this.release = release;
        this.failure = failure;
    }

    /**
     * Spawns a victim and waits until its area is filled.
     *
     * @param kernel    the kernel.
     * @param areaBytes its area size.
     * @param seed      what its contents derive from.
     * @param extension a registered service it also probes when released.
     * @return the handle.
     */
    static Victim start(final Kernel kernel, final long areaBytes, final long seed, final KernelService extension)
    {
        final CompletableFuture<Capability[]> ready = new CompletableFuture<>();
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final int pid = kernel.spawn(areaBytes, TestPrograms.guarded(failure, ctx ->
        {
            try
            {
                fill(ctx, seed);
                ready.complete(new Capability[] {ctx.area(), ctx.register(RegisterFileDescriptor.ENTRIES)});
            }
            catch (final Throwable t)
            {
                ready.completeExceptionally(t);
                throw t;
            }
            if (!release.await(TestPrograms.HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS))
            {
                throw new AssertionError("victim never released");
            }
            final Attacker self = new Attacker(ctx, extension);
            for (final Attacker.Probe probe : Attacker.Probe.values())
            {
                if (!self.admitted(probe))
                {
                    throw new AssertionError("victim's own " + probe + " entry refused after the attack");
                }
            }
        }));
        final Capability[] caps;
        try
        {
            caps = ready.get(TestPrograms.HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted starting the victim", e);
        }
        catch (final ExecutionException | TimeoutException e)
        {
            throw new AssertionError("victim failed to start: " + e, e);
        }
        return new Victim(kernel, pid, caps, release, failure);
    }

    /** Seeded words everywhere past the register file, with a tagged capability every few granules. */
    private static void fill(final ProcessContext ctx, final long seed)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability heap = ctx.heap();
        final SplittableRandom random = TestPrograms.random(seed ^ 0x7EC7_1A11L);
        final long granules = heap.length() / 16;
        for (long g = 0; g < granules; g++)
        {
            if (g % CAPABILITY_EVERY == 3)
            {
                final long length = 16L * (1 + random.nextInt(32));
                final long at = 16L * random.nextLong(granules - length / 16);
                memory.storeCapability(heap, g * 16, heap.add(at).setBoundsExact(length));
            }
            else
            {
                memory.storeLong(heap, g * 16, random.nextLong());
                memory.storeLong(heap, g * 16 + 8, random.nextLong());
            }
        }
        for (int r = 0; r < RegisterFileDescriptor.GENERAL_REGISTERS; r += 3)
        {
            ctx.setRegister(r, heap.add(16L * r).setBoundsExact(16));
        }
    }

    /** @return a checksum of the victim's area, bytes and tags, read raw. */
    long checksum()
    {
        return TestPrograms.checksum(kernel.space(), base, size);
    }

    /**
     * Lets the victim check its entries and exit, and waits for it.
     *
     * @param context text for failure messages.
     */
    void releaseAndAwait(final String context)
    {
        release.countDown();
        final int status = TestPrograms.awaitExit(kernel, pid, context);
        if (failure.get() != null)
        {
            throw new AssertionError(context + ": victim: " + failure.get(), failure.get());
        }
        if (!WaitStatus.ifExited(status) || WaitStatus.exitStatus(status) != 0)
        {
            throw new AssertionError(context + ": victim ended with wait status 0x" + Integer.toHexString(status));
        }
    }
}
