package dev.ufork.capability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.TaggedMemory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The check-order matrix of cheri.md §4 category 5 for every access kind: every combination of {untagged, sealed,
 * sentry, missing the needed permission(s), out of bounds, misaligned} must fault with exactly the highest-priority
 * cause of §2.4 / §5.6 (TAG, SEAL, PERMIT_LOAD / PERMIT_STORE, PERMIT_STORE_CAP, PERMIT_STORE_LOCAL_CAP, LENGTH,
 * ALIGNMENT), carry the authority, address and size, and leave bytes and tags untouched. Also categories 6
 * (granule tag clearing), 7 (store-local) and 8 (LOAD_CAP stripping), and address wrap-around.
 * <p>
 * The expected causes are written out per test from the priority list, independently of {@link ModelMemory}.
 */
class FaultPriorityTest
{
    private static final long SPACE_SIZE = 16L << 20;
    /** The authority's bounds are [REGION, REGION + SIZE); its address is REGION + 32. */
    private static final long REGION = 0x1_0000;
    /** Copy sources: [SOURCE, SOURCE + SIZE), address SOURCE. */
    private static final long SOURCE = 0x2_0000;
    private static final long SIZE = 256;
    /** Bytes either side of a region that are painted and must not change. */
    private static final long AROUND = 64;
    private static final long COPY_LENGTH = 64;

    private static final int LOAD = Permission.LOAD.mask();
    private static final int STORE = Permission.STORE.mask();
    private static final int LOAD_CAP = Permission.LOAD_CAP.mask();
    private static final int STORE_CAP = Permission.STORE_CAP.mask();
    private static final int STORE_LOCAL_CAP = Permission.STORE_LOCAL_CAP.mask();
    private static final int GLOBAL = Permission.GLOBAL.mask();

    private AddressSpace space;
    private CapabilityMemory mem;
    private TaggedMemory raw;
    private Capability root;
    private Capability region;
    private Capability source;
    private Capability sealer;

    private enum Seal
    {
        NONE, SEALED, SENTRY
    }

    @FunctionalInterface
    private interface Access
    {
        void run(CapabilityMemory m, Capability c, long offset);
    }

    private record DataAccess(String name, long size, boolean store, Access call)
    {
    }

    private static final List<DataAccess> DATA_ACCESSES = List.of(
        new DataAccess("loadByte", 1, false, (m, c, o) -> m.loadByte(c, o)),
        new DataAccess("loadShort", 2, false, (m, c, o) -> m.loadShort(c, o)),
        new DataAccess("loadChar", 2, false, (m, c, o) -> m.loadChar(c, o)),
        new DataAccess("loadInt", 4, false, (m, c, o) -> m.loadInt(c, o)),
        new DataAccess("loadFloat", 4, false, (m, c, o) -> m.loadFloat(c, o)),
        new DataAccess("loadLong", 8, false, (m, c, o) -> m.loadLong(c, o)),
        new DataAccess("loadDouble", 8, false, (m, c, o) -> m.loadDouble(c, o)),
        new DataAccess("loadBytes(array, 24)", 24, false, (m, c, o) -> m.loadBytes(c, o, new byte[24], 0, 24)),
        new DataAccess("loadBytes(segment, 24)", 24, false,
            (m, c, o) -> m.loadBytes(c, o, MemorySegment.ofArray(new byte[24]), 0, 24)),
        new DataAccess("storeByte", 1, true, (m, c, o) -> m.storeByte(c, o, (byte)0x5A)),
        new DataAccess("storeShort", 2, true, (m, c, o) -> m.storeShort(c, o, (short)0x5A5A)),
        new DataAccess("storeChar", 2, true, (m, c, o) -> m.storeChar(c, o, 'Z')),
        new DataAccess("storeInt", 4, true, (m, c, o) -> m.storeInt(c, o, 0x5A5A5A5A)),
        new DataAccess("storeFloat", 4, true, (m, c, o) -> m.storeFloat(c, o, 1.5f)),
        new DataAccess("storeLong", 8, true, (m, c, o) -> m.storeLong(c, o, 0x5A5A5A5A5A5A5A5AL)),
        new DataAccess("storeDouble", 8, true, (m, c, o) -> m.storeDouble(c, o, 2.5)),
        new DataAccess("storeBytes(array, 24)", 24, true, (m, c, o) -> m.storeBytes(c, o, new byte[24], 0, 24)),
        new DataAccess("storeBytes(segment, 24)", 24, true,
            (m, c, o) -> m.storeBytes(c, o, MemorySegment.ofArray(new byte[24]), 0, 24)),
        new DataAccess("fill(24)", 24, true, (m, c, o) -> m.fill(c, o, 24, (byte)0x5A)));

    /** Where a data access of {@code size} bytes starts, relative to the authority's bounds. */
    private enum DataPosition
    {
        IN_ALIGNED, IN_UNALIGNED, LAST_BYTES, BELOW_BASE_BY_ONE, OVER_TOP_BY_ONE, OVER_TOP_BY_SIZE_MINUS_ONE,
        PAST_TOP_BY_SIZE, WRAPPED_BELOW_ZERO, WRAPPED_PAST_2_63;

        boolean outOfBounds(final long size)
        {
            return switch (this)
            {
                case IN_ALIGNED, IN_UNALIGNED, LAST_BYTES -> false;
                // Starting at the last byte: in bounds only for a one-byte access.
                case OVER_TOP_BY_SIZE_MINUS_ONE -> size > 1;
                default -> true;
            };
        }

        long offset(final Capability c, final long size)
        {
            final long a = c.address();
            return switch (this)
            {
                case IN_ALIGNED -> c.base() + 16 - a;
                case IN_UNALIGNED -> c.base() + 19 - a;
                case LAST_BYTES -> c.top() - size - a;
                case BELOW_BASE_BY_ONE -> c.base() - 1 - a;
                case OVER_TOP_BY_ONE -> c.top() - size + 1 - a;
                case OVER_TOP_BY_SIZE_MINUS_ONE -> c.top() - 1 - a;
                case PAST_TOP_BY_SIZE -> c.top() - a;
                case WRAPPED_BELOW_ZERO -> -a - size;
                case WRAPPED_PAST_2_63 -> Long.MAX_VALUE;
            };
        }
    }

    /** Where a capability access starts: in or out of bounds, aligned or not. */
    private enum CapabilityPosition
    {
        IN_ALIGNED(false, false), LAST_GRANULE(false, false), IN_MISALIGNED_BY_1(false, true),
        IN_MISALIGNED_BY_8(false, true), IN_MISALIGNED_BY_15(false, true), BELOW_BASE_BY_16(true, false),
        BELOW_BASE_BY_ONE(true, true), BELOW_BASE_BY_8(true, true), PAST_TOP_BY_SIZE(true, false),
        OVER_TOP_BY_SIZE_MINUS_ONE(true, true), OVER_TOP_BY_ONE(true, true), WRAPPED_BELOW_ZERO(true, false),
        WRAPPED_BELOW_ZERO_MISALIGNED(true, true), WRAPPED_PAST_2_63(true, false);

        final boolean outOfBounds;
        final boolean misaligned;

        CapabilityPosition(final boolean outOfBounds, final boolean misaligned)
        {
            this.outOfBounds = outOfBounds;
            this.misaligned = misaligned;
        }

        long offset(final Capability c)
        {
            final long a = c.address();
            return switch (this)
            {
                case IN_ALIGNED -> c.base() + 16 - a;
                case LAST_GRANULE -> c.top() - 16 - a;
                case IN_MISALIGNED_BY_1 -> c.base() + 17 - a;
                case IN_MISALIGNED_BY_8 -> c.base() + 24 - a;
                case IN_MISALIGNED_BY_15 -> c.base() + 31 - a;
                case BELOW_BASE_BY_16 -> c.base() - 16 - a;
                case BELOW_BASE_BY_ONE -> c.base() - 1 - a;
                case BELOW_BASE_BY_8 -> c.base() - 8 - a;
                case PAST_TOP_BY_SIZE -> c.top() - a;
                case OVER_TOP_BY_SIZE_MINUS_ONE -> c.top() - 1 - a;
                case OVER_TOP_BY_ONE -> c.top() - 15 - a;
                case WRAPPED_BELOW_ZERO -> -a - 16;
                case WRAPPED_BELOW_ZERO_MISALIGNED -> -a - 1;
                case WRAPPED_PAST_2_63 -> Long.MAX_VALUE - 15 - (a & 15);
            };
        }
    }

    /** A value to store with storeCapability. */
    private enum Value
    {
        UNTAGGED_LOCAL, GLOBAL, LOCAL, SEALED_LOCAL
    }

    @BeforeEach
    void setUp()
    {
        space = AddressSpace.reserve(SPACE_SIZE);
        mem = new CapabilityMemory(space);
        raw = space.memory();
        root = CapabilityRoots.memoryRoot(space);
        region = root.withAddress(REGION).setBoundsExact(SIZE).withAddress(REGION + 32);
        source = root.withAddress(SOURCE).setBoundsExact(SIZE);
        sealer = CapabilityRoots.sealingRoot().withAddress(42);
        assertTrue(region.isTagged() && region.base() == REGION && region.top() == REGION + SIZE, "" + region);
        assertTrue(source.isTagged() && source.base() == SOURCE && source.top() == SOURCE + SIZE, "" + source);
    }

    @AfterEach
    void tearDown()
    {
        space.close();
    }

    // ----------------------------------------------------------------------------------------------------------
    // Fixtures.

    /** @return base with {@code missing} permissions removed, then sealed or made a sentry, then maybe untagged. */
    private Capability authority(final Capability base, final boolean untagged, final Seal seal, final int missing)
    {
        Capability c = base.andPermissions(~missing);
        c = switch (seal)
        {
            case NONE -> c;
            case SEALED -> c.seal(sealer);
            case SENTRY -> c.sealEntry();
        };
        if (untagged)
        {
            c = c.withTagCleared();
        }
        final String what = "fixture " + c + " from " + base;
        assertEquals(!untagged, c.isTagged(), what);
        assertEquals(seal != Seal.NONE, c.isSealed(), what);
        assertEquals(seal == Seal.SENTRY, c.isSentry(), what);
        assertEquals(0, c.permissions() & missing, what);
        assertEquals(base.permissions() & ~missing, c.permissions(), what);
        assertEquals(base.address(), c.address(), what);
        assertEquals(base.base(), c.base(), what);
        assertEquals(base.top(), c.top(), what);
        return c;
    }

    /** A tagged capability far from the regions, distinct per {@code address}. */
    private Capability victim(final long address)
    {
        return root.withAddress(0x80_0000 + address).setBoundsExact(16);
    }

    private Capability value(final Value kind)
    {
        final Capability global = root.withAddress(0x70_0000).setBoundsExact(32);
        final Capability local = global.andPermissions(~GLOBAL);
        return switch (kind)
        {
            case UNTAGGED_LOCAL -> local.withTagCleared();
            case GLOBAL -> global;
            case LOCAL -> local;
            case SEALED_LOCAL -> local.seal(sealer);
        };
    }

    /**
     * Paints [from, to): granules at odd granule indices get a tagged capability, the others pattern bytes, so that
     * any change to bytes or tags is visible.
     */
    private void paint(final long from, final long to)
    {
        for (long g = from; g < to; g += 16)
        {
            if (((g >>> 4) & 1) == 1)
            {
                final Capability v = victim(g);
                raw.storeCapability(g, v.address(), v.metadataBits(), true);
            }
            else
            {
                final byte[] pattern = new byte[16];
                for (int i = 0; i < 16; i++)
                {
                    pattern[i] = (byte)(g * 7 + i * 13 + 1);
                }
                raw.storeBytes(g, pattern, 0, 16);
            }
        }
    }

    private void paintRegions()
    {
        paint(REGION - AROUND, REGION + SIZE + AROUND);
        paint(SOURCE - AROUND, SOURCE + SIZE + AROUND);
    }

    private record Snapshot(long from, byte[] bytes, boolean[] tags)
    {
    }

    private Snapshot snapshot(final long from, final long to)
    {
        final byte[] bytes = new byte[(int)(to - from)];
        raw.loadBytes(from, bytes, 0, bytes.length);
        final boolean[] tags = new boolean[bytes.length / 16];
        for (int i = 0; i < tags.length; i++)
        {
            tags[i] = raw.isTagged(from + 16L * i);
        }
        return new Snapshot(from, bytes, tags);
    }

    private List<Snapshot> snapshotRegions()
    {
        return List.of(snapshot(REGION - AROUND, REGION + SIZE + AROUND),
            snapshot(SOURCE - AROUND, SOURCE + SIZE + AROUND));
    }

    private void assertUnchanged(final List<Snapshot> before, final String what)
    {
        for (final Snapshot s : before)
        {
            final Snapshot now = snapshot(s.from(), s.from() + s.bytes().length);
            assertArrayEquals(s.bytes(), now.bytes(), what + ": bytes changed");
            assertArrayEquals(s.tags(), now.tags(), what + ": tags changed");
        }
    }

    private static String describe(final String access, final Capability c, final long offset, final String extra)
    {
        return access + "(+" + offset + ") through " + c + (extra.isEmpty() ? "" : ", " + extra);
    }

    /** Runs an access that must fault with exactly this cause, authority, address and size, and change nothing. */
    private void assertFault(final FaultCause cause, final Capability authority, final long address, final long size,
        final Runnable access, final String what)
    {
        final List<Snapshot> before = snapshotRegions();
        final CapabilityFault f = assertThrows(CapabilityFault.class, access::run, what + ": expected " + cause);
        assertEquals(cause, f.faultCause(), what);
        assertSame(authority, f.authority(), what + ": authority");
        assertEquals(address, f.address(), what + ": address");
        assertEquals(size, f.size(), what + ": size");
        assertUnchanged(before, what);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Data loads and stores.

    @Test
    void shouldReportHighestPriorityCauseWhenDataAccessBreaksAnyCombinationOfChecks()
    {
        paintRegions();
        int faults = 0;
        for (final DataAccess access : DATA_ACCESSES)
        {
            final int needed = access.store() ? STORE : LOAD;
            for (final boolean untagged : new boolean[] {false, true})
            {
                for (final Seal seal : Seal.values())
                {
                    for (final boolean missing : new boolean[] {false, true})
                    {
                        final Capability c = authority(region, untagged, seal, missing ? needed : 0);
                        for (final DataPosition position : DataPosition.values())
                        {
                            final long offset = position.offset(c, access.size());
                            final String what = describe(access.name(), c, offset, position.name());
                            final FaultCause expected = untagged ? FaultCause.TAG
                                : seal != Seal.NONE ? FaultCause.SEAL
                                : missing ? (access.store() ? FaultCause.PERMIT_STORE : FaultCause.PERMIT_LOAD)
                                : position.outOfBounds(access.size()) ? FaultCause.LENGTH
                                : null;
                            if (expected == null)
                            {
                                access.call().run(mem, c, offset);
                                paintRegions();
                                continue;
                            }
                            assertFault(expected, c, c.address() + offset, access.size(),
                                () -> access.call().run(mem, c, offset), what);
                            faults++;
                        }
                    }
                }
            }
        }
        assertTrue(faults > 1000, "matrix too small: " + faults);
    }

    @Test
    void shouldClearExactlyTheOverlappedGranuleTagsWhenDataStoreHitsAnyOffset()
    {
        record Store(String name, byte[] bytes, Access call)
        {
        }
        final byte[] sixteen = new byte[16];
        for (int i = 0; i < 16; i++)
        {
            sixteen[i] = (byte)(0xC0 + i);
        }
        final List<Store> stores = List.of(
            new Store("storeByte", new byte[] {(byte)0xA1}, (m, c, o) -> m.storeByte(c, o, (byte)0xA1)),
            new Store("storeShort", le(0xA2B2, 2), (m, c, o) -> m.storeShort(c, o, (short)0xA2B2)),
            new Store("storeChar", le(0xA3B3, 2), (m, c, o) -> m.storeChar(c, o, (char)0xA3B3)),
            new Store("storeInt", le(0xA4B4C4D4L, 4), (m, c, o) -> m.storeInt(c, o, 0xA4B4C4D4)),
            new Store("storeFloat", le(Float.floatToRawIntBits(1.1f), 4), (m, c, o) -> m.storeFloat(c, o, 1.1f)),
            new Store("storeLong", le(0xA5B5C5D5E5F50515L, 8), (m, c, o) -> m.storeLong(c, o, 0xA5B5C5D5E5F50515L)),
            new Store("storeDouble", le(Double.doubleToRawLongBits(-3.25), 8),
                (m, c, o) -> m.storeDouble(c, o, -3.25)),
            new Store("storeBytes(array, 3)", new byte[] {7, 8, 9},
                (m, c, o) -> m.storeBytes(c, o, new byte[] {7, 8, 9}, 0, 3)),
            new Store("storeBytes(array, 16)", sixteen, (m, c, o) -> m.storeBytes(c, o, sixteen, 0, 16)),
            new Store("storeBytes(segment, 16)", sixteen,
                (m, c, o) -> m.storeBytes(c, o, MemorySegment.ofArray(sixteen), 0, 16)),
            new Store("fill(1)", new byte[] {(byte)0xEE}, (m, c, o) -> m.fill(c, o, 1, (byte)0xEE)),
            new Store("fill(16)", filled(16, (byte)0xEF), (m, c, o) -> m.fill(c, o, 16, (byte)0xEF)));
        final long g0 = REGION + 0x40;
        for (final Store store : stores)
        {
            for (int offset = 0; offset < 16; offset++)
            {
                for (int i = 0; i < 4; i++)
                {
                    final Capability v = victim(g0 + 16L * i);
                    mem.storeCapability(region, g0 + 16L * i - region.address(), v);
                }
                final Snapshot before = snapshot(g0, g0 + 64);
                final long at = g0 + 16 + offset;
                final int size = store.bytes().length;
                final String what = store.name() + " at granule offset " + offset + " (" + size + " bytes)";

                store.call().run(mem, region, at - region.address());

                final Snapshot after = snapshot(g0, g0 + 64);
                assertTrue(after.tags()[0], what + ": the granule before was cleared");
                assertFalse(after.tags()[1], what + ": the written granule kept its tag");
                assertEquals(offset + size <= 16, after.tags()[2],
                    what + ": the next granule's tag must clear iff the store straddles into it");
                assertTrue(after.tags()[3], what + ": a granule beyond the store was cleared");
                final byte[] want = before.bytes().clone();
                System.arraycopy(store.bytes(), 0, want, 16 + offset, size);
                assertArrayEquals(want, after.bytes(), what + ": bytes");
            }
        }
    }

    private static byte[] le(final long value, final int size)
    {
        final byte[] b = new byte[size];
        for (int i = 0; i < size; i++)
        {
            b[i] = (byte)(value >>> (8 * i));
        }
        return b;
    }

    private static byte[] filled(final int size, final byte value)
    {
        final byte[] b = new byte[size];
        Arrays.fill(b, value);
        return b;
    }

    // ----------------------------------------------------------------------------------------------------------
    // Capability loads and stores.

    @Test
    void shouldReportHighestPriorityCauseWhenCapabilityLoadBreaksAnyCombinationOfChecks()
    {
        paintRegions();
        int faults = 0;
        for (final boolean untagged : new boolean[] {false, true})
        {
            for (final Seal seal : Seal.values())
            {
                for (final int missing : new int[] {0, LOAD, LOAD_CAP, LOAD | LOAD_CAP})
                {
                    final Capability c = authority(region, untagged, seal, missing);
                    for (final CapabilityPosition position : CapabilityPosition.values())
                    {
                        final long offset = position.offset(c);
                        final long address = c.address() + offset;
                        final String what = describe("loadCapability", c, offset, position.name());
                        final FaultCause expected = untagged ? FaultCause.TAG
                            : seal != Seal.NONE ? FaultCause.SEAL
                            : (missing & LOAD) != 0 ? FaultCause.PERMIT_LOAD
                            : position.outOfBounds ? FaultCause.LENGTH
                            : position.misaligned ? FaultCause.ALIGNMENT
                            : null;
                        if (expected != null)
                        {
                            assertFault(expected, c, address, 16, () -> mem.loadCapability(c, offset), what);
                            faults++;
                            continue;
                        }
                        final List<Snapshot> before = snapshotRegions();
                        final Capability got = mem.loadCapability(c, offset);
                        final Capability stored = victim(address);
                        assertTrue(raw.isTagged(address), what + ": fixture granule not tagged");
                        assertEquals((missing & LOAD_CAP) == 0, got.isTagged(), what + ": tag vs LOAD_CAP");
                        assertEquals(stored.address(), got.address(), what);
                        assertEquals(stored.metadataBits(), got.metadataBits(), what);
                        assertUnchanged(before, what);
                    }
                }
            }
        }
        assertTrue(faults > 100, "matrix too small: " + faults);
    }

    @Test
    void shouldReportHighestPriorityCauseWhenCapabilityStoreBreaksAnyCombinationOfChecks()
    {
        paintRegions();
        int faults = 0;
        int successes = 0;
        final int[] missingSets = {0, STORE, STORE_CAP, STORE_LOCAL_CAP, STORE | STORE_CAP, STORE | STORE_LOCAL_CAP,
            STORE_CAP | STORE_LOCAL_CAP, STORE | STORE_CAP | STORE_LOCAL_CAP};
        for (final Value kind : Value.values())
        {
            final Capability value = value(kind);
            final boolean tagged = value.isTagged();
            final boolean local = (value.permissions() & GLOBAL) == 0;
            for (final boolean untagged : new boolean[] {false, true})
            {
                for (final Seal seal : Seal.values())
                {
                    for (final int missing : missingSets)
                    {
                        final Capability c = authority(region, untagged, seal, missing);
                        for (final CapabilityPosition position : CapabilityPosition.values())
                        {
                            final long offset = position.offset(c);
                            final long address = c.address() + offset;
                            final String what = describe("storeCapability", c, offset,
                                position.name() + ", value " + kind + " " + value);
                            final FaultCause expected = untagged ? FaultCause.TAG
                                : seal != Seal.NONE ? FaultCause.SEAL
                                : (missing & STORE) != 0 ? FaultCause.PERMIT_STORE
                                : tagged && (missing & STORE_CAP) != 0 ? FaultCause.PERMIT_STORE_CAP
                                : tagged && local && (missing & STORE_LOCAL_CAP) != 0
                                    ? FaultCause.PERMIT_STORE_LOCAL_CAP
                                : position.outOfBounds ? FaultCause.LENGTH
                                : position.misaligned ? FaultCause.ALIGNMENT
                                : null;
                            if (expected != null)
                            {
                                assertFault(expected, c, address, 16, () -> mem.storeCapability(c, offset, value),
                                    what);
                                faults++;
                                continue;
                            }
                            mem.storeCapability(c, offset, value);
                            successes++;
                            assertEquals(tagged, raw.isTagged(address), what + ": stored tag");
                            assertEquals(value.address(), raw.loadLong(address), what + ": address word");
                            assertEquals(value.metadataBits(), raw.loadLong(address + 8), what + ": metadata word");
                            paintRegions();
                        }
                    }
                }
            }
        }
        // 4 values x 2 x 3 x 8 x 14 positions; of those, exactly 16 need no fault (two in-bounds aligned positions
        // times the permission sets each value allows: 4 for the untagged one, 2 for the global, 1 for each local).
        assertEquals(2672, faults, "faults");
        assertEquals(16, successes, "successes");
    }

    @Test
    void shouldStoreUntaggedValueWhenAuthorityHasOnlyStore()
    {
        paintRegions();
        final Capability storeOnly = region.andPermissions(STORE);
        final Capability untaggedLocal = value(Value.UNTAGGED_LOCAL);
        final long at = REGION + 0x50;
        assertTrue(raw.isTagged(at), "fixture");

        mem.storeCapability(storeOnly, at - storeOnly.address(), untaggedLocal);

        assertFalse(raw.isTagged(at), "storing an untagged value clears the granule's tag");
        assertTrue(raw.isTagged(at - 32) && raw.isTagged(at + 32), "neighbouring tags survive");
        assertEquals(untaggedLocal.address(), raw.loadLong(at));
        assertEquals(untaggedLocal.metadataBits(), raw.loadLong(at + 8));
        assertFault(FaultCause.PERMIT_STORE_CAP, storeOnly, at, 16,
            () -> mem.storeCapability(storeOnly, at - storeOnly.address(), value(Value.GLOBAL)),
            "storing a tagged value through a STORE-only authority");
    }

    @Test
    void shouldRequireStoreLocalCapWhenStoringTaggedLocalValue()
    {
        paintRegions();
        final Capability noLocal = region.andPermissions(~STORE_LOCAL_CAP);
        final long offset = REGION + 0x60 - noLocal.address();
        assertFault(FaultCause.PERMIT_STORE_LOCAL_CAP, noLocal, REGION + 0x60, 16,
            () -> mem.storeCapability(noLocal, offset, value(Value.LOCAL)), "local value without STORE_LOCAL_CAP");
        assertFault(FaultCause.PERMIT_STORE_LOCAL_CAP, noLocal, REGION + 0x60, 16,
            () -> mem.storeCapability(noLocal, offset, value(Value.SEALED_LOCAL)),
            "sealed local value without STORE_LOCAL_CAP");

        mem.storeCapability(noLocal, offset, value(Value.GLOBAL));
        assertEquals(value(Value.GLOBAL), mem.loadCapability(region, offset));
        mem.storeCapability(noLocal, offset, value(Value.UNTAGGED_LOCAL));
        assertFalse(raw.isTagged(REGION + 0x60));
        mem.storeCapability(region, offset, value(Value.LOCAL));
        assertEquals(value(Value.LOCAL), mem.loadCapability(region, offset));
    }

    @Test
    void shouldStripTagWhenLoadingThroughAuthorityWithoutLoadCap()
    {
        final Capability stored = value(Value.GLOBAL);
        final long at = REGION + 0x40;
        final long offset = at - region.address();
        mem.storeCapability(region, offset, stored);
        final Capability noLoadCap = region.andPermissions(~LOAD_CAP);

        final Capability stripped = mem.loadCapability(noLoadCap, offset);

        assertFalse(stripped.isTagged(), "loaded through an authority without LOAD_CAP: " + stripped);
        assertEquals(stored.withTagCleared(), stripped, "same bits, tag cleared");
        assertEquals(stored.base(), stripped.base());
        assertEquals(stored.top(), stripped.top());
        assertEquals(stored.permissions(), stripped.permissions());
        assertTrue(raw.isTagged(at), "the load must not clear the tag in memory");
        assertEquals(stored, mem.loadCapability(region, offset), "with LOAD_CAP the tag comes back");
        assertEquals(stored.address(), mem.loadLong(noLoadCap, offset), "a data load reads the address word");
        assertEquals(stored.metadataBits(), mem.loadLong(noLoadCap, offset + 8), "and the metadata word");

        // A copy through a source without LOAD_CAP is a data copy: the destination tag clears (§2.6, §3.1).
        mem.storeCapability(region, offset + 32, victim(at + 32));
        mem.copy(region, offset + 32, noLoadCap, offset, 16);
        assertFalse(raw.isTagged(at + 32), "tag travelled through a source without LOAD_CAP");
        assertEquals(stored.address(), raw.loadLong(at + 32), "bytes still travel");
        mem.copy(region, offset + 64, region, offset, 16);
        assertEquals(stored, mem.loadCapability(region, offset + 64), "with LOAD_CAP the tag travels");
    }

    // ----------------------------------------------------------------------------------------------------------
    // Copies.

    private enum DstDefect
    {
        NONE, UNTAGGED, MISSING_STORE, OUT_OF_BOUNDS
    }

    private enum SrcPosition
    {
        IN, BELOW_BASE_BY_ONE, OVER_TOP_BY_ONE
    }

    @Test
    void shouldCheckCopySourceFirstWhenCopySourceBreaksAnyCombinationOfChecks()
    {
        int faults = 0;
        for (final boolean untagged : new boolean[] {false, true})
        {
            for (final Seal seal : Seal.values())
            {
                for (final int missing : new int[] {0, LOAD, LOAD_CAP})
                {
                    final Capability src = authority(source, untagged, seal, missing);
                    for (final SrcPosition position : SrcPosition.values())
                    {
                        final long from = switch (position)
                        {
                            case IN -> SOURCE + 16;
                            case BELOW_BASE_BY_ONE -> SOURCE - 1;
                            case OVER_TOP_BY_ONE -> SOURCE + SIZE - COPY_LENGTH + 1;
                        };
                        for (final DstDefect defect : DstDefect.values())
                        {
                            paintRegions();
                            final Capability dst = switch (defect)
                            {
                                case NONE, OUT_OF_BOUNDS -> region;
                                case UNTAGGED -> region.withTagCleared();
                                case MISSING_STORE -> region.andPermissions(~STORE);
                            };
                            final long to = defect == DstDefect.OUT_OF_BOUNDS ? REGION - 1 : REGION + 48;
                            final long srcOffset = from - src.address();
                            final long dstOffset = to - dst.address();
                            final String what = "copy(dst 0x" + Long.toHexString(to) + " " + defect + ", src 0x"
                                + Long.toHexString(from) + " " + position + " through " + src + ")";
                            final FaultCause srcCause = untagged ? FaultCause.TAG
                                : seal != Seal.NONE ? FaultCause.SEAL
                                : (missing & LOAD) != 0 ? FaultCause.PERMIT_LOAD
                                : position != SrcPosition.IN ? FaultCause.LENGTH
                                : null;
                            final FaultCause dstCause = switch (defect)
                            {
                                case NONE -> null;
                                case UNTAGGED -> FaultCause.TAG;
                                case MISSING_STORE -> FaultCause.PERMIT_STORE;
                                case OUT_OF_BOUNDS -> FaultCause.LENGTH;
                            };
                            final Runnable copy = () -> mem.copy(dst, dstOffset, src, srcOffset, COPY_LENGTH);
                            if (srcCause != null)
                            {
                                assertFault(srcCause, src, from, COPY_LENGTH, copy, what);
                                faults++;
                            }
                            else if (dstCause != null)
                            {
                                assertFault(dstCause, dst, to, COPY_LENGTH, copy, what);
                                faults++;
                            }
                            else
                            {
                                copy.run();
                            }
                        }
                    }
                }
            }
        }
        assertTrue(faults > 150, "matrix too small: " + faults);
    }

    /** What the copy source holds in the two granules at SOURCE + 32 and SOURCE + 64, both fully covered. */
    private enum Content
    {
        NO_TAGS, GLOBAL, LOCAL, GLOBAL_THEN_LOCAL
    }

    private enum DstPosition
    {
        IN_ALIGNED, IN_UNALIGNED, BELOW_BASE_BY_ONE, OVER_TOP_BY_ONE
    }

    private void prepareSource(final Content content)
    {
        final byte[] data = new byte[(int)(SIZE + 2 * AROUND)];
        for (int i = 0; i < data.length; i++)
        {
            data[i] = (byte)(i * 31 + 3);
        }
        raw.storeBytes(SOURCE - AROUND, data, 0, data.length);
        final Capability global = value(Value.GLOBAL);
        final Capability local = value(Value.LOCAL);
        switch (content)
        {
            case NO_TAGS ->
            {
            }
            case GLOBAL -> mem.storeCapability(source, 32, global);
            case LOCAL -> mem.storeCapability(source, 32, local);
            case GLOBAL_THEN_LOCAL ->
            {
                mem.storeCapability(source, 32, global);
                mem.storeCapability(source, 64, local);
            }
        }
    }

    @Test
    void shouldReportHighestPriorityCauseWhenCopyDestinationBreaksAnyCombinationOfChecks()
    {
        final int[] missingSets = {0, STORE, STORE_CAP, STORE_LOCAL_CAP, STORE | STORE_CAP, STORE | STORE_LOCAL_CAP,
            STORE_CAP | STORE_LOCAL_CAP, STORE | STORE_CAP | STORE_LOCAL_CAP};
        int faults = 0;
        int travelled = 0;
        for (final Content content : Content.values())
        {
            for (final boolean srcLoadCap : new boolean[] {true, false})
            {
                final Capability src = srcLoadCap ? source : source.andPermissions(~LOAD_CAP);
                for (final boolean sameAlignment : new boolean[] {true, false})
                {
                    for (final boolean untagged : new boolean[] {false, true})
                    {
                        for (final Seal seal : Seal.values())
                        {
                            for (final int missing : missingSets)
                            {
                                final Capability dst = authority(region, untagged, seal, missing);
                                for (final DstPosition position : DstPosition.values())
                                {
                                    paint(REGION - AROUND, REGION + SIZE + AROUND);
                                    prepareSource(content);
                                    final long to = switch (position)
                                    {
                                        case IN_ALIGNED -> REGION + 48;
                                        case IN_UNALIGNED -> REGION + 48 + 7;
                                        case BELOW_BASE_BY_ONE -> REGION - 1;
                                        case OVER_TOP_BY_ONE -> REGION + SIZE - COPY_LENGTH + 1;
                                    };
                                    final long from = SOURCE + 16 + Math.floorMod(to + (sameAlignment ? 0 : 5), 16);
                                    final boolean outOfBounds = position == DstPosition.BELOW_BASE_BY_ONE
                                        || position == DstPosition.OVER_TOP_BY_ONE;
                                    final boolean travel = srcLoadCap && sameAlignment;
                                    final long firstTagged = content == Content.NO_TAGS ? -1 : SOURCE + 32;
                                    final long firstLocal = switch (content)
                                    {
                                        case NO_TAGS, GLOBAL -> -1;
                                        case LOCAL -> SOURCE + 32;
                                        case GLOBAL_THEN_LOCAL -> SOURCE + 64;
                                    };
                                    FaultCause expected = null;
                                    long address = to;
                                    long size = COPY_LENGTH;
                                    if (untagged)
                                    {
                                        expected = FaultCause.TAG;
                                    }
                                    else if (seal != Seal.NONE)
                                    {
                                        expected = FaultCause.SEAL;
                                    }
                                    else if ((missing & STORE) != 0)
                                    {
                                        expected = FaultCause.PERMIT_STORE;
                                    }
                                    else if (travel && firstTagged >= 0 && (missing & STORE_CAP) != 0)
                                    {
                                        expected = FaultCause.PERMIT_STORE_CAP;
                                        address = to + (firstTagged - from);
                                        size = 16;
                                    }
                                    else if (travel && firstLocal >= 0 && (missing & STORE_LOCAL_CAP) != 0)
                                    {
                                        expected = FaultCause.PERMIT_STORE_LOCAL_CAP;
                                        address = to + (firstLocal - from);
                                        size = 16;
                                    }
                                    else if (outOfBounds)
                                    {
                                        expected = FaultCause.LENGTH;
                                    }
                                    final String what = "copy(dst 0x" + Long.toHexString(to) + " " + position
                                        + " through " + dst + ", src 0x" + Long.toHexString(from) + " through " + src
                                        + ", " + COPY_LENGTH + ") holding " + content;
                                    final long dstOffset = to - dst.address();
                                    final long srcOffset = from - src.address();
                                    final Runnable copy = () -> mem.copy(dst, dstOffset, src, srcOffset, COPY_LENGTH);
                                    if (expected == null)
                                    {
                                        final byte[] bytes = new byte[(int)COPY_LENGTH];
                                        raw.loadBytes(from, bytes, 0, bytes.length);
                                        copy.run();
                                        travelled += checkCopied(to, from, bytes, travel, content, what);
                                        continue;
                                    }
                                    faults++;
                                    assertFault(expected, dst, address, size, copy, what);
                                }
                            }
                        }
                    }
                }
            }
        }
        System.out.println("copy destination matrix: " + faults + " faults, " + travelled + " tags travelled");
        assertTrue(faults > 2900 && travelled >= 10, "matrix too small: " + faults + " faults, " + travelled);
    }

    /** @return how many tags travelled; checks bytes and that exactly the travelling tags landed. */
    private int checkCopied(final long to, final long from, final byte[] bytes, final boolean travel,
        final Content content, final String what)
    {
        final byte[] now = new byte[bytes.length];
        raw.loadBytes(to, now, 0, now.length);
        assertArrayEquals(bytes, now, what + ": bytes");
        final List<Long> landings = new ArrayList<>();
        if (travel && content != Content.NO_TAGS)
        {
            landings.add(to + (SOURCE + 32 - from));
            if (content == Content.GLOBAL_THEN_LOCAL)
            {
                landings.add(to + (SOURCE + 64 - from));
            }
        }
        for (long g = to & -16L; g < to + bytes.length; g += 16)
        {
            assertEquals(landings.contains(g), raw.isTagged(g), what + ": tag of granule 0x" + Long.toHexString(g));
        }
        return landings.size();
    }

    /**
     * Pins a bug: a copy whose destination lacks STORE_CAP while a tag would land, and which is also out of bounds,
     * must report PERMIT_STORE_CAP (priority 8 in ISAv9, above LENGTH at 11; {@link FaultCause} promises "the one
     * listed first"). {@code CapabilityMemory.copy} runs {@code checkStore(dst, ...)}, bounds included, before
     * {@code checkTagsMayLand}, so it reports LENGTH.
     */
    @Test
    void shouldFaultPermitStoreCapBeforeLengthWhenCopyDestinationIsOutOfBounds()
    {
        prepareSource(Content.GLOBAL);
        paint(REGION - AROUND, REGION + SIZE + AROUND);
        final Capability dst = region.andPermissions(~STORE_CAP);
        final long to = REGION - 1;
        final long from = SOURCE + 31;
        assertFault(FaultCause.PERMIT_STORE_CAP, dst, to + (SOURCE + 32 - from), 16,
            () -> mem.copy(dst, to - dst.address(), source, from - source.address(), COPY_LENGTH),
            "copy of a tagged granule to 0x" + Long.toHexString(to) + " (one byte below the base) through " + dst);
    }

    /** As above for PERMIT_STORE_LOCAL_CAP (priority 9, above LENGTH). */
    @Test
    void shouldFaultPermitStoreLocalCapBeforeLengthWhenCopyDestinationIsOutOfBounds()
    {
        prepareSource(Content.LOCAL);
        paint(REGION - AROUND, REGION + SIZE + AROUND);
        final Capability dst = region.andPermissions(~STORE_LOCAL_CAP);
        final long to = REGION + SIZE - COPY_LENGTH + 1;
        final long from = SOURCE + 16 + (to & 15);
        assertFault(FaultCause.PERMIT_STORE_LOCAL_CAP, dst, to + (SOURCE + 32 - from), 16,
            () -> mem.copy(dst, to - dst.address(), source, from - source.address(), COPY_LENGTH),
            "copy of a tagged local granule to 0x" + Long.toHexString(to) + " (one byte past the top) through " + dst);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Address arithmetic.

    @Test
    void shouldFaultLengthWhenOffsetWrapsAddressAroundZeroOrPast2To63()
    {
        paintRegions();
        final long a = region.address();
        final long[] offsets = {-a - 1, -a - 16, -a - 8, Long.MIN_VALUE, Long.MIN_VALUE + 16, Long.MAX_VALUE,
            Long.MAX_VALUE - 15 - (a & 15), -1L - a - (1L << 62)};
        for (final long offset : offsets)
        {
            final long address = a + offset;
            final String at = " at 0x" + Long.toHexString(address) + " (offset " + offset + ")";
            for (final DataAccess access : DATA_ACCESSES)
            {
                assertFault(FaultCause.LENGTH, region, address, access.size(),
                    () -> access.call().run(mem, region, offset), access.name() + at);
            }
            assertFault(FaultCause.LENGTH, region, address, 16, () -> mem.loadCapability(region, offset),
                "loadCapability" + at);
            assertFault(FaultCause.LENGTH, region, address, 16,
                () -> mem.storeCapability(region, offset, value(Value.GLOBAL)), "storeCapability" + at);
            assertFault(FaultCause.LENGTH, region, address, 16, () -> mem.copy(region, 16, region, offset, 16),
                "copy from" + at);
            assertFault(FaultCause.LENGTH, region, address, 16, () -> mem.copy(region, offset, region, 16, 16),
                "copy to" + at);
        }
        // An offset of -address lands exactly on 0: out of this authority's bounds too, but not wrapped.
        assertFault(FaultCause.LENGTH, region, 0, 8, () -> mem.loadLong(region, -a), "loadLong at 0");
    }

    @Test
    void shouldRejectNegativeLengthBeforeAnyCapabilityCheck()
    {
        paintRegions();
        final Capability untagged = region.withTagCleared();
        final List<Snapshot> before = snapshotRegions();
        for (final Runnable r : List.<Runnable>of(
            () -> mem.fill(untagged, 0, -1, (byte)0),
            () -> mem.copy(untagged, 0, untagged, 0, -1),
            () -> mem.loadBytes(untagged, 0, MemorySegment.ofArray(new byte[4]), 0, -1),
            () -> mem.storeBytes(untagged, 0, MemorySegment.ofArray(new byte[4]), 0, -1)))
        {
            try
            {
                r.run();
                fail("a negative length was accepted");
            }
            catch (final IllegalArgumentException expected)
            {
                // The documented outcome: a programming error, not a capability fault.
            }
        }
        assertUnchanged(before, "negative lengths");
    }
}
