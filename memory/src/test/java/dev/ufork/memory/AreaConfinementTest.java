package dev.ufork.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Areas confined to one thread: the owner's stores skip the page locks but keep every tag rule; other threads can
 * still read data but cannot store or load capabilities there, and get a {@link WrongThreadException} without
 * changing anything.
 */
class AreaConfinementTest
{
    private static final long CHUNK = AreaOwnership.CHUNK_SIZE;

    private AddressSpace space;
    private TaggedMemory memory;
    private Area area;

    @BeforeEach
    void setUp()
    {
        space = AddressSpace.reserve(64L << 20);
        memory = space.memory();
        area = space.allocate(4 * CHUNK, CHUNK, AreaInit.ZEROED);
        area.confineTo(Thread.currentThread());
    }

    @AfterEach
    void tearDown()
    {
        space.close();
    }

    /** Runs {@code action} on another thread and returns what it threw, or null. */
    private static Throwable onOtherThread(final Runnable action) throws InterruptedException
    {
        final CompletableFuture<Throwable> result = new CompletableFuture<>();
        final Thread thread = new Thread(() ->
        {
            try
            {
                action.run();
                result.complete(null);
            }
            catch (final Throwable t)
            {
                result.complete(t);
            }
        });
        thread.start();
        thread.join(TimeUnit.SECONDS.toMillis(60));
        try
        {
            return result.get(1, TimeUnit.SECONDS);
        }
        catch (final ExecutionException | java.util.concurrent.TimeoutException e)
        {
            throw new AssertionError(e);
        }
    }

    @Test
    void shouldApplyTagRulesToTheOwnersUnlockedStores()
    {
        final long granule = area.base() + 4096;
        memory.storeCapability(granule, 0x1234, 0x5678, true);
        assertTrue(memory.isTagged(granule));
        memory.storeInt(granule + 12, 7);
        assertFalse(memory.isTagged(granule), "a data store by the owner clears the tag");
        memory.storeCapability(granule, 0x1234, 0x5678, true);
        memory.copy(granule, granule + 64, 16, true);
        assertTrue(memory.isTagged(granule + 64), "a tag-preserving copy by the owner moves the tag");
        final CapabilityBits bits = new CapabilityBits();
        memory.loadCapability(granule + 64, bits);
        assertEquals(0x1234, bits.addressWord());
        assertEquals(0x5678, bits.metadataWord());
        assertTrue(bits.tag());
        memory.fill(granule + 60, 8, (byte)1);
        assertFalse(memory.isTagged(granule + 64), "fill clears the overlapped tag");
        assertEquals(Thread.currentThread().threadId(), area.ownerThreadId());
    }

    @Test
    void shouldRefuseStoresAndCapabilityLoadsFromAnotherThreadAndChangeNothing() throws InterruptedException
    {
        final long granule = area.base() + 8192;
        memory.storeCapability(granule, 0xAA, 0xBB, true);
        final byte[] before = new byte[64];
        memory.loadBytes(granule, before, 0, 64);

        for (final Runnable attempt : attempts(granule))
        {
            assertInstanceOf(WrongThreadException.class, onOtherThread(attempt));
        }
        final byte[] after = new byte[64];
        memory.loadBytes(granule, after, 0, 64);
        assertArrayEquals(before, after, "refused accesses changed bytes");
        assertTrue(memory.isTagged(granule), "refused accesses changed the tag");
    }

    private List<Runnable> attempts(final long granule)
    {
        return List.of(
            () -> memory.storeLong(granule, 1),
            () -> memory.storeByte(granule + 3, (byte)1),
            () -> memory.storeBytes(granule, new byte[8], 0, 8),
            () -> memory.fill(granule, 32, (byte)0),
            () -> memory.storeCapability(granule, 1, 2, true),
            () -> memory.loadCapability(granule, new CapabilityBits()),
            () -> memory.beginCapabilityLoad(granule),
            () -> memory.copy(granule + 512, granule, 16, true),
            () -> memory.copy(granule, granule - area.base() + CHUNK * 8, 16, true));
    }

    @Test
    void shouldLetOtherThreadsReadDataAndCopyBytesOut() throws InterruptedException
    {
        final long at = area.base() + 100;
        memory.storeLong(at, 0x0102030405060708L);
        final Area other = space.allocate(CHUNK);
        final Throwable thrown = onOtherThread(() ->
        {
            assertEquals(0x0102030405060708L, memory.loadLong(at));
            memory.copy(at, other.base(), 8, false);
            assertEquals(0x0102030405060708L, memory.loadLong(other.base()));
        });
        assertEquals(null, thrown);
    }

    @Test
    void shouldMakeTheAreaUsableByAllAfterShareAndAfterFree() throws InterruptedException
    {
        area.share();
        assertEquals(0, area.ownerThreadId());
        assertEquals(null, onOtherThread(() -> memory.storeLong(area.base(), 5)));
        area.confineTo(Thread.currentThread());
        space.free(area);
        final Area again = space.allocate(4 * CHUNK, CHUNK, AreaInit.ZEROED);
        assertEquals(0, again.ownerThreadId(), "a freed area's confinement must not pass to its next owner");
        assertEquals(null, onOtherThread(() -> memory.storeLong(again.base(), 5)));
    }

    @Test
    void shouldRefuseToConfineAreasNotAlignedToTheOwnershipChunk()
    {
        final Area small = space.allocate(Geometry.PAGE_SIZE * 3);
        assertThrows(IllegalStateException.class, () -> small.confineTo(Thread.currentThread()));
        space.free(small);
        assertThrows(IllegalStateException.class, () -> small.confineTo(Thread.currentThread()));
    }

    /**
     * Areas large enough to be recorded in the 16 MiB and 4 GiB levels, with ends that are not aligned to them (so
     * every level holds part of the area): the owner's stores work everywhere, another thread's are refused at each
     * end and across every level boundary, {@code share}, confining to another thread and {@code free} clear every
     * level and the chunk words the owner's stores filled, and the small areas later carved out of the same range
     * start shared, without their neighbours' old owner.
     */
    @Test
    void shouldConfineAndReleaseAreasRecordedInTheCoarseLevels() throws InterruptedException
    {
        space.close();
        space = AddressSpace.reserve(16L << 30);
        memory = space.memory();
        final long block = 1L << AreaOwnership.BLOCK_SHIFT;
        final long superBlock = 1L << AreaOwnership.SUPER_SHIFT;
        // From the 64 KiB guard on: chunks up to 16 MiB, blocks up to 4 GiB, one 4 GiB block, blocks, then chunks.
        final Area big = space.allocate(2 * superBlock - space.config().guardBytes() + block + 3 * CHUNK, CHUNK,
            AreaInit.UNINITIALIZED);
        assertEquals(space.config().guardBytes(), big.base(), "the first area starts after the guard");
        big.confineTo(Thread.currentThread());
        final long me = Thread.currentThread().threadId();
        final long[] probes = {big.base(), block - 8, block, superBlock - 8, superBlock, 2 * superBlock - 8,
            2 * superBlock, 2 * superBlock + block - 8, 2 * superBlock + block, big.top() - 8};
        for (final long at : probes)
        {
            final String where = "0x" + Long.toHexString(at);
            assertEquals(me, space.ownership().ownerOf(at), where);
            memory.storeLong(at, at);
            assertEquals(at, memory.loadLong(at), where);
            assertInstanceOf(WrongThreadException.class, onOtherThread(() -> memory.storeLong(at, 1)), where);
            assertInstanceOf(WrongThreadException.class,
                onOtherThread(() -> memory.loadCapability(at & -Geometry.GRANULE_SIZE, new CapabilityBits())), where);
        }
        assertEquals(0, space.ownership().ownerOf(big.top()), "the first chunk after the area");
        big.share();
        for (final long at : probes)
        {
            assertEquals(0, space.ownership().ownerOf(at), "shared: 0x" + Long.toHexString(at));
            assertEquals(null, onOtherThread(() -> memory.storeLong(at, 2)), "shared: 0x" + Long.toHexString(at));
        }
        // Confined to another thread straight away: the chunk words the first owner's stores filled must go too.
        final Thread other = new Thread(() ->
        {
        });
        big.confineTo(other);
        for (final long at : probes)
        {
            assertEquals(other.threadId(), space.ownership().ownerOf(at), "re-confined: 0x" + Long.toHexString(at));
            assertThrows(WrongThreadException.class, () -> memory.storeLong(at, 4),
                "the first owner after re-confining: 0x" + Long.toHexString(at));
        }
        big.confineTo(Thread.currentThread());
        for (final long at : probes)
        {
            memory.storeLong(at, 5);
        }
        space.free(big);
        final Area small = space.allocate(4 * CHUNK, CHUNK, AreaInit.ZEROED);
        final Area inBlock = space.allocate(block, block, AreaInit.ZEROED);
        assertEquals(0, small.ownerThreadId(), "a small area carved from the freed range");
        assertEquals(0, inBlock.ownerThreadId(), "a block-sized area carved from the freed range");
        small.confineTo(Thread.currentThread());
        assertEquals(me, space.ownership().ownerOf(small.top() - 8));
        assertEquals(0, space.ownership().ownerOf(small.top()), "the neighbour of a small area stays shared");
        assertEquals(0, inBlock.ownerThreadId(), "the other area stays shared");
        assertEquals(null, onOtherThread(() -> memory.storeLong(inBlock.base(), 3)));
    }
}
