package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.FaultCause;
import dev.ufork.capability.Permission;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import dev.ufork.memory.Geometry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static dev.ufork.posix.Mman.MAP_ANONYMOUS;
import static dev.ufork.posix.Mman.MAP_FAILED;
import static dev.ufork.posix.Mman.MAP_FIXED;
import static dev.ufork.posix.Mman.MAP_FIXED_NOREPLACE;
import static dev.ufork.posix.Mman.MAP_PRIVATE;
import static dev.ufork.posix.Mman.MAP_SHARED;
import static dev.ufork.posix.Mman.PROT_NONE;
import static dev.ufork.posix.Mman.PROT_READ;
import static dev.ufork.posix.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * brk, sbrk, mmap and munmap: the heap grows up and mappings down inside the µprocess's fixed area, never
 * overlapping; memory handed out is zero, even a range unmapped and mapped again; unmapped memory goes back to
 * the OS; ENOMEM at the end of the reservation; and a child's mappings are its own.
 */
class MemoryMapTest extends PosixTestBase
{
    private static final long PAGE = Geometry.PAGE_SIZE;
    private static final int ANON = MAP_PRIVATE | MAP_ANONYMOUS;
    private static final int RW = PROT_READ | PROT_WRITE;

    private static void assertMapFails(final Posix posix, final Capability result, final Errno errno)
    {
        assertEquals(MAP_FAILED, result);
        assertEquals(errno.code(), posix.errno(), "errno");
    }

    private static void assertZero(final Posix posix, final Capability mapping)
    {
        final CapabilityMemory memory = posix.memory();
        for (long at = 0; at < mapping.length(); at += 8)
        {
            if (memory.loadLong(mapping, at) != 0)
            {
                throw new AssertionError("byte " + at + " of " + mapping + " is not zero");
            }
        }
        for (long at = 0; at < mapping.length(); at += 16)
        {
            assertFalse(memory.loadCapability(mapping, at).isTagged(), "tag at " + at + " of " + mapping);
        }
    }

    /** Writes data and a capability into every page. */
    private static void scribble(final Posix posix, final Capability mapping, final long value)
    {
        for (long at = 0; at < mapping.length(); at += PAGE)
        {
            posix.memory().storeCapability(mapping, at, mapping);
            posix.memory().storeLong(mapping, at + 16, value + at);
        }
    }

    private static void assertScribbled(final Posix posix, final Capability mapping, final long value)
    {
        for (long at = 0; at < mapping.length(); at += PAGE)
        {
            assertEquals(mapping, posix.memory().loadCapability(mapping, at));
            assertEquals(value + at, posix.memory().loadLong(mapping, at + 16));
        }
    }

    private long ceiling(final Posix posix)
    {
        return posix.area().base() + PosixAreaDescriptor.mmapCeiling(posix.area().length());
    }

    @Test
    void shouldMoveTheBreakAndHandOutZeroedMemory()
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final long start = posix.area().base() + PosixAreaDescriptor.HEAP_START;
            final Capability initial = posix.sbrk(0);
            assertTrue(initial.isTagged());
            assertEquals(start, initial.address());
            assertEquals(0, initial.length());
            final Capability grown = posix.sbrk(10_000);
            assertEquals(start, grown.address());
            assertEquals(10_000, grown.length());
            assertEquals(start + 10_000, posix.sbrk(0).address());
            memory.fill(grown, 0, 10_000, (byte)7);
            memory.storeCapability(grown, 9_984, grown);
            // Giving memory back zeroes it, so taking it again finds zeros, as on Linux.
            assertEquals(start + 10_000, posix.sbrk(-9_000).address());
            assertEquals(start + 1_000, posix.sbrk(0).address());
            final Capability again = posix.sbrk(9_000);
            assertEquals(start + 1_000, again.address());
            for (long at = 0; at < 9_000; at += 8)
            {
                assertEquals(0, memory.loadLong(again, at), "byte " + at);
            }
            assertFalse(memory.loadCapability(again, 8_984).isTagged());
            assertEquals(7, memory.loadByte(grown, 999), "memory below the break is kept");
            assertEquals(0, posix.brk(posix.area().withAddress(start + 50_000)));
            assertEquals(start + 50_000, posix.sbrk(0).address());
            assertEquals(0, posix.brk(Capability.NULL.withAddress(start)), "brk takes an address");
            assertEquals(start, posix.sbrk(0).address());
            return 0;
        });
    }

    @Test
    void shouldRefuseABreakOutsideTheHeap()
    {
        run(posix ->
        {
            final long start = posix.area().base() + PosixAreaDescriptor.HEAP_START;
            assertEquals(-1, posix.brk(posix.area().withAddress(start - 16)));
            assertEquals(Errno.ENOMEM.code(), posix.errno());
            assertEquals(-1, posix.brk(posix.area().withAddress(ceiling(posix) + 1)));
            assertEquals(Errno.ENOMEM.code(), posix.errno());
            assertEquals(0, posix.brk(posix.area().withAddress(ceiling(posix))), "the whole gap is the heap's");
            assertEquals(-1, posix.brk(null));
            final Capability failed = posix.sbrk(1);
            assertFalse(failed.isTagged());
            assertEquals(0, failed.address());
            assertEquals(Errno.ENOMEM.code(), posix.errno());
            assertEquals(ceiling(posix), posix.sbrk(0).address(), "a failed sbrk leaves the break");
            assertFalse(posix.sbrk(Long.MAX_VALUE).isTagged());
            assertFalse(posix.sbrk(Long.MIN_VALUE).isTagged());
            assertEquals(ceiling(posix), posix.sbrk(0).address());
            return 0;
        });
    }

    @Test
    void shouldMapZeroedMemoryWithThePermissionsOfProt()
    {
        run(posix ->
        {
            final CapabilityMemory memory = posix.memory();
            final Capability m = posix.mmap(Capability.NULL, 10_000, RW, ANON, -1, 0);
            assertTrue(m.isTagged(), "mmap failed: errno " + posix.errno());
            assertEquals(m.base(), m.address());
            assertEquals(0, m.address() % PAGE);
            assertEquals(3 * PAGE, m.length());
            assertTrue(m.top() <= ceiling(posix));
            assertTrue(m.base() >= posix.sbrk(0).address());
            assertZero(posix, m);
            scribble(posix, m, 11);
            assertScribbled(posix, m, 11);
            assertTrue(m.hasPermissions(Permission.LOAD_CAP.mask() | Permission.STORE_CAP.mask()));
            final Capability readOnly = posix.mmap(Capability.NULL, PAGE, PROT_READ, ANON, -1, 0);
            assertEquals(0, memory.loadLong(readOnly, 0));
            assertEquals(FaultCause.PERMIT_STORE, assertThrows(CapabilityFault.class,
                () -> memory.storeLong(readOnly, 0, 1)).faultCause());
            final Capability none = posix.mmap(Capability.NULL, PAGE, PROT_NONE, ANON, -1, 0);
            assertTrue(none.isTagged());
            assertEquals(FaultCause.PERMIT_LOAD, assertThrows(CapabilityFault.class,
                () -> memory.loadLong(none, 0)).faultCause());
            // Mappings are placed top-down without overlapping.
            assertTrue(readOnly.top() <= m.base() && none.top() <= readOnly.base(), m + " " + readOnly + " " + none);
            // A free hint is honoured.
            final long hint = m.base() - 64 * PAGE;
            final Capability hinted = posix.mmap(Capability.NULL.withAddress(hint), PAGE, RW, ANON, -1, 0);
            assertEquals(hint, hinted.address());
            assertEquals(0, posix.munmap(hinted, PAGE));
            return 0;
        });
    }

    @Test
    void shouldBoundLargeMappingsExactly()
    {
        final PosixConfig config = system.config();
        system.close();
        system = PosixSystem.boot(PosixConfig.of(config.kernel().withAreaSize(64L << 20), config.root()));
        run(posix ->
        {
            final long length = (5L << 20) + 12_345;
            final Capability m = posix.mmap(Capability.NULL, length, RW, ANON, -1, 0);
            assertTrue(m.isTagged(), "mmap failed: errno " + posix.errno());
            assertTrue(m.length() >= length && m.length() % PAGE == 0, "length " + m.length());
            assertEquals(m.base(), m.address());
            assertEquals(m.length(), Capability.representableLength(m.length()));
            posix.memory().storeLong(m, m.length() - 8, 1);
            assertEquals(0, posix.munmap(m, m.length()));
            return 0;
        });
    }

    @Test
    void shouldRefuseWhatItDoesNotSupport()
    {
        run(posix ->
        {
            assertMapFails(posix, posix.mmap(Capability.NULL, 0, RW, ANON, -1, 0), Errno.EINVAL);
            assertMapFails(posix, posix.mmap(Capability.NULL, PAGE, RW, ANON, -1, 100), Errno.EINVAL);
            assertMapFails(posix, posix.mmap(Capability.NULL, PAGE, RW, MAP_ANONYMOUS, -1, 0), Errno.EINVAL);
            assertMapFails(posix, posix.mmap(Capability.NULL, PAGE, 8, ANON, -1, 0), Errno.EINVAL);
            assertMapFails(posix, posix.mmap(Capability.NULL, PAGE, RW, ANON | 0x40000, -1, 0), Errno.EINVAL);
            assertMapFails(posix, posix.mmap(Capability.NULL, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                Errno.EOPNOTSUPP);
            assertMapFails(posix, posix.mmap(Capability.NULL, PAGE, RW, MAP_PRIVATE, 99, 0), Errno.EBADF);
            assertMapFails(posix, posix.mmap(Capability.NULL, PAGE, RW, MAP_PRIVATE, 0, 0), Errno.EOPNOTSUPP);
            assertMapFails(posix, posix.mmap(Capability.NULL, -1, RW, ANON, -1, 0), Errno.ENOMEM);
            assertMapFails(posix, posix.mmap(Capability.NULL, 2L << 20, RW, ANON, -1, 0), Errno.ENOMEM);
            final long inGap = ceiling(posix) - 16 * PAGE;
            assertMapFails(posix, posix.mmap(Capability.NULL.withAddress(inGap + 8), PAGE, RW, ANON | MAP_FIXED, -1,
                0), Errno.EINVAL);
            assertMapFails(posix, posix.mmap(posix.sbrk(0).withAddress(posix.sbrk(0).address() & -PAGE), PAGE, RW,
                ANON | MAP_FIXED, -1, 0), Errno.ENOMEM);
            assertMapFails(posix, posix.mmap(Capability.NULL.withAddress(ceiling(posix)), PAGE, RW,
                ANON | MAP_FIXED, -1, 0), Errno.ENOMEM);
            final Capability fixed = posix.mmap(Capability.NULL.withAddress(inGap), 2 * PAGE, RW, ANON | MAP_FIXED,
                -1, 0);
            assertEquals(inGap, fixed.address());
            assertMapFails(posix, posix.mmap(Capability.NULL.withAddress(inGap + PAGE), PAGE, RW,
                ANON | MAP_FIXED_NOREPLACE, -1, 0), Errno.EEXIST);
            // munmap's bad paths.
            assertEquals(-1, posix.munmap(fixed.add(8), PAGE));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(-1, posix.munmap(fixed, 0));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(-1, posix.munmap(Capability.NULL.withAddress(posix.area().base() - PAGE), PAGE));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            assertEquals(-1, posix.munmap(fixed, posix.area().length()));
            assertEquals(Errno.EINVAL.code(), posix.errno());
            // Unmapping pages that are not mapped is no error; neither is the heap, which is left alone.
            assertEquals(0, posix.munmap(Capability.NULL.withAddress(inGap - 8 * PAGE), 4 * PAGE));
            final Capability heap = posix.sbrk(PAGE);
            posix.memory().storeLong(heap, 0, 99);
            assertEquals(0, posix.munmap(heap.withAddress(heap.address() & -PAGE), 2 * PAGE));
            assertEquals(99, posix.memory().loadLong(heap, 0));
            return 0;
        });
    }

    @Test
    void shouldHandOutZeroesAgainAfterUnmappingAndGiveThePagesBack()
    {
        run(posix ->
        {
            final Capability m = posix.mmap(Capability.NULL, 4 * PAGE, RW, ANON, -1, 0);
            scribble(posix, m, 5);
            // libc's page map, above the ceiling, is no mapping: unmapping it does nothing.
            assertEquals(0, posix.munmap(Capability.NULL.withAddress(ceiling(posix)), PAGE));
            assertEquals(m.address() - PAGE, posix.mmap(Capability.NULL, PAGE, RW, ANON, -1, 0).address(),
                "the mapping is still recorded");
            assertEquals(0, posix.munmap(m, 4 * PAGE));
            for (long at = 0; at < 4 * PAGE; at += PAGE)
            {
                assertFalse(system.kernel().space().isResident(m.address() + at), "unmapped page still resident");
            }
            // The same range comes back, top-down, and it is zero.
            final Capability again = posix.mmap(Capability.NULL, 4 * PAGE, RW, ANON, -1, 0);
            assertEquals(m.address(), again.address());
            assertZero(posix, again);
            scribble(posix, again, 6);
            // MAP_FIXED over a mapping replaces it with zeroes; a partial unmap leaves the rest.
            final Capability replaced = posix.mmap(again.add(PAGE), PAGE, RW, ANON | MAP_FIXED, -1, 0);
            assertEquals(again.address() + PAGE, replaced.address());
            assertZero(posix, replaced);
            assertEquals(0, posix.munmap(again.add(2 * PAGE), PAGE));
            assertEquals(again, posix.memory().loadCapability(again, 0));
            assertEquals(6 + 3 * PAGE, posix.memory().loadLong(again, 3 * PAGE + 16));
            final Capability hole = posix.mmap(again.add(2 * PAGE), PAGE, RW, ANON, -1, 0);
            assertEquals(again.address() + 2 * PAGE, hole.address(), "the hint fills the hole");
            assertZero(posix, hole);
            return 0;
        });
    }

    @Test
    void shouldKeepTheHeapAndTheMappingsApart()
    {
        run(posix ->
        {
            // Mappings fill the area from the top until they meet the break.
            final List<Capability> mappings = new ArrayList<>();
            while (true)
            {
                final Capability m = posix.mmap(Capability.NULL, 16 * PAGE, RW, ANON, -1, 0);
                if (!m.isTagged())
                {
                    assertEquals(Errno.ENOMEM.code(), posix.errno());
                    break;
                }
                assertTrue(m.base() >= posix.sbrk(0).address());
                mappings.add(m);
            }
            assertTrue(mappings.size() >= 10, mappings.size() + " mappings");
            final Capability lowest = mappings.get(mappings.size() - 1);
            // The break cannot reach into the mappings, nor can malloc.
            assertEquals(-1, posix.brk(lowest.add(PAGE)));
            assertEquals(Errno.ENOMEM.code(), posix.errno());
            assertEquals(0, posix.brk(lowest), "the break may reach the lowest mapping");
            assertFalse(posix.malloc(100).isTagged());
            assertEquals(Errno.ENOMEM.code(), posix.errno());
            // Unmapping the lowest mapping lets both grow again.
            assertEquals(0, posix.brk(Capability.NULL.withAddress(posix.area().base()
                + PosixAreaDescriptor.HEAP_START)));
            assertEquals(0, posix.munmap(lowest, lowest.length()));
            assertTrue(posix.malloc(100).isTagged());
            assertTrue(posix.mmap(Capability.NULL, PAGE, RW, ANON, -1, 0).isTagged());
            // A mapping cannot be placed where the heap is, even by hint.
            final Capability low = posix.mmap(posix.sbrk(0).withAddress(posix.sbrk(0).address() & -PAGE), PAGE, RW,
                ANON, -1, 0);
            assertTrue(!low.isTagged() || low.base() >= posix.sbrk(0).address(), low.toString());
            return 0;
        });
    }

    @Test
    void shouldLeaveTheSignalMaskAsItWas()
    {
        run(posix ->
        {
            final int sigusr1 = 10;
            final int[] handled = new int[1];
            posix.signal(sigusr1, (p, signal) -> handled[0]++);
            final long mask = 1L << sigusr1;
            posix.sigprocmask(Posix.SIG_BLOCK, mask);
            posix.raise(sigusr1);
            // Unmapping, replacing a mapping, shrinking the break and trimming malloc's top enter the kernel with
            // every signal blocked, then restore the caller's mask: the blocked signal stays pending.
            final Capability m = posix.mmap(Capability.NULL, 4 * PAGE, RW, ANON, -1, 0);
            assertEquals(0, posix.munmap(m, PAGE));
            assertTrue(posix.mmap(m, PAGE, RW, ANON | MAP_FIXED, -1, 0).isTagged());
            assertTrue(posix.mmap(m, PAGE, RW, ANON | MAP_FIXED, -1, 0).isTagged());
            posix.sbrk(3 * PAGE);
            posix.sbrk(-3 * PAGE);
            posix.free(posix.malloc(700 << 10));
            assertEquals(mask, posix.sigprocmask(Posix.SIG_BLOCK, 0));
            assertEquals(mask, posix.sigpending());
            assertEquals(0, handled[0]);
            posix.sigprocmask(Posix.SIG_UNBLOCK, mask);
            assertEquals(1, handled[0]);
            return 0;
        });
    }

    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldGiveTheChildItsOwnMappings(final CopyMode mode)
    {
        run(posix ->
        {
            final Capability m = posix.mmap(Capability.NULL, 3 * PAGE, RW, ANON, -1, 0);
            scribble(posix, m, 40);
            final long base = posix.area().base();
            final int child = posix.fork(PosixTestSupport.guarded(failure, c ->
            {
                final Capability mine = c.area().withAddress(c.area().base() + m.address() - base)
                    .setBoundsExact(3 * PAGE);
                // The capabilities in the mapping point at the child's copy.
                assertEquals(mine.base(), c.memory().loadCapability(mine, 0).base());
                assertEquals(40 + PAGE, c.memory().loadLong(mine, PAGE + 16));
                assertEquals(0, c.munmap(mine, 2 * PAGE));
                assertZero(c, c.mmap(mine, 2 * PAGE, RW, ANON | MAP_FIXED, -1, 0));
                scribble(c, mine, 77);
                return 0;
            }), mode);
            assertTrue(child > 0);
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(0, status[0]);
            assertScribbled(posix, m, 40);
            return 0;
        });
    }
}
