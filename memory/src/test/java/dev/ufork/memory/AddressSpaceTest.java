package dev.ufork.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AddressSpace} and its {@link AreaAllocator}: reservation and closing, placement and alignment of areas,
 * coalescing, error cases that must change nothing, zeroing, tag clearing on free, warm reuse, giving memory back to
 * the OS, and accounting.
 */
class AddressSpaceTest
{
    private static final long MIB = 1L << 20;

    private final List<AddressSpace> spaces = new ArrayList<>();

    private AddressSpace reserve(final AddressSpaceConfig config)
    {
        final AddressSpace space = AddressSpace.reserve(config);
        spaces.add(space);
        return space;
    }

    private AddressSpace reserve(final long size)
    {
        return reserve(AddressSpaceConfig.ofSize(size));
    }

    @AfterEach
    void closeSpaces()
    {
        spaces.forEach(AddressSpace::close);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reservation and close.

    @Test
    void shouldReserveRequestedSizeWhenReserved()
    {
        final AddressSpace space = reserve(16 * MIB);
        assertEquals(16 * MIB, space.size());
        assertEquals(16 * MIB, space.memory().size());
        assertEquals(16 * MIB, space.memory().tags().spaceSize());
        assertEquals(16 * MIB, space.usage().reservedBytes());
        assertEquals(0, space.usage().usedBytes());
        assertEquals(0, space.liveAreas());
        assertFalse(space.isClosed());
        final AddressSpace rounded = reserve(AddressSpaceConfig.ofSize(16 * MIB + 1));
        assertEquals(16 * MIB + PAGE_SIZE, rounded.size(), "size rounds up to whole pages");
    }

    @Test
    void shouldReserveWhenSpaceHasFewerThanEightPages()
    {
        // A valid configuration: two pages, a one-page guard. The page summary (one bit per page) needs a byte,
        // but TagBitmap.summaryBytesFor rounds 2 pages / 8 down to 0 bytes and the reservation of 0 bytes fails.
        final AddressSpaceConfig config = new AddressSpaceConfig(2 * PAGE_SIZE, PAGE_SIZE, 0, 16);
        final AddressSpace space = assertDoesNotThrow(() -> reserve(config),
            "reserving a valid two-page space");
        final Area area = space.allocate(PAGE_SIZE);
        assertEquals(PAGE_SIZE, area.base());
        final long last = area.top() - GRANULE_SIZE;
        space.memory().storeCapability(last, 1, 2, true);
        assertTrue(space.memory().isTagged(last));
        assertTrue(space.memory().tags().pageMayHoldTags(1));
    }

    @Test
    void shouldTrackTagsInLastPageWhenPageCountIsNotAMultipleOfEight()
    {
        // The page summary has one bit per page. Whenever the page count is 1..7 above a multiple of 8, the last
        // page's bit lies in a byte that floor(pages / 8) does not count; when that floor is a whole number of
        // pages of summary (pages = 32768 k + r), rounding up to a page does not save it either.
        final long[] pageCounts = {2, 3, 7, 9, 4097, 32_768 + 1, 32_768 + 7, 65_536 + 3};
        for (final long pages : pageCounts)
        {
            final AddressSpaceConfig config = new AddressSpaceConfig(pages * PAGE_SIZE, PAGE_SIZE, 0, 16);
            try (AddressSpace space = AddressSpace.reserve(config))
            {
                final TaggedMemory memory = space.memory();
                final long last = space.size() - GRANULE_SIZE;
                final String what = "space of " + pages + " pages";
                assertDoesNotThrow(() -> memory.storeCapability(last, 1, 2, true),
                    "capability store into the last granule of a " + what);
                assertTrue(memory.isTagged(last), what);
                assertTrue(memory.tags().pageMayHoldTags(pages - 1), what);
                assertEquals(last, memory.tags().nextTagged(space.size() - PAGE_SIZE, space.size()), what);
                assertEquals(1, memory.tags().countTags(0, space.size()), what);
                memory.storeByte(last + 3, (byte)1);
                assertFalse(memory.isTagged(last), what);
                final Area area = space.allocate(space.size() - PAGE_SIZE);
                assertEquals(space.size(), area.top(), what);
                memory.storeCapability(last, 1, 2, true);
                space.free(area);
                assertEquals(0, memory.tags().countTags(0, space.size()), "freeing clears the last page, " + what);
            }
        }
    }

    @Test
    void shouldBeIdempotentWhenClosedTwice()
    {
        final AddressSpace space = reserve(16 * MIB);
        space.close();
        assertTrue(space.isClosed());
        assertDoesNotThrow(space::close);
        assertTrue(space.isClosed());
    }

    @Test
    void shouldThrowIllegalStateWhenAccessedAfterClose()
    {
        final AddressSpace space = reserve(16 * MIB);
        final Area area = space.allocate(64 * PAGE_SIZE);
        final TaggedMemory memory = space.memory();
        space.close();

        // Each access on its own page, so that no access can be blocked by another's page lock.
        final long b = area.base();
        final CapabilityBits bits = new CapabilityBits();
        final List<Executable> accesses = List.of(
            () -> space.allocate(PAGE_SIZE),
            () -> space.free(area),
            space::usage,
            space::trim,
            area::usage,
            () -> memory.loadByte(b),
            () -> memory.loadLong(b + PAGE_SIZE),
            () -> memory.loadBytes(b + 2 * PAGE_SIZE, new byte[8], 0, 8),
            () -> memory.loadCapability(b + 3 * PAGE_SIZE, bits),
            () -> memory.isTagged(b + 4 * PAGE_SIZE),
            () -> memory.storeByte(b + 5 * PAGE_SIZE, (byte)1),
            () -> memory.storeLong(b + 6 * PAGE_SIZE + 12, 1L),
            () -> memory.storeBytes(b + 7 * PAGE_SIZE, new byte[8], 0, 8),
            () -> memory.fill(b + 8 * PAGE_SIZE, 64, (byte)1),
            () -> memory.storeCapability(b + 9 * PAGE_SIZE, 1, 2, true),
            () -> memory.copy(b + 10 * PAGE_SIZE, b + 11 * PAGE_SIZE, 64, true),
            () -> memory.tags().nextTagged(b, area.top()));
        for (int i = 0; i < accesses.size(); i++)
        {
            assertThrows(IllegalStateException.class, accesses.get(i), "access #" + i + " after close");
        }
        assertEquals(1, space.liveAreas(), "the allocator's counters stay readable");
    }

    @Test
    void shouldReleasePageLockWhenStoreFailsBecauseSpaceIsClosed()
    {
        final AddressSpace space = reserve(16 * MIB);
        final TaggedMemory memory = space.memory();
        final PageLocks locks = memory.locks();
        final long address = space.allocate(PAGE_SIZE).base() + 40;
        final long page = address / PAGE_SIZE;
        final long stamp = locks.readStamp(page);
        space.close();

        assertThrows(IllegalStateException.class, () -> memory.storeLong(address, 1L));
        // The stripe word is odd exactly while a writer holds it (PageLocks): stamp + 1 means the failed store
        // kept the lock, and the next store (or capability load) on any page of that stripe spins forever instead
        // of throwing IllegalStateException. Checked without blocking so the test cannot hang.
        assertFalse(locks.validate(page, stamp + 1),
            "storeLong after close threw but left the write lock of stripe " + locks.stripeOf(page) + " held");
        assertThrows(IllegalStateException.class, () -> memory.storeByte(address, (byte)1));
        assertFalse(locks.validate(page, stamp + 1) || locks.validate(page, stamp + 3),
            "storeByte after close threw but left the write lock of stripe " + locks.stripeOf(page) + " held");
    }

    @Test
    void shouldRejectInvalidConfigurationsWhenBuilt()
    {
        assertThrows(IllegalArgumentException.class, () -> AddressSpaceConfig.ofSize(0));
        assertThrows(IllegalArgumentException.class, () -> AddressSpaceConfig.ofSize(-PAGE_SIZE));
        assertThrows(IllegalArgumentException.class, () -> AddressSpaceConfig.ofSize((1L << 46) + 1));
        assertThrows(IllegalArgumentException.class, () -> AddressSpaceConfig.ofSize(16 * MIB).withGuard(0));
        assertThrows(IllegalArgumentException.class,
            () -> AddressSpaceConfig.ofSize(16 * MIB).withGuard(PAGE_SIZE - 1));
        assertThrows(IllegalArgumentException.class, () -> AddressSpaceConfig.ofSize(16 * MIB).withGuard(16 * MIB));
        assertThrows(IllegalArgumentException.class, () -> AddressSpaceConfig.ofSize(16 * MIB).withWarmRetain(-1));
        assertThrows(IllegalArgumentException.class, () -> AddressSpaceConfig.ofSize(16 * MIB).withLockStripes(0));
        assertThrows(IllegalArgumentException.class, () -> AddressSpaceConfig.ofSize(16 * MIB).withLockStripes(12));
        final AddressSpaceConfig config = AddressSpaceConfig.ofSize(16 * MIB + 5).withGuard(PAGE_SIZE + 1);
        assertEquals(16 * MIB + PAGE_SIZE, config.sizeBytes());
        assertEquals(2 * PAGE_SIZE, config.guardBytes());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Placement.

    @Test
    void shouldPlacePageAlignedDisjointAreasAboveGuardWhenAllocatingAndFreeingRandomly()
    {
        final long seed = Seeds.seed(0xA11_0CA7EL);
        final SplittableRandom rnd = Seeds.random(seed);
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(64 * MIB).withWarmRetain(4 * MIB));
        final List<Area> live = new ArrayList<>();
        final long[] alignments = {1, 16, PAGE_SIZE, 2 * PAGE_SIZE, 64 << 10, MIB, 2 * MIB};
        for (int op = 0; op < 3_000; op++)
        {
            final String where = Seeds.replay(seed) + ", op " + op;
            if (live.isEmpty() || rnd.nextInt(3) != 0)
            {
                final long size = 1 + rnd.nextLong(rnd.nextInt(8) == 0 ? 3 * MIB : 96 << 10);
                final long alignment = alignments[rnd.nextInt(alignments.length)];
                final AreaInit init = rnd.nextBoolean() ? AreaInit.ZEROED : AreaInit.UNINITIALIZED;
                final Area area;
                try
                {
                    area = space.allocate(size, alignment, init);
                }
                catch (final AddressSpaceExhaustedException e)
                {
                    // Possible when the space is full: free something and go on.
                    space.free(live.remove(rnd.nextInt(live.size())));
                    continue;
                }
                assertEquals(Geometry.alignUp(size, PAGE_SIZE), area.size(), "size rounds up to pages, " + where);
                assertEquals(0, area.base() % Math.max(alignment, PAGE_SIZE), "alignment " + alignment + ", " + where);
                assertTrue(area.base() >= space.config().guardBytes(), "base above guard: " + area + ", " + where);
                assertTrue(area.top() <= space.size(), "top inside space: " + area + ", " + where);
                assertFalse(area.contains(0), "address 0 in " + area + ", " + where);
                assertTrue(area.isLive() && area.space() == space, where);
                live.add(area);
            }
            else
            {
                final Area area = live.remove(rnd.nextInt(live.size()));
                space.free(area);
                assertFalse(area.isLive(), where);
            }
            if (op % 50 == 0)
            {
                assertDisjoint(live, where);
                assertAccounting(space, live, where);
            }
        }
        assertDisjoint(live, Seeds.replay(seed));
        assertAccounting(space, live, Seeds.replay(seed));
    }

    @Test
    void shouldHonourLargeAlignmentsWhenRequested()
    {
        final AddressSpace space = reserve(64 * MIB);
        for (final long alignment : new long[] {MIB, 2 * MIB, 8 * MIB, 32 * MIB})
        {
            final Area small = space.allocate(PAGE_SIZE);
            final Area aligned = space.allocate(3 * PAGE_SIZE, alignment, AreaInit.ZEROED);
            assertEquals(0, aligned.base() % alignment, aligned + " aligned to " + alignment);
            assertTrue(aligned.base() > 0);
            space.free(small);
            space.free(aligned);
        }
        final Area odd = space.allocate(1, 1, AreaInit.ZEROED);
        assertEquals(PAGE_SIZE, odd.size());
        assertEquals(0, odd.base() % PAGE_SIZE);
    }

    @Test
    void shouldAllocateManyAreasWhenSpaceHasRoom()
    {
        final AddressSpace space = reserve(64 * MIB);
        final int count = 12_000;
        final List<Area> areas = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            areas.add(space.allocate(PAGE_SIZE));
        }
        assertEquals(count, space.liveAreas());
        assertEquals(count * PAGE_SIZE, space.usage().usedBytes());
        assertDisjoint(areas, "many areas");
        for (final Area area : areas)
        {
            space.free(area);
        }
        assertEquals(0, space.liveAreas());
        assertEquals(0, space.usage().usedBytes());
    }

    @Test
    void shouldAllocateWholeSpaceAgainWhenManySmallAreasAreFreedInRandomOrder()
    {
        final long seed = Seeds.seed(77L);
        for (final long retain : new long[] {0, AddressSpaceConfig.defaults().warmRetainBytes()})
        {
            final AddressSpace space = reserve(AddressSpaceConfig.ofSize(16 * MIB).withWarmRetain(retain));
            final long usable = space.size() - space.config().guardBytes();
            final List<Area> areas = new ArrayList<>();
            for (long used = 0; used < usable; used += PAGE_SIZE)
            {
                areas.add(space.allocate(PAGE_SIZE));
            }
            assertThrows(AddressSpaceExhaustedException.class, () -> space.allocate(PAGE_SIZE), "space is full");
            shuffle(areas, Seeds.random(seed));
            for (final Area area : areas)
            {
                space.free(area);
            }
            final Area whole = space.allocate(usable);
            assertEquals(space.config().guardBytes(), whole.base(),
                "freed extents coalesce back into one, retain " + retain + ", " + Seeds.replay(seed));
            assertEquals(usable, whole.size());
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Errors change nothing.

    @Test
    void shouldThrowInvalidAreaAndChangeNothingWhenFreedTwice()
    {
        final AddressSpace space = reserve(16 * MIB);
        final Area kept = space.allocate(3 * PAGE_SIZE);
        final Area area = space.allocate(5 * PAGE_SIZE);
        space.free(area);
        final long warm = space.warmBytes();
        final MemoryUsage usage = space.usage();

        assertThrows(InvalidAreaException.class, () -> space.free(area));
        assertEquals(1, space.liveAreas());
        assertEquals(usage.usedBytes(), space.usage().usedBytes());
        assertEquals(3 * PAGE_SIZE, space.usage().usedBytes());
        assertEquals(warm, space.warmBytes(), "a double free must not put the area in the warm cache twice");
        assertTrue(kept.isLive());
        // The area is handed out once only afterwards.
        final Area again = space.allocate(5 * PAGE_SIZE);
        final Area other = space.allocate(5 * PAGE_SIZE);
        assertNotEquals(again.base(), other.base());
    }

    @Test
    void shouldThrowInvalidAreaAndChangeNothingWhenAreaBelongsToAnotherSpace()
    {
        final AddressSpace space = reserve(16 * MIB);
        final AddressSpace other = reserve(16 * MIB);
        final Area mine = space.allocate(2 * PAGE_SIZE);
        final Area foreign = other.allocate(2 * PAGE_SIZE);
        assertEquals(mine.base(), foreign.base(), "both spaces place their first area the same way");
        space.memory().storeCapability(mine.base(), 1, 2, true);

        assertThrows(InvalidAreaException.class, () -> space.free(foreign));
        assertEquals(1, space.liveAreas());
        assertEquals(2 * PAGE_SIZE, space.usage().usedBytes());
        assertEquals(0, space.warmBytes());
        assertTrue(mine.isLive());
        assertTrue(foreign.isLive(), "the foreign area is still live in its own space");
        assertTrue(space.memory().isTagged(mine.base()), "the same-address area of this space keeps its tags");
        other.free(foreign);
        assertEquals(0, other.liveAreas());
    }

    @Test
    void shouldRejectBadSizesAndAlignmentsWithoutChangingAnything()
    {
        final AddressSpace space = reserve(16 * MIB);
        final Area kept = space.allocate(PAGE_SIZE);
        for (final long size : new long[] {0, -1, -PAGE_SIZE, space.size() + 1, Long.MAX_VALUE, Long.MIN_VALUE})
        {
            assertThrows(IllegalArgumentException.class, () -> space.allocate(size), "size " + size);
            assertThrows(IllegalArgumentException.class, () -> space.allocate(size, PAGE_SIZE, AreaInit.ZEROED),
                "size " + size);
        }
        for (final long alignment : new long[] {0, -1, -PAGE_SIZE, 3, PAGE_SIZE + 1, 3 * PAGE_SIZE, Long.MIN_VALUE})
        {
            assertThrows(IllegalArgumentException.class, () -> space.allocate(PAGE_SIZE, alignment, AreaInit.ZEROED),
                "alignment " + alignment);
        }
        assertThrows(NullPointerException.class, () -> space.allocate(PAGE_SIZE, PAGE_SIZE, null));
        assertEquals(1, space.liveAreas());
        assertEquals(PAGE_SIZE, space.usage().usedBytes());
        assertEquals(kept.top(), space.allocate(PAGE_SIZE).base(), "no space was consumed by the rejected calls");
    }

    @Test
    void shouldThrowExhaustedAndChangeNothingWhenNoRangeIsLargeEnough()
    {
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(16 * MIB).withWarmRetain(0));
        final long usable = space.size() - space.config().guardBytes();
        final Area a = space.allocate(usable / 2);
        final Area b = space.allocate(usable - usable / 2);
        final MemoryUsage before = space.usage();

        assertThrows(AddressSpaceExhaustedException.class, () -> space.allocate(PAGE_SIZE));
        assertThrows(AddressSpaceExhaustedException.class, () -> space.allocate(space.size()));
        assertEquals(2, space.liveAreas());
        assertEquals(before.usedBytes(), space.usage().usedBytes());
        assertTrue(a.isLive() && b.isLive());

        space.free(a);
        final Area c = space.allocate(PAGE_SIZE);
        assertEquals(a.base(), c.base(), "the freed range is used again");
        assertThrows(AddressSpaceExhaustedException.class, () -> space.allocate(usable / 2),
            "one page of the freed half is taken");
        final Area d = space.allocate(usable / 2 - PAGE_SIZE);
        assertEquals(c.top(), d.base());
        // Alignment can exhaust a space too: no 32 MiB-aligned base exists above the guard in 16 MiB.
        space.free(c);
        assertThrows(AddressSpaceExhaustedException.class, () -> space.allocate(PAGE_SIZE, 32 * MIB,
            AreaInit.ZEROED));
        assertEquals(2, space.liveAreas());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Contents of new and freed areas.

    @Test
    void shouldReadZeroWhenZeroedAreaIsRecycledFromDirtyWarmArea()
    {
        final AddressSpace space = reserve(16 * MIB);
        final TaggedMemory memory = space.memory();
        final long size = 16 * PAGE_SIZE;
        final Area dirty = space.allocate(size, PAGE_SIZE, AreaInit.UNINITIALIZED);
        memory.fill(dirty.base(), size, (byte)0xAB);
        for (long at = dirty.base(); at < dirty.top(); at += 7 * GRANULE_SIZE)
        {
            memory.storeCapability(at, -1L, -1L, true);
        }
        space.free(dirty);
        assertEquals(size, space.warmBytes(), "the freed area is kept warm");

        final Area recycled = space.allocate(size, PAGE_SIZE, AreaInit.ZEROED);
        assertEquals(dirty.base(), recycled.base(), "the warm area is reused");
        final byte[] bytes = new byte[(int)size];
        memory.loadBytes(recycled.base(), bytes, 0, bytes.length);
        assertArrayEquals(new byte[(int)size], bytes, "a ZEROED area reads zero");
        assertEquals(0, memory.tags().countTags(recycled.base(), size), "a new area has no tags");
    }

    @Test
    void shouldHaveNoTagsWhenUninitializedAreaIsRecycled()
    {
        final AddressSpace space = reserve(16 * MIB);
        final TaggedMemory memory = space.memory();
        final Area first = space.allocate(4 * PAGE_SIZE);
        for (long at = first.base(); at < first.top(); at += GRANULE_SIZE)
        {
            memory.storeCapability(at, at, ~at, true);
        }
        space.free(first);
        final Area second = space.allocate(4 * PAGE_SIZE, PAGE_SIZE, AreaInit.UNINITIALIZED);
        assertEquals(first.base(), second.base());
        assertEquals(0, memory.tags().countTags(second.base(), second.size()));
    }

    @Test
    void shouldLeaveNoTagsWhenAreaIsFreed()
    {
        for (final long retain : new long[] {0, 64 * MIB})
        {
            final AddressSpace space = reserve(AddressSpaceConfig.ofSize(64 * MIB).withWarmRetain(retain));
            final TaggedMemory memory = space.memory();
            // Spans several summary words (64 pages each), tags in some pages only.
            final Area area = space.allocate(200 * PAGE_SIZE);
            final Area neighbour = space.allocate(PAGE_SIZE);
            memory.storeCapability(neighbour.base(), 5, 6, true);
            for (long page = 0; page < 200; page += 3)
            {
                memory.storeCapability(area.base() + page * PAGE_SIZE + 16 * (page % 256), page, ~page, true);
            }
            memory.storeCapability(area.top() - GRANULE_SIZE, 7, 8, true);
            assertEquals(68, memory.tags().countTags(area.base(), area.size()));

            space.free(area);
            assertEquals(0, memory.tags().countTags(area.base(), area.size()), "retain " + retain);
            assertEquals(-1, memory.tags().nextTagged(area.base(), area.top()), "retain " + retain);
            for (long page = area.base() / PAGE_SIZE; page < area.top() / PAGE_SIZE; page++)
            {
                assertFalse(memory.tags().pageMayHoldTags(page), "summary bit of freed page " + page);
            }
            assertTrue(memory.isTagged(neighbour.base()), "the neighbouring area keeps its tag");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Warm reuse and giving memory back.

    @Test
    void shouldReuseSameBaseWhenFreedAreaIsWithinRetainLimit()
    {
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(64 * MIB).withWarmRetain(MIB));
        final Area a = space.allocate(256 << 10);
        space.allocate(PAGE_SIZE);
        space.free(a);
        assertEquals(256 << 10, space.warmBytes());
        final Area b = space.allocate(256 << 10);
        assertEquals(a.base(), b.base(), "same size: the warm area comes back");
        assertEquals(0, space.warmBytes());

        // Larger than the retain limit: not kept warm.
        final Area big = space.allocate(2 * MIB);
        space.free(big);
        assertEquals(0, space.warmBytes(), "an area above the retain limit is released at once");

        // Three 512 KiB areas with a 1 MiB limit: the oldest is released, the two newest stay warm.
        final Area x = space.allocate(512 << 10);
        final Area y = space.allocate(512 << 10);
        final Area z = space.allocate(512 << 10);
        space.memory().fill(x.base(), x.size(), (byte)1);
        space.memory().fill(y.base(), y.size(), (byte)1);
        space.memory().fill(z.base(), z.size(), (byte)1);
        space.free(x);
        space.free(y);
        space.free(z);
        assertEquals(MIB, space.warmBytes());
        assertEquals(0, space.residentBytes(x.base(), x.size()), "the oldest warm area was given back");
        assertEquals(z.base(), space.allocate(512 << 10).base(), "most recently freed first");
        assertEquals(y.base(), space.allocate(512 << 10).base());
    }

    /**
     * An area whose size is above the retention limit but that holds only a few resident pages stays warm,
     * counting those pages, and the next area of its size gets it back; one with more resident bytes than the limit
     * is given back at once.
     */
    @Test
    void shouldKeepAHardlyTouchedAreaAboveTheLimitWarmCountingItsResidentBytes()
    {
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(64 * MIB).withWarmRetain(MIB));
        final long size = 8 * MIB;
        final Area sparse = space.allocate(size, size, AreaInit.UNINITIALIZED);
        space.memory().storeLong(sparse.base(), 1);
        space.memory().storeLong(sparse.base() + 5 * MIB, 2);
        space.free(sparse);
        assertEquals(2 * PAGE_SIZE, space.warmBytes(), "two resident pages count, not 8 MiB");
        assertEquals(2 * PAGE_SIZE, space.residentBytes(sparse.base(), size), "and stay resident");
        final Area again = space.allocate(size, size, AreaInit.UNINITIALIZED);
        assertEquals(sparse.base(), again.base(), "the warm area comes back");
        assertEquals(0, space.warmBytes());

        space.memory().fill(again.base(), 2 * MIB, (byte)1);
        space.free(again);
        assertEquals(0, space.warmBytes(), "2 MiB resident is above the 1 MiB limit");
        assertEquals(0, space.residentBytes(again.base(), size), "so it was given back");
    }

    /**
     * Freed with a bound on what its owner wrote, an area counts that bound plus what was resident when it was
     * allocated, without being measured; a bound above the limit makes the space measure it after all.
     */
    @Test
    void shouldCountTheOwnersBoundOnWrittenBytesWithoutMeasuring()
    {
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(64 * MIB).withWarmRetain(MIB));
        final long size = 8 * MIB;
        final Area area = space.allocate(size, size, AreaInit.UNINITIALIZED);
        space.memory().storeLong(area.base(), 1);
        space.memory().storeLong(area.base() + MIB, 1);
        space.free(area, 3 * PAGE_SIZE);
        assertEquals(3 * PAGE_SIZE, space.warmBytes(), "the owner's bound, not the two resident pages measured");
        final Area again = space.allocate(size, size, AreaInit.UNINITIALIZED);
        assertEquals(area.base(), again.base());
        space.free(again, 0);
        assertEquals(3 * PAGE_SIZE, space.warmBytes(), "what was resident at allocation still counts");
        final Area third = space.allocate(size, size, AreaInit.UNINITIALIZED);
        space.free(third, 4 * MIB);
        assertEquals(2 * PAGE_SIZE, space.warmBytes(), "a bound above the limit is replaced by the measure");
        assertThrows(IllegalArgumentException.class, () -> space.free(space.allocate(size), -1));
    }

    /**
     * A zeroed area taken from the warm cache reads zero, and zeroing it made resident only the pages that already
     * were: the others read zero anyway.
     */
    @Test
    void shouldZeroOnlyTheResidentPagesOfARecycledArea()
    {
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(64 * MIB).withWarmRetain(8 * MIB));
        final long size = MIB;
        final Area dirty = space.allocate(size, size, AreaInit.UNINITIALIZED);
        final long[] pages = {0, 3, 4, 100, 255};
        for (final long page : pages)
        {
            space.memory().fill(dirty.base() + page * PAGE_SIZE, PAGE_SIZE, (byte)0x5A);
        }
        space.free(dirty);
        final Area recycled = space.allocate(size, size, AreaInit.ZEROED);
        assertEquals(dirty.base(), recycled.base(), "the warm area is reused");
        final BitSet expected = new BitSet();
        for (final long page : pages)
        {
            expected.set((int)page);
        }
        assertEquals(expected, space.residentPages(recycled.base(), size), "no page became resident");
        final byte[] bytes = new byte[(int)size];
        space.memory().loadBytes(recycled.base(), bytes, 0, bytes.length);
        assertArrayEquals(new byte[(int)size], bytes, "a ZEROED area reads zero");
    }

    @Test
    void shouldGiveMemoryBackWhenAreaIsFreedWithoutWarmRetention()
    {
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(64 * MIB).withWarmRetain(0));
        final long size = 4 * MIB;
        final Area area = space.allocate(size);
        assertTrue(area.usage().committedBytes() < size / 2, "a new area is not committed yet");
        touchEveryPage(space, area);
        assertEquals(size, area.usage().reservedBytes());
        assertTrue(area.usage().committedBytes() >= size * 9 / 10,
            "after touching every page the area is resident: " + area.usage());
        final long committedBefore = space.usage().committedBytes();

        space.free(area);
        assertEquals(0, space.residentBytes(area.base(), size), "freed pages are given back to the OS");
        assertEquals(0, area.usage().committedBytes());
        final long committedAfter = space.usage().committedBytes();
        assertTrue(committedAfter <= committedBefore - size * 9 / 10,
            "space committed bytes fall from " + committedBefore + " to " + committedAfter);
    }

    @Test
    void shouldKeepMemoryWarmUntilTrimmedWhenRetainLimitAllows()
    {
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(64 * MIB).withWarmRetain(8 * MIB));
        final long size = 2 * MIB;
        final Area area = space.allocate(size);
        touchEveryPage(space, area);
        space.free(area);
        assertEquals(size, space.warmBytes());
        assertTrue(space.residentBytes(area.base(), size) >= size * 9 / 10, "warm memory stays resident");
        space.trim();
        assertEquals(0, space.warmBytes());
        assertEquals(0, space.residentBytes(area.base(), size), "trim gives warm memory back");
    }

    private static void touchEveryPage(final AddressSpace space, final Area area)
    {
        for (long at = area.base(); at < area.top(); at += PAGE_SIZE)
        {
            space.memory().storeLong(at + 8, at);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Accounting.

    @Test
    void shouldReportUsedBytesOfAreaWhenValid()
    {
        final AddressSpace space = reserve(16 * MIB);
        final Area area = space.allocate(10 * PAGE_SIZE);
        assertEquals(0, area.usage().usedBytes());
        area.reportUsed(12_345);
        assertEquals(12_345, area.usage().usedBytes());
        assertEquals(10 * PAGE_SIZE, area.usage().reservedBytes());
        area.reportUsed(area.size());
        assertEquals(area.size(), area.usage().usedBytes());
        area.reportUsed(0);
        assertEquals(0, area.usage().usedBytes());
        area.reportUsed(7);
        assertThrows(IllegalArgumentException.class, () -> area.reportUsed(-1));
        assertThrows(IllegalArgumentException.class, () -> area.reportUsed(area.size() + 1));
        assertThrows(IllegalArgumentException.class, () -> area.reportUsed(Long.MIN_VALUE));
        assertEquals(7, area.usage().usedBytes(), "a rejected report changes nothing");
        assertEquals(10 * PAGE_SIZE, space.usage().usedBytes(), "the space counts whole live areas");
    }

    @Test
    void shouldDescribeAreaBoundsWhenQueried()
    {
        final AddressSpace space = reserve(16 * MIB);
        final Area area = space.allocate(3 * PAGE_SIZE);
        assertEquals(area.base() + 3 * PAGE_SIZE, area.top());
        assertTrue(area.contains(area.base()));
        assertTrue(area.contains(area.top() - 1));
        assertFalse(area.contains(area.top()));
        assertFalse(area.contains(area.base() - 1));
        assertTrue(area.isLive());
        space.free(area);
        assertFalse(area.isLive());
    }

    private static <T> void shuffle(final List<T> list, final SplittableRandom rnd)
    {
        for (int i = list.size() - 1; i > 0; i--)
        {
            final int j = rnd.nextInt(i + 1);
            list.set(i, list.set(j, list.get(i)));
        }
    }

    private static void assertDisjoint(final List<Area> areas, final String where)
    {
        final List<Area> sorted = new ArrayList<>(areas);
        sorted.sort(Comparator.comparingLong(Area::base));
        for (int i = 1; i < sorted.size(); i++)
        {
            assertTrue(sorted.get(i - 1).top() <= sorted.get(i).base(),
                "areas overlap: " + sorted.get(i - 1) + " and " + sorted.get(i) + ", " + where);
        }
    }

    /**
     * Threads that allocate and free areas of one size at once, as forks and exits do, through the warm cache's
     * newest slot and its deque: no area is ever handed to two threads, the cache keeps within its limit, and no
     * area is lost or hidden (the space holds only a few areas more than the threads can hold or be freeing at once,
     * so an allocation that failed to find a freed area would run out of room; and afterwards the whole space can be
     * allocated again in areas of that size).
     */
    @Test
    void shouldNeverHandOutAnAreaTwiceWhenThreadsChurnTheWarmCache() throws InterruptedException
    {
        final long seed = Seeds.seed(0x5107_CAC4EL);
        final long size = MIB;
        final long retain = 3 * size;
        final AddressSpace space = reserve(AddressSpaceConfig.ofSize(16 * MIB).withWarmRetain(retain));
        // Three threads hold at most three areas each and free at most one each at a time: 12 of the 15 that fit.
        final int threads = 3;
        final int rounds = 4_000;
        final ConcurrentHashMap<Long, Integer> holders = new ConcurrentHashMap<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch start = new CountDownLatch(1);
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int id = t;
            final SplittableRandom rnd = Seeds.random(seed + t);
            workers.add(Thread.ofPlatform().start(() ->
            {
                final List<Area> mine = new ArrayList<>();
                try
                {
                    start.await();
                    for (int round = 0; round < rounds && failure.get() == null; round++)
                    {
                        if (mine.size() < 3 && (mine.isEmpty() || rnd.nextBoolean()))
                        {
                            final Area area = space.allocate(size, size,
                                rnd.nextBoolean() ? AreaInit.ZEROED : AreaInit.UNINITIALIZED);
                            final Integer other = holders.putIfAbsent(area.base(), id);
                            if (other != null)
                            {
                                throw new AssertionError("area at " + area.base() + " handed to thread " + id
                                    + " while thread " + other + " holds it, round " + round);
                            }
                            space.memory().segment().set(ValueLayout.JAVA_LONG, area.base(), id);
                            mine.add(area);
                        }
                        else
                        {
                            final Area area = mine.remove(rnd.nextInt(mine.size()));
                            assertEquals(id, space.memory().segment().get(ValueLayout.JAVA_LONG, area.base()),
                                "nobody else wrote into thread " + id + "'s area, round " + round);
                            holders.remove(area.base());
                            if (rnd.nextBoolean())
                            {
                                space.free(area);
                            }
                            else
                            {
                                space.free(area, PAGE_SIZE);
                            }
                        }
                    }
                    for (final Area area : mine)
                    {
                        holders.remove(area.base());
                        space.free(area);
                    }
                }
                catch (final Throwable e)
                {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        start.countDown();
        for (final Thread worker : workers)
        {
            worker.join();
        }
        if (failure.get() != null)
        {
            throw new AssertionError(Seeds.replay(seed) + ": " + failure.get(), failure.get());
        }
        assertEquals(0, space.liveAreas(), Seeds.replay(seed));
        assertTrue(space.warmBytes() <= retain, "warm bytes " + space.warmBytes() + " above the limit, "
            + Seeds.replay(seed));
        final List<Area> all = new ArrayList<>();
        while (true)
        {
            try
            {
                all.add(space.allocate(size, size, AreaInit.UNINITIALIZED));
            }
            catch (final AddressSpaceExhaustedException e)
            {
                break;
            }
        }
        assertEquals((space.size() - Geometry.alignUp(space.config().guardBytes(), size)) / size, all.size(),
            "every area came back, " + Seeds.replay(seed));
        assertDisjoint(all, Seeds.replay(seed));
        assertEquals(0, space.warmBytes(), Seeds.replay(seed));
    }

    private static void assertAccounting(final AddressSpace space, final List<Area> live, final String where)
    {
        long sum = 0;
        for (final Area area : live)
        {
            sum += area.size();
        }
        assertEquals(live.size(), space.liveAreas(), "live areas, " + where);
        assertEquals(sum, space.usage().usedBytes(), "used bytes = sum of live area sizes, " + where);
    }
}
