package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.memory.Geometry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.kernel.ProcessSync.await;
import static dev.ufork.kernel.ProcessSync.page;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Eager copies (a COPY fork, and the copies a child gets when its source is reaped) skip the pages nobody ever
 * touched. The child must still read exactly the parent's image: zero where the parent never wrote, even when the
 * child's area is a reused one whose previous owner wrote data and capabilities all over it.
 */
class ZeroPageCopyTest
{
    private static final long AREA = 256 << 10;
    private static final int PAGES = (int)(AREA >>> Geometry.PAGE_SHIFT);
    /** The parent writes pages 1..WRITTEN; the others it never touches. */
    private static final int WRITTEN = 3;

    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private Kernel kernel;

    @BeforeEach
    void setUp()
    {
        kernel = TestPrograms.boot(256L << 20, AREA, CopyMode.COPA);
    }

    @AfterEach
    void tearDown()
    {
        kernel.close();
    }

    private Program guarded(final TestPrograms.Body body)
    {
        return TestPrograms.guarded(failure, body);
    }

    /** Writes data and a capability on every page but the register file, so that a reused area is dirty. */
    private static void dirtyEveryPage(final ProcessContext c)
    {
        final CapabilityMemory memory = c.memory();
        for (int p = 1; p < PAGES; p++)
        {
            memory.fill(page(c, p), 0, Geometry.PAGE_SIZE, (byte)0x77);
            memory.storeCapability(page(c, p), 64, page(c, p));
        }
    }

    /** Checks the image: pages 1..WRITTEN hold the parent's values, every other page is zero and untagged. */
    private static void checkImage(final ProcessContext c, final String what)
    {
        final CapabilityMemory memory = c.memory();
        for (int p = 1; p < PAGES; p++)
        {
            final Capability at = page(c, p);
            for (long offset = 0; offset < Geometry.PAGE_SIZE; offset += Geometry.GRANULE_SIZE)
            {
                final long expected = p <= WRITTEN && offset == 0 ? 1000 + p : 0;
                assertEquals(expected, memory.loadLong(at, offset), what + ": page " + p + " at " + offset);
                assertEquals(0, memory.loadLong(at, offset + 8), what + ": page " + p + " at " + (offset + 8));
                if (memory.loadCapability(at, offset).isTagged())
                {
                    throw new AssertionError(what + ": a tag on page " + p + " at " + offset);
                }
            }
        }
    }

    /**
     * The parent writes three pages, lets a first child (COPY) dirty its whole area and reaps it, then forks a second
     * child, which gets that area back: under COPY the fork copies its image at once; under COA and COPA the parent
     * then exits, and its reaping gives the child its copies. Either way the child reads zero wherever the parent
     * never wrote.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldReadZeroWhereTheParentNeverWroteWhenTheChildReusesADirtyArea(final CopyMode mode)
    {
        final String context = mode + " eager copies into a reused area";
        final CompletableFuture<Long> dirtyBase = new CompletableFuture<>();
        final CompletableFuture<Long> childBase = new CompletableFuture<>();
        final CompletableFuture<Boolean> checked = new CompletableFuture<>();
        final int parent = kernel.spawn(AREA, guarded(ctx ->
        {
            for (int p = 1; p <= WRITTEN; p++)
            {
                ctx.memory().storeLong(page(ctx, p), 0, 1000 + p);
            }
            // COPY, so that the parent's untouched pages stay untouched: a lazy copy would read them.
            final int dirty = ctx.fork(guarded(c ->
            {
                dirtyBase.complete(c.area().base());
                dirtyEveryPage(c);
            }), CopyMode.COPY);
            ProcessSync.assertExited(0, ctx.waitpid(dirty, 0).status(), failure, context + ": the dirtying child");
            final int parentPid = ctx.getpid();
            ctx.fork(guarded(c ->
            {
                childBase.complete(c.area().base());
                // Until the parent is reaped; under COPY the image is the child's own from the fork on anyway.
                while (c.exists(parentPid))
                {
                    Thread.sleep(1);
                }
                try
                {
                    checkImage(c, context);
                }
                finally
                {
                    checked.complete(true);
                }
            }), mode);
        }));
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, parent, context), failure, context);
        await(checked, context + ": the child's check");
        ProcessSync.rethrow(failure, context);
        assertEquals(await(dirtyBase, context), await(childBase, context),
            context + ": the second child reuses the first one's area");
        TestPrograms.awaitLiveProcesses(kernel, 1, context);
        ProcessSync.rethrow(failure, context);
    }
}
