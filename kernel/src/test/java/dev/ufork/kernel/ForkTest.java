package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * fork in every copy mode: a child sees the parent's image at the instant of the fork, at its own address, with
 * its pointers relocated; later writes on either side stay private.
 */
class ForkTest
{
    private static final int NODES = 2000;
    private static final long LIST = RegisterFileDescriptor.SIZE;
    private static final long NODE_SIZE = 32;

    private Kernel kernel;

    @BeforeEach
    void setUp()
    {
        kernel = Kernel.boot(KernelConfig.ofSpace(256L << 20).withAreaSize(1 << 20));
    }

    @AfterEach
    void tearDown()
    {
        kernel.close();
    }

    /** Builds a linked list: node i = {value i*7 at +0, next pointer at +16}; register c1 points at the head. */
    private static void buildList(final ProcessContext ctx)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        Capability next = Capability.NULL;
        for (int i = NODES - 1; i >= 0; i--)
        {
            final Capability node = area.withAddress(area.base() + LIST + i * NODE_SIZE).setBoundsExact(NODE_SIZE);
            memory.storeLong(node, 0, i * 7L);
            memory.storeCapability(node, 16, next);
            next = node;
        }
        ctx.setRegister(1, next);
    }

    /** Walks the list from c1, checking values, bounds inside the area, and returns the sum. */
    private static long walk(final ProcessContext ctx, final int expectedDelta)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        Capability node = ctx.register(1);
        long sum = 0;
        int i = 0;
        while (node.isTagged())
        {
            if (node.base() < area.base() || node.base() + node.length() > area.base() + area.length())
            {
                throw new AssertionError("node " + i + " " + node + " outside area " + area);
            }
            final long value = memory.loadLong(node, 0);
            if (value != i * 7L + expectedDelta)
            {
                throw new AssertionError("node " + i + " holds " + value);
            }
            sum += value;
            node = memory.loadCapability(node, 16);
            i++;
        }
        if (i != NODES)
        {
            throw new AssertionError("walked " + i + " nodes");
        }
        return sum;
    }

    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldGiveChildTheParentsImageRelocated(final CopyMode mode) throws InterruptedException
    {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final int pid = kernel.spawn(ctx ->
        {
            try
            {
                buildList(ctx);
                final long parentBase = ctx.area().base();
                final int child = ctx.fork(c ->
                {
                    if (c.area().base() == parentBase)
                    {
                        throw new AssertionError("child at the parent's address");
                    }
                    walk(c, 0);
                    // Child writes: must not reach the parent.
                    Capability node = c.register(1);
                    while (node.isTagged())
                    {
                        c.memory().storeLong(node, 0, c.memory().loadLong(node, 0) + 1000);
                        node = c.memory().loadCapability(node, 16);
                    }
                    walk(c, 1000);
                    c.exit(42);
                }, mode);
                // Parent writes after the fork: the child must not see them.
                Capability node = ctx.register(1);
                while (node.isTagged())
                {
                    ctx.memory().storeLong(node, 0, ctx.memory().loadLong(node, 0) + 1);
                    node = ctx.memory().loadCapability(node, 16);
                }
                final WaitResult result = ctx.waitpid(child, 0);
                assertEquals(child, result.pid());
                assertTrue(WaitStatus.ifExited(result.status()), "child status " + result.status());
                assertEquals(42, WaitStatus.exitStatus(result.status()));
                walk(ctx, 1);
            }
            catch (final Throwable t)
            {
                failure.compareAndSet(null, t);
            }
        });
        final int status = kernel.awaitExit(pid);
        if (failure.get() != null)
        {
            throw new AssertionError(mode + ": " + failure.get(), failure.get());
        }
        assertNull(failure.get());
        assertTrue(WaitStatus.ifExited(status) && WaitStatus.exitStatus(status) == 0, "status " + status);
        assertEquals(1, kernel.metrics().forks());
    }

    /**
     * Every µprocess runs with its area confined to its own thread (its stores take no page lock): a spawned one, and
     * a forked child, which confines its area itself as it starts, so that the parent's fork does not pay for it.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldRunEveryProcessWithItsAreaConfinedToItsOwnThread(final CopyMode mode) throws InterruptedException
    {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final int pid = kernel.spawn(ctx ->
        {
            try
            {
                assertConfinedToCurrentThread(ctx, "the spawned process");
                final int child = ctx.fork(c -> assertConfinedToCurrentThread(c, "the forked child"), mode);
                final WaitResult result = ctx.waitpid(child, 0);
                assertTrue(WaitStatus.ifExited(result.status()) && WaitStatus.exitStatus(result.status()) == 0,
                    "the child failed its check (status " + result.status() + ")");
                assertConfinedToCurrentThread(ctx, "the parent after the fork");
            }
            catch (final Throwable t)
            {
                failure.compareAndSet(null, t);
            }
        });
        final int status = kernel.awaitExit(pid);
        if (failure.get() != null)
        {
            throw new AssertionError(mode + ": " + failure.get(), failure.get());
        }
        assertTrue(WaitStatus.ifExited(status) && WaitStatus.exitStatus(status) == 0, "status " + status);
    }

    private void assertConfinedToCurrentThread(final ProcessContext ctx, final String who)
    {
        final long owner = kernel.process(ctx.getpid()).area.ownerThreadId();
        assertEquals(Thread.currentThread().threadId(), owner, who + ": the thread its area is confined to");
    }
}
