package dev.ufork.capability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Known-answer tests for {@link CheriConcentrate}; every expected value is worked out by hand from
 * the ISAv9 formulas (the derivations are in the comments).
 */
class CheriConcentrateTest
{
    private static final long MASK = CheriConcentrate.NULL_XOR_MASK;
    private static final long OTYPE_UNSEALED_BITS = 0x3FFFFL << 27;

    private static CheriConcentrate.BoundsEncoding bounds(final long base, final long length)
    {
        return CheriConcentrate.setBoundsLength(0L, base, length, new CheriConcentrate.BoundsEncoding());
    }

    @Test
    void nullMaskIsTheNullCapabilitysArchitecturalWord()
    {
        // NULL: otype all ones (bits 44:27), IE = 1, E = 52 = 0b110_100 so E[5:3] = 6 in bits 16:14
        // and E[2:0] = 4 in bits 2:0, B = 0, T[11:3] = 0 (T = 0x1000 is rebuilt from IE).
        final long expected = OTYPE_UNSEALED_BITS | (1L << 26) | (6L << 14) | 4L;
        assertEquals(0x0000_1fff_fc01_8004L, expected);
        assertEquals(expected, MASK);

        assertTrue(CheriConcentrate.internalExponent(0L));
        assertEquals(52, CheriConcentrate.exponent(0L));
        assertEquals(0, CheriConcentrate.mantissaB(0L));
        assertEquals(0x1000, CheriConcentrate.mantissaT(0L));
        assertEquals(ObjectType.UNSEALED, CheriConcentrate.objectType(0L));
        assertEquals(0, CheriConcentrate.permissions(0L));
        assertEquals(0, CheriConcentrate.flags(0L));
        assertEquals(0, CheriConcentrate.reserved(0L));
        assertEquals(0L, CheriConcentrate.decodeBase(0L, 0x1234L));
        assertEquals(0L, CheriConcentrate.decodeTop(0L, 0x1234L));
        assertTrue(CheriConcentrate.decodeTopHigh(0L, 0x1234L));
    }

    @Test
    void rootOfWholeSpaceIsNullPatternWithPermissions()
    {
        final long meta = CheriConcentrate.encode(0L, 0L, true, Permissions.ALL, ObjectType.UNSEALED, 0);
        // Architecturally: the NULL word plus perms 0xFFF at 59:48 and uperms 0xF at 63:60.
        assertEquals(MASK | (0xFFFL << 48) | (0xFL << 60), CheriConcentrate.toArchitectural(meta));
        // In memory the NULL part cancels out: only the permission bits remain.
        assertEquals(0xFFFF_0000_0000_0000L, meta);

        final Capability root = Capability.root(0L, 0L, Permissions.ALL);
        assertEquals(meta, root.metadataBits());
        assertTrue(root.isTagged());
        assertEquals(0L, root.base());
        assertEquals(0L, root.top());
        assertTrue(root.isTopMax());
        assertEquals(-1L, root.length());
        assertEquals(Permissions.ALL, root.permissions());
    }

    @Test
    void shortRegionUsesTheExponentZeroFormat()
    {
        // [0x1000, 0x1020): length 0x20 < 4 KiB, so IE = 0, B = base[13:0] = 0x1000,
        // stored T = top[11:0] = 0x020. Decode: carry = (0x020 < 0x000) = 0, T[13:12] = B[13:12] = 1.
        final CheriConcentrate.BoundsEncoding enc = bounds(0x1000L, 0x20L);
        assertTrue(enc.exact());
        final long arch = CheriConcentrate.toArchitectural(enc.metadata());
        assertEquals((0x020L << 14) | 0x1000L, arch & CheriConcentrate.BOUNDS_FIELD_MASK);
        assertFalse(CheriConcentrate.internalExponent(enc.metadata()));
        assertEquals(0x1020, CheriConcentrate.mantissaT(enc.metadata()));
        assertEquals(0x1000L, enc.base());
        assertEquals(0x1020L, enc.top());
        assertFalse(enc.topHigh());
    }

    @Test
    void sixtyFourKibRegionEncodingAndWindow()
    {
        // [0x10000, 0x20000): length 2^16 has bit length 17, so E = 17 - 13 = 4, IE = 1.
        // B_ie = 0x10000 >> 7 = 0x200, T_ie = 0x20000 >> 7 = 0x400; T_ie - B_ie = 0x200 < 0x400: no retry.
        // Fields: T[11:3] = 0x400 & 0x1FF = 0, E[5:3] = 0; B[13:3] = 0x200, E[2:0] = 4.
        final CheriConcentrate.BoundsEncoding enc = bounds(0x10000L, 0x10000L);
        assertTrue(enc.exact());
        assertEquals(4, enc.exponent());
        assertEquals((1L << 26) | (0x200L << 3) | 4L,
                CheriConcentrate.toArchitectural(enc.metadata()) & CheriConcentrate.BOUNDS_FIELD_MASK);
        // Decode: B = 0x1000; carry = (0 < 0x000) = 0; T[13:12] = 1 + 0 + 1 = 2, so T = 0x2000.
        assertEquals(0x1000, CheriConcentrate.mantissaB(enc.metadata()));
        assertEquals(0x2000, CheriConcentrate.mantissaT(enc.metadata()));
        // Window: s = 2^(4+14) = 0x40000; R = B[13:11] - 1 = 1, so the window starts at 1 * 2^15.
        final long meta = enc.metadata();
        assertTrue(CheriConcentrate.isRepresentable(meta, 0x10000L, 0x8000L));
        assertFalse(CheriConcentrate.isRepresentable(meta, 0x10000L, 0x7FFFL));
        assertTrue(CheriConcentrate.isRepresentable(meta, 0x10000L, 0x47FFFL));
        assertFalse(CheriConcentrate.isRepresentable(meta, 0x10000L, 0x48000L));
        // Outside the window the bounds decode to a neighbouring region's.
        assertEquals(0x10000L + 0x40000L, CheriConcentrate.decodeBase(meta, 0x48000L));
    }

    @Test
    void alignmentRequirementsFromTheReference()
    {
        // cheri.md 1.6: 4 KiB -> 8 B, 1 MiB -> 2 KiB, 1 GiB -> 2 MiB.
        assertEquals(-8L, CheriConcentrate.representableAlignmentMask(4096L));
        assertEquals(-2048L, CheriConcentrate.representableAlignmentMask(1L << 20));
        assertEquals(-(2L << 20), CheriConcentrate.representableAlignmentMask(1L << 30));
        // Below 4 KiB no alignment is needed.
        assertEquals(-1L, CheriConcentrate.representableAlignmentMask(4095L));
        assertEquals(-1L, CheriConcentrate.representableAlignmentMask(0L));
        assertEquals(4095L, CheriConcentrate.representableLength(4095L));
    }

    @Test
    void oneMibRegionOnFourKibBoundaryHasExponentEight()
    {
        // Length 2^20: bit length 21, E = 8, kept bits start at E + 3 = 11 (2 KiB granules).
        final CheriConcentrate.BoundsEncoding enc = bounds(0x7000_0000_1000L, 1L << 20);
        assertTrue(enc.exact());
        assertEquals(8, enc.exponent());
        assertTrue(CheriConcentrate.internalExponent(enc.metadata()));
        assertEquals(0x7000_0000_1000L, enc.base());
        assertEquals(0x7000_0010_1000L, enc.top());
        // Misaligned by 1 KiB: not exact, base rounds down and top up to 2 KiB.
        final CheriConcentrate.BoundsEncoding off = bounds(0x7000_0000_1400L, 1L << 20);
        assertFalse(off.exact());
        assertEquals(0x7000_0000_1000L, off.base());
        assertEquals(0x7000_0010_1800L, off.top());
    }

    @Test
    void representableLengthRoundsAndRetriesWithLargerExponent()
    {
        // 4097: E = 0 with IE (bit 12 set), granule 8: T_ie = 512 + 1 (lost bits) = 513, no overflow.
        assertEquals(4104L, CheriConcentrate.representableLength(4097L));
        // 8191: E = 0, T_ie = 1023 + 1 = 1024 = 2^10: overflow, retry with E = 1 (granule 16):
        // T_ie = 511 + 1 = 512, so the length becomes 512 * 16 = 8192.
        assertEquals(8192L, CheriConcentrate.representableLength(8191L));
        assertEquals(-16L, CheriConcentrate.representableAlignmentMask(8191L));
        final CheriConcentrate.BoundsEncoding enc = bounds(0L, 8191L);
        assertEquals(1, enc.exponent());
        assertFalse(enc.exact());
        assertEquals(8192L, enc.top());
        // 0xFFFFFF (the cheritest regression): E = 11, T_ie = 0x3FF + 1 overflows; E = 12 gives 0x1000000.
        assertEquals(0x1000000L, CheriConcentrate.representableLength(0xFFFFFFL));
        assertEquals(12, bounds(0L, 0xFFFFFFL).exponent());
        // Lengths that round up to 2^64 wrap to 0 as the 64-bit CRRL result does.
        assertEquals(0L, CheriConcentrate.representableLength(-1L));
    }

    @Test
    void regionEndingAtTopOfAddressSpace()
    {
        // [2^64 - 4 KiB, 2^64): E = 0 with IE; top bit 64 must come back set.
        final CheriConcentrate.BoundsEncoding enc = bounds(-4096L, 4096L);
        assertTrue(enc.exact());
        assertEquals(-4096L, enc.base());
        assertEquals(0L, enc.top());
        assertTrue(enc.topHigh());
        // From an address just below the base the window still reaches, the decode is the same.
        assertTrue(CheriConcentrate.decodesTo(enc.metadata(), -4096L - 1024L, -4096L, 0L, true));
        // And from an address that wrapped past 2^64 into the low region.
        assertTrue(CheriConcentrate.decodesTo(enc.metadata(), 100L, -4096L, 0L, true));
    }

    @Test
    void regionStartingAtZeroSeenFromTheTopOfTheAddressSpace()
    {
        // [0x100, 0x200) viewed from address 2^64 - 0x100: the window wraps around zero, and the
        // edge fix must clear the top's bit 64 that the region arithmetic produces.
        final CheriConcentrate.BoundsEncoding enc = bounds(0x100L, 0x100L);
        assertTrue(CheriConcentrate.decodesTo(enc.metadata(), -0x100L, 0x100L, 0x200L, false));
    }

    @Test
    void publishedRegressionVectors()
    {
        // Input/output pairs from the cheri-compressed-cap regression tests (values only).
        // [0xffff002d01ffc000, 0xffff002d027fc000) with all permissions: raw word 0xffff1ffffffe7ffb.
        final long meta = CheriConcentrate.encode(0xffff_002d_01ff_c000L, 0xffff_002d_027f_c000L, false,
                Permissions.ALL, ObjectType.UNSEALED, 0);
        assertEquals(0xffff_1fff_fffe_7ffbL, CheriConcentrate.toArchitectural(meta));
        // Seen from address 0 the same word decodes to [0xffffffffffffc000, 2^64 + 0x7fc000).
        assertEquals(0xffff_ffff_ffff_c000L, CheriConcentrate.decodeBase(meta, 0L));
        assertEquals(0x7f_c000L, CheriConcentrate.decodeTop(meta, 0L));
        assertTrue(CheriConcentrate.decodeTopHigh(meta, 0L));
        assertFalse(CheriConcentrate.isRepresentable(meta, 0xffff_002d_0201_3ff6L, 0L));

        // Fuzzer input: raw 0x00f58dffffffffff at 0xf806ffffffff3e0a has base = top = 0xff80000000000000.
        final long fuzz = CheriConcentrate.toMemory(0x00f5_8dff_ffff_ffffL);
        assertTrue(CheriConcentrate.decodesTo(fuzz, 0xf806_ffff_ffff_3e0aL, 0xff80_0000_0000_0000L,
                0xff80_0000_0000_0000L, false));

        // CSetBounds of 0xffffff bytes at 0xffffffffff000000 rounds to 0x1000000 bytes (top = 2^64).
        final CheriConcentrate.BoundsEncoding a = bounds(0xffff_ffff_ff00_0000L, 0xff_ffffL);
        assertFalse(a.exact());
        assertEquals(0xffff_ffff_ff00_0000L, a.base());
        assertEquals(0L, a.top());
        assertTrue(a.topHigh());
        // 0x10000000 bytes at address 7 become [0, 0x10080000).
        final CheriConcentrate.BoundsEncoding b = bounds(7L, 0x1000_0000L);
        assertEquals(0L, b.base());
        assertEquals(0x1008_0000L, b.top());
        // 0x300000 bytes at 0x160600000 are exact.
        assertTrue(bounds(0x1_6060_0000L, 0x30_0000L).exact());
        // 3249 bytes at 0xFFFFFFFFFFFFF934 of an untagged NULL-derived value: exact, top past 2^64.
        final Capability c = Capability.NULL.withAddress(0xFFFF_FFFF_FFFF_F934L).setBounds(3249L);
        assertFalse(c.isTagged());
        assertEquals(0xFFFF_FFFF_FFFF_F934L, c.base());
        assertEquals(0b101_1110_0101L, c.top());
        assertTrue(c.isTopMax());
        assertEquals(3249L, c.length());
    }

    @Test
    void fieldExtractorsReadTheirBitPositions()
    {
        long m = 0L;
        m = CheriConcentrate.withPermissions(m, Permission.LOAD.mask() | Permission.USER2.mask());
        assertEquals(1L << (48 + 2), CheriConcentrate.toArchitectural(m) & (0xFFFL << 48));
        assertEquals(1L << (60 + 2), CheriConcentrate.toArchitectural(m) & (0xFL << 60));
        m = CheriConcentrate.withObjectType(m, 5);
        assertEquals(5L << 27, CheriConcentrate.toArchitectural(m) & (0x3FFFFL << 27));
        assertEquals(5, CheriConcentrate.objectType(m));
        assertEquals(5, CheriConcentrate.objectTypeRaw(m));
        m = CheriConcentrate.withObjectType(m, ObjectType.SENTRY);
        assertEquals(0x3FFFE, CheriConcentrate.objectTypeRaw(m));
        assertEquals(ObjectType.SENTRY, CheriConcentrate.objectType(m));
        m = CheriConcentrate.withFlags(m, 1);
        assertEquals(1, CheriConcentrate.flags(m));
        assertEquals(1L << 45, CheriConcentrate.toArchitectural(m) & (1L << 45));
        assertEquals(2, CheriConcentrate.reserved(1L << 47));
        // Bits 12..14 of a permission mask have no storage and are dropped.
        assertEquals(0, CheriConcentrate.permissions(CheriConcentrate.withPermissions(0L, 0x7000)));
        // The bounds are untouched by all of that.
        assertEquals(0L, CheriConcentrate.decodeBase(m, 42L));
        assertTrue(CheriConcentrate.decodeTopHigh(m, 42L));
    }

    @Test
    void encodeRejectsInexactOrInvertedBounds()
    {
        assertThrows(IllegalArgumentException.class,
                () -> CheriConcentrate.encode(0x1001L, 0x1001L + 8192L, false, 0, ObjectType.UNSEALED, 0));
        assertThrows(IllegalArgumentException.class,
                () -> CheriConcentrate.encode(0x2000L, 0x1000L, false, 0, ObjectType.UNSEALED, 0));
        assertThrows(IllegalArgumentException.class,
                () -> CheriConcentrate.encode(0L, 1L, true, 0, ObjectType.UNSEALED, 0));
        final long ok = CheriConcentrate.encode(0x1000L, 0x3000L, false, Permissions.DATA_READ, 7, 1);
        assertTrue(CheriConcentrate.decodesTo(ok, 0x1000L, 0x1000L, 0x3000L, false));
        assertEquals(Permissions.DATA_READ, CheriConcentrate.permissions(ok));
        assertEquals(7, CheriConcentrate.objectType(ok));
        assertEquals(1, CheriConcentrate.flags(ok));
    }

    @Test
    void derivableEncodingDetectsNonCanonicalBoundsFields()
    {
        // Canonical: length 0x20 uses IE = 0.
        final long canonical = bounds(0x1000L, 0x20L).metadata();
        assertTrue(CheriConcentrate.isDerivableEncoding(canonical, 0x1000L));
        // Every IE = 1 word with E <= 50 decodes to a length in [2^(E+12), 2^(E+13)), which is exactly
        // the range CSetBounds picks E for, so such words are canonical: here IE = 1, E = 0,
        // B = 0x1000, T[11:0] = 0x020 decodes to [0x1000, 0x2020) and re-encodes the same.
        final long ie = CheriConcentrate.toMemory((1L << 26) | (0x020L << 14) | 0x1000L | OTYPE_UNSEALED_BITS);
        assertTrue(CheriConcentrate.decodesTo(ie, 0x1000L, 0x1000L, 0x2020L, false));
        assertTrue(CheriConcentrate.isDerivableEncoding(ie, 0x1000L));
        // An exponent above 52 is clamped by decode but never produced.
        final long bigE = CheriConcentrate.toMemory((1L << 26) | (7L << 14) | 7L | OTYPE_UNSEALED_BITS);
        assertFalse(CheriConcentrate.isDerivableEncoding(bigE, 0L));
        final long e53 = CheriConcentrate.toMemory((1L << 26) | (6L << 14) | 5L | OTYPE_UNSEALED_BITS);
        assertEquals(53, CheriConcentrate.exponent(e53));
        assertFalse(CheriConcentrate.isDerivableEncoding(e53, 0L));
        // NULL's own encoding is derivable: it is the root's.
        assertTrue(CheriConcentrate.isDerivableEncoding(0L, 0L));
    }

    @Test
    void permissionAndObjectTypeConstants()
    {
        assertEquals(0, Permission.GLOBAL.bit());
        assertEquals(1 << 11, Permission.SET_CID.mask());
        assertEquals(15, Permission.USER0.bit());
        assertEquals(1 << 18, Permission.USER3.mask());
        assertEquals(0x78FFF, Permissions.ALL);
        int all = 0;
        for (final Permission p : Permission.values())
        {
            all |= p.mask();
        }
        assertEquals(Permissions.ALL, all);
        assertEquals(Permissions.ALL, Permissions.of(Permission.values()));
        assertTrue(Permissions.isValid(Permissions.ALL));
        assertFalse(Permissions.isValid(1 << 12));
        assertFalse(Permissions.isValid(1 << 19));
        assertEquals(Permission.LOAD.mask() | Permission.STORE.mask() | Permission.GLOBAL.mask(), Permissions.DATA_READ_WRITE);
        assertEquals("rwRWLG", Permissions.toString(Permissions.CAP_READ_WRITE));
        assertEquals("-", Permissions.toString(Permissions.NONE));
        assertEquals("r?1000", Permissions.toString(Permission.LOAD.mask() | (1 << 12)));
        assertTrue(Permissions.containsAll(Permissions.CAP_READ_WRITE, Permissions.DATA_READ));

        assertEquals(262_139, ObjectType.MAX_USER);
        assertEquals(0x3FFFB, ObjectType.MAX_USER);
        assertEquals(ObjectType.UNSEALED, ObjectType.fromRaw(0x3FFFF));
        assertEquals(ObjectType.SENTRY, ObjectType.fromRaw(0x3FFFE));
        assertEquals(ObjectType.RESERVED_3, ObjectType.fromRaw(0x3FFFD));
        assertEquals(ObjectType.RESERVED_4, ObjectType.fromRaw(0x3FFFC));
        assertEquals(ObjectType.MAX_USER, ObjectType.fromRaw(0x3FFFB));
        assertEquals(0x3FFFE, ObjectType.toRaw(ObjectType.SENTRY));
        assertTrue(ObjectType.isUser(0));
        assertFalse(ObjectType.isUser(ObjectType.SENTRY));
        assertTrue(ObjectType.isReservedSealed(ObjectType.SENTRY));
        assertFalse(ObjectType.isReservedSealed(ObjectType.UNSEALED));
        assertFalse(ObjectType.isValid(-5));
        assertEquals("sentry", ObjectType.toString(ObjectType.SENTRY));
        assertEquals("reserved(-3)", ObjectType.toString(-3));
    }

    @Test
    void compare65AndHex65()
    {
        assertTrue(CheriConcentrate.compare65(-1L, false, 0L, true) < 0);
        assertTrue(CheriConcentrate.compare65(0L, true, -1L, false) > 0);
        assertEquals(0, CheriConcentrate.compare65(5L, true, 5L, true));
        assertTrue(CheriConcentrate.compare65(1L, false, -1L, false) < 0);
        assertEquals("0x10000000000000000", CheriConcentrate.hex65(0L, true));
        assertEquals("0x1000000000000abcd", CheriConcentrate.hex65(0xabcdL, true));
        assertEquals("0xffffffffffffffff", CheriConcentrate.hex65(-1L, false));
    }
}
