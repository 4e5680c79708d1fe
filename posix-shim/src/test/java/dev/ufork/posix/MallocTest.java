package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.FaultCause;
import dev.ufork.capability.Permission;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * malloc, calloc, realloc, free, malloc_usable_size, posix_memalign, aligned_alloc and abort, as a C program sees
 * them: exact bounds, reuse, zeroing, ENOMEM at the end of the area's reservation, and the misuse that glibc
 * aborts on (which {@code freeChecked} reports as EINVAL instead).
 */
class MallocTest extends PosixTestBase
{
    private static final int SIGABRT = 6;
    private static final long[] SIZES = {
        0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 100, 255, 256, 257, 511, 512, 513, 1000, 4095, 4096, 4097, 8191,
        8192, 10_000, 16_385, 40_000, 65_537, 100_000,
    };

    /** Forks {@code body} and returns its wait status. */
    private int forkAndWait(final Posix posix, final PosixTestSupport.Body body)
    {
        final int child = posix.fork(PosixTestSupport.guarded(failure, body));
        assertTrue(child > 0, "fork failed: errno " + posix.errno());
        final int[] status = new int[1];
        assertEquals(child, posix.waitpid(child, status, 0));
        return status[0];
    }

    private static void assertAborted(final int status)
    {
        assertTrue(Posix.WIFSIGNALED(status), "wait status 0x" + Integer.toHexString(status) + " is not a signal");
        assertEquals(SIGABRT, Posix.WTERMSIG(status));
    }

    private static void assertFails(final Posix posix, final Capability result, final Errno errno)
    {
        assertFalse(result.isTagged(), "expected NULL, got " + result);
        assertEquals(0, result.address());
        assertEquals(errno.code(), posix.errno());
    }

    @Test
    void shouldBoundEachBlockExactlyWithTheHeaderOutOfReach()
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final List<Capability> blocks = new ArrayList<>();
            for (final long size : SIZES)
            {
                final Capability p = posix.malloc(size);
                assertTrue(p.isTagged(), "malloc(" + size + ") failed: errno " + posix.errno());
                assertEquals(p.base(), p.address());
                assertEquals(Capability.representableLength(size), p.length(), "length of malloc(" + size + ")");
                assertEquals(0, p.address() & 15, "alignment of malloc(" + size + ")");
                assertTrue(p.hasPermissions(Permissions.CAP_READ_WRITE));
                assertFalse(p.hasPermissions(Permission.EXECUTE.mask()));
                assertEquals(p.length(), posix.malloc_usable_size(p));
                if (size > 0)
                {
                    memory.storeByte(p, 0, (byte)1);
                    memory.storeByte(p, p.length() - 1, (byte)2);
                    assertEquals(FaultCause.LENGTH,
                        assertThrows(CapabilityFault.class, () -> memory.loadByte(p, p.length())).faultCause());
                }
                if (size >= 16)
                {
                    memory.storeCapability(p, 0, p);
                    assertEquals(p, memory.loadCapability(p, 0));
                }
                // The chunk header sits just below the block.
                assertEquals(FaultCause.LENGTH, assertThrows(CapabilityFault.class,
                    () -> memory.loadLong(p, -8)).faultCause());
                blocks.add(p);
            }
            for (int i = 0; i < blocks.size(); i++)
            {
                for (int j = i + 1; j < blocks.size(); j++)
                {
                    final Capability a = blocks.get(i);
                    final Capability b = blocks.get(j);
                    assertTrue(a.top() <= b.base() || b.top() <= a.base(), a + " overlaps " + b);
                    assertNotEquals(a.address(), b.address());
                }
            }
            assertEquals(blocks.size(), posix.heap().check().chunksInUse());
            for (final Capability p : blocks)
            {
                posix.free(p);
            }
            assertEquals(0, posix.heap().check().chunksInUse());
            return 0;
        });
    }

    @Test
    void shouldGiveUniqueBlocksForZeroBytesAndIgnoreFreeOfNull()
    {
        run(posix ->
        {
            final Capability a = posix.malloc(0);
            final Capability b = posix.malloc(0);
            assertTrue(a.isTagged() && b.isTagged());
            assertEquals(0, a.length());
            assertNotEquals(a.address(), b.address());
            posix.free(Capability.NULL);
            posix.free(null);
            assertEquals(0, posix.freeChecked(Capability.NULL));
            assertEquals(0, posix.malloc_usable_size(Capability.NULL));
            posix.free(a);
            posix.free(b);
            assertEquals(0, posix.heap().check().chunksInUse());
            return 0;
        });
    }

    @Test
    void shouldReuseFreedBlocksWithoutGrowingTheHeap()
    {
        run(posix ->
        {
            final Capability p = posix.malloc(100);
            posix.free(p);
            assertEquals(p.address(), posix.malloc(100).address(), "an exact-size block is reused at once");
            final Capability[] blocks = new Capability[2000];
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < blocks.length; i++)
                {
                    blocks[i] = posix.malloc(16 + (i % 7) * 24);
                    assertTrue(blocks[i].isTagged());
                }
                final long breakAfterRound = posix.sbrk(0).address();
                // Free in an order that makes neighbours merge from both sides.
                for (int i = 0; i < blocks.length; i += 2)
                {
                    posix.free(blocks[i]);
                }
                for (int i = 1; i < blocks.length; i += 2)
                {
                    posix.free(blocks[i]);
                }
                final Malloc.HeapReport report = posix.heap().check();
                assertEquals(1, report.chunksInUse());
                if (round > 0)
                {
                    assertEquals(breakAfterRound, posix.sbrk(0).address(), "round " + round + " grew the heap");
                }
            }
            return 0;
        });
    }

    @Test
    void shouldZeroCallocMemoryEvenWhenReused()
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final Capability dirty = posix.malloc(256);
            memory.fill(dirty, 0, 256, (byte)0x5A);
            memory.storeCapability(dirty, 32, dirty);
            posix.free(dirty);
            final Capability p = posix.calloc(16, 16);
            assertEquals(dirty.address(), p.address(), "calloc reuses the freed block");
            assertEquals(256, p.length());
            for (long at = 0; at < 256; at += 8)
            {
                assertEquals(0, memory.loadLong(p, at), "byte " + at);
            }
            assertFalse(memory.loadCapability(p, 32).isTagged());
            final Capability empty = posix.calloc(0, 5);
            assertTrue(empty.isTagged());
            assertEquals(0, empty.length());
            assertFails(posix, posix.calloc(1L << 40, 1L << 40), Errno.ENOMEM);
            assertFails(posix, posix.calloc(1L << 62, 4), Errno.ENOMEM);
            assertFails(posix, posix.calloc(-1, 1), Errno.ENOMEM);
            posix.heap().check();
            return 0;
        });
    }

    @Test
    void shouldGiveBackALargeFreedTopAndStillZeroCalloc()
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final Capability big = posix.malloc(600 << 10);
            memory.fill(big, 0, big.length(), (byte)0x77);
            memory.storeCapability(big, big.length() - 32, big);
            posix.free(big);
            // Freed into the top chunk: all but 128 KiB of it went back to the OS.
            assertFalse(system.kernel().space().isResident(big.address() + (300 << 10)), "a trimmed page is resident");
            assertTrue(system.kernel().space().isResident(big.address() + (64 << 10)), "the kept part was discarded");
            // Blocks past the kept part are fresh memory again, and calloc over the old end must still be zero.
            final Capability below = posix.malloc(150 << 10);
            assertTrue(below.base() <= big.base() && below.top() > big.base() + (128 << 10), below.toString());
            final Capability zeroed = posix.calloc(1, 460 << 10);
            assertTrue(zeroed.top() > big.top(), zeroed + " does not cover the end of " + big);
            for (long at = 0; at < zeroed.length(); at += 8)
            {
                assertEquals(0, memory.loadLong(zeroed, at), "byte " + at);
            }
            assertFalse(memory.loadCapability(zeroed, big.top() - 32 - zeroed.base()).isTagged());
            posix.heap().check();
            return 0;
        });
    }

    @Test
    void shouldStartANewSegmentWhenTheProgramMovesTheBreak()
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final Capability first = posix.malloc(1000);
            memory.storeLong(first, 0, 1);
            // The program takes memory past malloc's heap for itself, as C code mixing sbrk and malloc may.
            final Capability own = posix.sbrk(10_000);
            assertTrue(own.isTagged());
            memory.fill(own, 0, own.length(), (byte)0x33);
            // A request the top chunk cannot hold: malloc must not grow into the program's memory.
            final Capability big = posix.malloc(200 << 10);
            assertTrue(big.isTagged(), "malloc failed: errno " + posix.errno());
            assertTrue(big.base() >= own.top(), big + " overlaps the program's " + own);
            final Malloc.HeapReport report = posix.heap().check();
            assertEquals(2, report.segments());
            assertEquals(2, report.chunksInUse());
            assertTrue(report.freeChunks() >= 1, "the old top becomes a free chunk");
            // The old segment's free memory is still used, and freeing merges up to the fence only.
            final Capability small = posix.malloc(500);
            assertTrue(small.top() <= own.base(), small + " should come from the first segment");
            posix.free(first);
            posix.free(small);
            posix.free(big);
            assertEquals(0, posix.heap().check().chunksInUse());
            for (long at = 0; at < own.length(); at += 8)
            {
                assertEquals(0x3333_3333_3333_3333L, memory.loadLong(own, at), "byte " + at);
            }
            // A break moved below malloc's heap makes growing fail rather than overlap.
            assertEquals(0, posix.brk(own));
            assertFalse(posix.malloc(400 << 10).isTagged());
            assertEquals(Errno.ENOMEM.code(), posix.errno());
            assertTrue(posix.malloc(100).isTagged(), "what malloc has is still handed out");
            return 0;
        });
    }

    @Test
    void shouldReallocInPlaceOrByMovingAndKeepTheContents()
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final Capability fresh = posix.realloc(Capability.NULL, 40);
            assertTrue(fresh.isTagged());
            assertEquals(40, fresh.length());
            memory.storeCapability(fresh, 0, fresh);
            memory.storeLong(fresh, 16, 0x1234_5678_9ABCL);
            // Grows in place into the top chunk.
            final Capability grown = posix.realloc(fresh, 400);
            assertEquals(fresh.address(), grown.address());
            assertEquals(400, grown.length());
            assertEquals(0x1234_5678_9ABCL, memory.loadLong(grown, 16));
            assertEquals(fresh, memory.loadCapability(grown, 0));
            // A neighbour forces a move; the capability inside keeps its tag.
            final Capability neighbour = posix.malloc(16);
            final Capability moved = posix.realloc(grown, 5000);
            assertNotEquals(grown.address(), moved.address());
            assertEquals(Capability.representableLength(5000), moved.length());
            assertEquals(0x1234_5678_9ABCL, memory.loadLong(moved, 16));
            assertTrue(memory.loadCapability(moved, 0).isTagged());
            assertEquals(-1, posix.freeChecked(grown), "the old capability is invalid after a move");
            assertEquals(Errno.EINVAL.code(), posix.errno());
            // Shrinks in place, keeping the prefix.
            final Capability shrunk = posix.realloc(moved, 24);
            assertEquals(moved.address(), shrunk.address());
            assertEquals(24, shrunk.length());
            assertEquals(0x1234_5678_9ABCL, memory.loadLong(shrunk, 16));
            // ENOMEM leaves the block as it was.
            assertFails(posix, posix.realloc(shrunk, 1L << 45), Errno.ENOMEM);
            assertEquals(0x1234_5678_9ABCL, memory.loadLong(shrunk, 16));
            assertEquals(24, posix.malloc_usable_size(shrunk));
            // Size 0 frees, as glibc.
            final Capability gone = posix.realloc(shrunk, 0);
            assertFalse(gone.isTagged());
            assertEquals(-1, posix.freeChecked(shrunk));
            posix.free(neighbour);
            assertEquals(0, posix.heap().check().chunksInUse());
            return 0;
        });
    }

    @Test
    void shouldFailWithEnomemWhenTheReservationIsFull()
    {
        run(posix ->
        {
            assertFails(posix, posix.malloc(2L << 20), Errno.ENOMEM);
            assertFails(posix, posix.malloc(-1), Errno.ENOMEM);
            assertFails(posix, posix.malloc(1L << 50), Errno.ENOMEM);
            final List<Capability> blocks = new ArrayList<>();
            while (true)
            {
                final Capability p = posix.malloc(32 << 10);
                if (!p.isTagged())
                {
                    assertEquals(Errno.ENOMEM.code(), posix.errno());
                    break;
                }
                blocks.add(p);
            }
            // A 1 MiB area holds most of a megabyte of blocks.
            assertTrue(blocks.size() >= 25, blocks.size() + " blocks of 32 KiB");
            assertTrue(posix.malloc(1000).isTagged(), "small blocks still fit in the last bit of room");
            for (final Capability p : blocks)
            {
                posix.free(p);
            }
            assertTrue(posix.malloc(512 << 10).isTagged(), "the memory is usable again");
            posix.heap().check();
            return 0;
        });
    }

    @Test
    void shouldAlignOnRequest()
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final Capability memptr = posix.scratch().setBoundsExact(16);
            for (final long alignment : new long[] {16, 32, 64, 4096, 65536})
            {
                assertEquals(0, posix.posix_memalign(memptr, alignment, 100));
                final Capability p = memory.loadCapability(memptr, 0);
                assertTrue(p.isTagged());
                assertEquals(0, p.address() % alignment, "posix_memalign(" + alignment + ")");
                assertEquals(100, p.length());
                final Capability q = posix.aligned_alloc(alignment, 3000);
                assertEquals(0, q.address() % alignment, "aligned_alloc(" + alignment + ")");
                assertEquals(3000, q.length());
                posix.heap().check();
                posix.free(p);
                posix.free(q);
            }
            assertEquals(Errno.EINVAL.code(), posix.posix_memalign(memptr, 8, 100));
            assertEquals(Errno.EINVAL.code(), posix.posix_memalign(memptr, 48, 100));
            assertEquals(Errno.ENOMEM.code(), posix.posix_memalign(memptr, 64, 1L << 45));
            assertEquals(Errno.EFAULT.code(), posix.posix_memalign(memptr.withTagCleared(), 64, 100));
            assertEquals(Errno.EFAULT.code(), posix.posix_memalign(
                memptr.andPermissions(Permissions.DATA_READ_WRITE), 64, 100));
            assertFails(posix, posix.aligned_alloc(24, 100), Errno.EINVAL);
            assertFails(posix, posix.aligned_alloc(0, 100), Errno.EINVAL);
            assertTrue(posix.aligned_alloc(4, 10).isTagged());
            assertEquals(1, posix.heap().check().chunksInUse());
            return 0;
        });
    }

    @Test
    void shouldRefuseEverythingMallocDidNotReturnWithEinval()
    {
        run(posix ->
        {
            final Capability p = posix.malloc(64);
            final Capability other = posix.malloc(64);
            final Capability[] bad = {
                p.add(16),
                p.add(16).setBoundsExact(32),
                p.setBoundsExact(48),
                p.withTagCleared(),
                posix.scratch(),
                posix.area(),
                // Where no block starts: in the top chunk, past both blocks.
                posix.area().withAddress(p.address() + 4096).setBoundsExact(64),
            };
            for (final Capability q : bad)
            {
                posix.setErrno(0);
                assertEquals(-1, posix.freeChecked(q), "free of " + q);
                assertEquals(Errno.EINVAL.code(), posix.errno());
                posix.heap().check();
            }
            posix.memory().storeLong(p, 56, 7);
            assertEquals(2, posix.heap().check().chunksInUse());
            assertEquals(0, posix.freeChecked(p));
            assertEquals(-1, posix.freeChecked(p), "double free");
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(0, posix.freeChecked(other));
            assertEquals(-1, posix.freeChecked(other), "double free after merging with the neighbour");
            assertEquals(0, posix.heap().check().chunksInUse());
            return 0;
        });
    }

    /** A misuse in a child, and what the parent must still see afterwards. */
    private void assertChildAborts(final String what, final Misuse misuse)
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final Capability kept = posix.malloc(200);
            memory.storeLong(kept, 0, 4242);
            final int status = forkAndWait(posix, c -> misuse.run(c, kept));
            assertAborted(status);
            assertEquals(4242, memory.loadLong(kept, 0), what);
            assertEquals(1, posix.heap().check().chunksInUse(), what);
            final Capability more = posix.malloc(200);
            assertTrue(more.isTagged(), what);
            posix.free(more);
            posix.free(kept);
            return 0;
        });
    }

    /** What a child does wrong; {@code parentBlock} is the parent's block at the parent's address. */
    @FunctionalInterface
    private interface Misuse
    {
        int run(Posix child, Capability parentBlock) throws Exception;
    }

    @Test
    void shouldAbortOnDoubleFree()
    {
        assertChildAborts("double free", (c, parentBlock) ->
        {
            final Capability p = c.malloc(32);
            c.free(p);
            c.free(p);
            return 0;
        });
    }

    @Test
    void shouldAbortOnAnInteriorPointer()
    {
        assertChildAborts("interior pointer", (c, parentBlock) ->
        {
            final Capability p = c.malloc(64);
            c.free(p.add(16).setBoundsExact(32));
            return 0;
        });
    }

    @Test
    void shouldAbortOnBoundsThatAreNotTheAllocations()
    {
        assertChildAborts("narrowed bounds", (c, parentBlock) ->
        {
            final Capability p = c.malloc(64);
            c.free(p.setBoundsExact(32));
            return 0;
        });
    }

    @Test
    void shouldAbortOnAnotherProcesssBlock()
    {
        // The parent's capability reaches the child only through Java, at the parent's address.
        assertChildAborts("another µprocess's block", (c, parentBlock) ->
        {
            c.free(parentBlock);
            return 0;
        });
    }

    @Test
    void shouldAbortOnAPointerMallocNeverReturned()
    {
        assertChildAborts("foreign pointer", (c, parentBlock) ->
        {
            c.free(c.scratch());
            return 0;
        });
    }

    @Test
    void shouldAbortOnReallocAndUsableSizeOfABadPointer()
    {
        assertChildAborts("realloc", (c, parentBlock) ->
        {
            final Capability p = c.malloc(64);
            c.free(p);
            c.realloc(p, 100);
            return 0;
        });
        assertChildAborts("malloc_usable_size", (c, parentBlock) ->
        {
            c.malloc_usable_size(c.malloc(64).add(16));
            return 0;
        });
    }

    @Test
    void shouldAbortEvenIfSigabrtIsCaughtOrBlockedAndSkipAtexit()
    {
        final AtomicBoolean handled = new AtomicBoolean();
        final AtomicBoolean atexitRan = new AtomicBoolean();
        assertChildAborts("abort with a handler", (c, parentBlock) ->
        {
            c.atexit(posix -> atexitRan.set(true));
            c.signal(SIGABRT, (posix, signal) -> handled.set(true));
            c.abort();
            return 0;
        });
        assertTrue(handled.get(), "the handler ran first");
        assertFalse(atexitRan.get(), "abort ran an atexit handler");
        assertChildAborts("abort while blocked", (c, parentBlock) ->
        {
            c.sigprocmask(Posix.SIG_BLOCK, 1L << SIGABRT);
            final Capability p = c.malloc(16);
            c.free(p);
            c.free(p);
            return 0;
        });
    }
}
