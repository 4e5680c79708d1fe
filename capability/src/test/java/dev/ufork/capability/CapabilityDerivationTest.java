package dev.ufork.capability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** The ISAv9 derivation rules of {@link Capability}: monotonicity, sealing, and CBuildCap. */
class CapabilityDerivationTest
{
    private static final Capability ROOT = Capability.root(0L, 0L, Permissions.ALL);

    /** Sealing authority over the otype space [0, 2^18), which includes the reserved values. */
    private static final Capability SEAL_ROOT = Capability.root(0L, 1L << 18, Permissions.SEALING);

    private static final int EXEC = Permission.EXECUTE.mask();
    private static final int GLOBAL = Permission.GLOBAL.mask();

    private static Capability region(final long base, final long length, final int perms)
    {
        final Capability c = ROOT.withAddress(base).setBoundsExact(length).andPermissions(perms);
        assertTrue(c.isTagged(), () -> "fixture not exact: " + c);
        return c;
    }

    private static Capability sealer(final long type)
    {
        return SEAL_ROOT.withAddress(type);
    }

    private static boolean within(final Capability inner, final Capability outer)
    {
        return Long.compareUnsigned(inner.base(), outer.base()) >= 0
                && CheriConcentrate.compare65(inner.top(), inner.isTopMax(), outer.top(), outer.isTopMax()) <= 0;
    }

    // ------------------------------------------------------------------------------------------
    // Basic values
    // ------------------------------------------------------------------------------------------

    @Test
    void nullIsUntaggedWholeSpaceWithoutPermissions()
    {
        final Capability n = Capability.NULL;
        assertFalse(n.isTagged());
        assertEquals(0L, n.address());
        assertEquals(0L, n.base());
        assertEquals(0L, n.top());
        assertTrue(n.isTopMax());
        assertEquals(-1L, n.length(), "CGetLen saturates at 2^64 - 1");
        assertEquals(0L, n.offset());
        assertEquals(0, n.permissions());
        assertEquals(ObjectType.UNSEALED, n.objectType());
        assertFalse(n.isSealed());
        assertEquals(0, n.flags());
        assertEquals(0L, n.metadataBits());
        // All-zero memory decodes to NULL (a fresh object, so loads have one allocation site the JIT can elide).
        assertEquals(Capability.NULL, Capability.fromMemory(0L, 0L, false));
        assertEquals("0x0 [-,0x0-0x10000000000000000] (invalid)", n.toString());
        // An integer in a capability: any address is representable with NULL's bounds.
        final Capability i = n.add(0x1234_5678L);
        assertEquals(0x1234_5678L, i.address());
        assertEquals(0x1234_5678L, i.offset());
        assertEquals(0L, i.metadataBits());
    }

    @Test
    void rootHasExactBoundsAndRejectsBadArguments()
    {
        final Capability r = Capability.root(0x1000L, 0x3000L, Permissions.DATA_READ_WRITE);
        assertTrue(r.isTagged());
        assertEquals(0x1000L, r.address());
        assertEquals(0x1000L, r.base());
        assertEquals(0x3000L, r.top());
        assertFalse(r.isTopMax());
        assertEquals(0x2000L, r.length());
        assertEquals(Permissions.DATA_READ_WRITE, r.permissions());
        assertEquals("0x1000 [rwG,0x1000-0x3000]", r.toString());
        assertThrows(IllegalArgumentException.class, () -> Capability.root(0x1001L, 0x1001L + 8192L, Permissions.ALL));
        assertThrows(IllegalArgumentException.class, () -> Capability.root(0x2000L, 0x1000L, Permissions.ALL));
        assertThrows(IllegalArgumentException.class, () -> Capability.root(0L, 0x1000L, 1 << 12));
        final Capability high = Capability.root(-4096L, 0L, Permissions.DATA_READ);
        assertEquals(-4096L, high.base());
        assertTrue(high.isTopMax());
        assertEquals(4096L, high.length());
    }

    @Test
    void equalityIsExactAndAddressEqualsComparesAddressesOnly()
    {
        final Capability a = region(0x4000L, 0x100L, Permissions.CAP_READ_WRITE);
        final Capability b = region(0x4000L, 0x100L, Permissions.CAP_READ_WRITE);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, a.withTagCleared());
        assertNotEquals(a, a.andPermissions(Permissions.DATA_READ));
        assertTrue(a.addressEquals(a.withTagCleared()));
        assertTrue(a.addressEquals(Capability.NULL.withAddress(0x4000L)));
        assertFalse(a.addressEquals(a.add(1)));
        assertEquals(a, Capability.fromMemory(a.addressBits(), a.metadataBits(), true));
        final Capability untagged = a.withTagCleared();
        assertSame(untagged, untagged.withTagCleared());
    }

    @Test
    void toStringShowsSealingAndValidity()
    {
        final Capability c = region(0x1000L, 0x1000L, Permissions.of(Permission.LOAD, Permission.STORE,
                Permission.LOAD_CAP, Permission.STORE_CAP)).add(0x40);
        assertEquals("0x1040 [rwRW,0x1000-0x2000]", c.toString());
        assertEquals("0x1040 [rwRW,0x1000-0x2000] sealed(5)", c.seal(sealer(5)).toString());
        assertEquals("0x1040 [rwRW,0x1000-0x2000] sealed(5) (invalid)", c.seal(sealer(5)).withTagCleared().toString());
        final Capability code = region(0x1000L, 0x1000L, Permissions.CODE).sealEntry();
        assertEquals("0x1000 [rxRG,0x1000-0x2000] sentry", code.toString());
        assertEquals("rwxRWLGSUIAC0123", Permissions.toString(Permissions.ALL));
    }

    // ------------------------------------------------------------------------------------------
    // Address changes
    // ------------------------------------------------------------------------------------------

    @Test
    void addressChangesKeepTagOnlyWhileRepresentable()
    {
        // 64 KiB at 0x10000: E = 4, window [0x8000, 0x48000) (see CheriConcentrateTest).
        final Capability c = region(0x10000L, 0x10000L, Permissions.DATA_READ_WRITE);
        assertTrue(c.withAddress(0x1FFFFL).isTagged());
        assertTrue(c.withAddress(0x20000L).isTagged(), "one past the top is representable");
        assertTrue(c.withAddress(0x8000L).isTagged());
        assertTrue(c.withAddress(0x47FFFL).isTagged());
        final Capability below = c.withAddress(0x7FFFL);
        assertFalse(below.isTagged());
        assertEquals(0x7FFFL, below.address(), "the address always updates");
        final Capability above = c.add(0x38000L);
        assertFalse(above.isTagged());
        assertEquals(0x48000L, above.address());
        // Moving back does not restore the tag.
        assertFalse(above.withAddress(0x10000L).isTagged());
        assertSame(c, c.withAddress(c.address()));
        assertEquals(c, c.add(5).add(-5));
    }

    // ------------------------------------------------------------------------------------------
    // Bounds
    // ------------------------------------------------------------------------------------------

    @Test
    void setBoundsNarrowsFromTheAddress()
    {
        final Capability c = region(0x10000L, 0x10000L, Permissions.DATA_READ_WRITE);
        final Capability sub = c.add(0x100).setBounds(0x80);
        assertTrue(sub.isTagged());
        assertEquals(0x10100L, sub.base());
        assertEquals(0x10180L, sub.top());
        assertEquals(0x10100L, sub.address());
        assertEquals(c.permissions(), sub.permissions());
        // The whole capability again, and an empty one at the top.
        assertTrue(c.setBounds(0x10000L).isTagged());
        assertTrue(c.withAddress(0x20000L).setBounds(0).isTagged());
        // Past the top, below the base, and across 2^64.
        assertFalse(c.setBounds(0x10001L).isTagged());
        assertFalse(c.withAddress(0xFFFFL).setBounds(1).isTagged());
        assertFalse(ROOT.withAddress(-16L).setBounds(32).isTagged());
        assertTrue(ROOT.withAddress(-16L).setBounds(16).isTopMax());
        // Untagged in, untagged out.
        assertFalse(c.withTagCleared().setBounds(0x10).isTagged());
    }

    @Test
    void inexactBoundsRoundOutwardButExactVariantClearsTag()
    {
        final Capability c = region(0x100000L, 0x100000L, Permissions.DATA_READ_WRITE);
        // 0x1001 bytes at 0x100001: E = 0 with IE, granule 8: [0x100000, 0x101008).
        final Capability rounded = c.add(1).setBounds(0x1001L);
        assertTrue(rounded.isTagged());
        assertEquals(0x100000L, rounded.base());
        assertEquals(0x101008L, rounded.top());
        assertEquals(0x100001L, rounded.address());
        assertFalse(c.add(1).setBoundsExact(0x1001L).isTagged());
        assertTrue(c.setBoundsExact(0x1000L).isTagged());
    }

    @Test
    void andPermissionsOnlyRemoves()
    {
        final Capability c = region(0x2000L, 0x100L, Permissions.ALL);
        final Capability d = c.andPermissions(Permissions.DATA_READ_WRITE);
        assertTrue(d.isTagged());
        assertEquals(Permissions.DATA_READ_WRITE, d.permissions());
        assertEquals(Permissions.DATA_READ, d.andPermissions(Permissions.DATA_READ).permissions());
        // Adding back is impossible: AND with ALL leaves it as it is.
        assertEquals(d, d.andPermissions(Permissions.ALL));
        assertSame(d, d.andPermissions(-1));
        // The nonexistent bits 12..14 are ignored.
        assertEquals(0, c.andPermissions(0x7000).permissions());
        assertEquals(c.base(), d.base());
        assertEquals(c.top(), d.top());
    }

    // ------------------------------------------------------------------------------------------
    // Sealing
    // ------------------------------------------------------------------------------------------

    @Test
    void everyManipulationOfASealedCapabilityClearsItsTag()
    {
        final Capability c = region(0x8000L, 0x1000L, Permissions.ALL);
        for (final Capability sealed : new Capability[] {c.seal(sealer(42)), c.sealEntry()})
        {
            assertTrue(sealed.isTagged());
            assertTrue(sealed.isSealed());
            final Supplier<String> what = sealed::toString;
            assertFalse(sealed.withAddress(sealed.address()).isTagged(), what);
            final Capability moved = sealed.withAddress(0x8010L);
            assertFalse(moved.isTagged(), what);
            assertEquals(0x8010L, moved.address(), what);
            assertFalse(sealed.add(0).isTagged(), what);
            assertFalse(sealed.add(8).isTagged(), what);
            assertFalse(sealed.setBounds(0x10).isTagged(), what);
            assertFalse(sealed.setBoundsExact(0x10).isTagged(), what);
            assertFalse(sealed.andPermissions(Permissions.ALL).isTagged(), what);
            assertFalse(sealed.seal(sealer(43)).isTagged(), what);
            assertFalse(sealed.sealEntry().isTagged(), what);
            assertFalse(sealed.withTagCleared().isTagged(), what);
            // Moving and storing the value is fine: it is just bits with a tag.
            assertEquals(sealed, Capability.fromMemory(sealed.addressBits(), sealed.metadataBits(), true));
        }
    }

    @Test
    void sealNeedsAValidAuthorityAndAnUnsealedInput()
    {
        final Capability c = region(0x8000L, 0x1000L, Permissions.CAP_READ_WRITE);
        final Capability s = c.seal(sealer(7));
        assertTrue(s.isTagged());
        assertEquals(7, s.objectType());
        assertEquals(c.address(), s.address());
        assertEquals(c.base(), s.base());
        assertEquals(c.top(), s.top());
        assertEquals(c.permissions(), s.permissions());
        assertTrue(c.seal(sealer(0)).isTagged());
        assertTrue(c.seal(sealer(ObjectType.MAX_USER)).isTagged());

        assertFalse(c.seal(sealer(7).withTagCleared()).isTagged(), "untagged authority");
        assertFalse(c.seal(sealer(7).seal(sealer(9))).isTagged(), "sealed authority");
        assertFalse(c.seal(sealer(7).andPermissions(~Permission.SEAL.mask())).isTagged(), "no SEAL");
        assertFalse(c.seal(sealer(ObjectType.MAX_USER + 1)).isTagged(), "above the user otypes");
        final Capability narrow = sealer(100).setBounds(10);
        assertTrue(narrow.add(9).isTagged());
        assertTrue(c.seal(narrow.add(9)).isTagged());
        assertFalse(c.seal(narrow.add(10)).isTagged(), "authority address at its top");
        assertFalse(c.seal(narrow.add(-1)).isTagged(), "authority address below its base");
        assertFalse(c.withTagCleared().seal(sealer(7)).isTagged(), "untagged input");
        assertFalse(c.seal(sealer(7)).seal(sealer(7)).isTagged(), "already sealed");
        assertFalse(c.sealEntry().seal(sealer(7)).isTagged(), "sentry input");
    }

    @Test
    void unsealNeedsTheMatchingTypeAndCombinesGlobal()
    {
        final Capability c = region(0x8000L, 0x1000L, Permissions.CAP_READ_WRITE);
        final Capability s = c.seal(sealer(7));
        final Capability u = s.unseal(sealer(7));
        assertTrue(u.isTagged());
        assertEquals(c, u, "unsealing with a GLOBAL authority gives back the original");

        assertFalse(s.unseal(sealer(8)).isTagged(), "wrong type");
        assertFalse(s.unseal(sealer(7).withTagCleared()).isTagged(), "untagged authority");
        assertFalse(s.unseal(sealer(7).seal(sealer(1))).isTagged(), "sealed authority");
        assertFalse(s.unseal(sealer(7).andPermissions(~Permission.UNSEAL.mask())).isTagged(), "no UNSEAL");
        final Capability narrow = sealer(6).setBounds(1);
        assertFalse(s.unseal(narrow.add(1)).isTagged(), "authority address out of its bounds");
        assertFalse(c.unseal(sealer(ObjectType.toRaw(ObjectType.UNSEALED))).isTagged(), "unsealed input");
        assertFalse(s.withTagCleared().unseal(sealer(7)).isTagged(), "untagged input");
        final Capability unsealedAnyway = s.unseal(sealer(8));
        assertFalse(unsealedAnyway.isSealed(), "the Sail model unseals even when it clears the tag");

        // GLOBAL of the result = GLOBAL of both.
        final Capability local = c.andPermissions(~GLOBAL);
        final Capability localAuth = sealer(7).andPermissions(~GLOBAL);
        assertEquals(GLOBAL, s.unseal(sealer(7)).permissions() & GLOBAL);
        assertEquals(0, s.unseal(localAuth).permissions() & GLOBAL);
        assertEquals(0, local.seal(sealer(7)).unseal(sealer(7)).permissions() & GLOBAL);
        assertEquals(0, local.seal(sealer(7)).unseal(localAuth).permissions() & GLOBAL);
        assertTrue(s.unseal(localAuth).isTagged());
        assertEquals(c.permissions() & ~GLOBAL, s.unseal(localAuth).permissions());
    }

    @Test
    void sentriesNeedExecuteAndCannotBeUnsealed()
    {
        final Capability code = region(0x10000L, 0x1000L, Permissions.CODE);
        final Capability sentry = code.sealEntry();
        assertTrue(sentry.isTagged());
        assertTrue(sentry.isSentry());
        assertEquals(ObjectType.SENTRY, sentry.objectType());
        assertEquals(code.address(), sentry.address());
        assertFalse(code.andPermissions(~EXEC).sealEntry().isTagged(), "no EXECUTE");
        assertTrue(code.andPermissions(~EXEC).sealEntry().isSentry());
        assertFalse(code.seal(sealer(3)).sealEntry().isTagged(), "already sealed");
        // The otype the sealing root's address space calls 2^18 - 2 is the sentry's raw value, but
        // a sentry is a reserved type: CUnseal refuses it, as it does the other reserved ones.
        final long sentryRaw = ObjectType.toRaw(ObjectType.SENTRY);
        assertFalse(sentry.unseal(sealer(sentryRaw)).isTagged());
        for (final int reserved : new int[] {ObjectType.RESERVED_3, ObjectType.RESERVED_4})
        {
            final Capability r = Capability.fromMemory(code.addressBits(),
                    CheriConcentrate.withObjectType(code.metadataBits(), reserved), true);
            assertTrue(r.isSealed());
            assertEquals(reserved, r.objectType());
            assertFalse(r.unseal(sealer(ObjectType.toRaw(reserved))).isTagged());
        }
    }

    // ------------------------------------------------------------------------------------------
    // CBuildCap
    // ------------------------------------------------------------------------------------------

    @Test
    void buildCapRestoresExactlyDerivableValues(final TestInfo info)
    {
        final long seed = CodecPropertyTest.Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 20_000; i++)
        {
            final long len = CodecPropertyTest.Seeds.length(rnd);
            final long base = CodecPropertyTest.Seeds.base(rnd, len);
            final Capability auth = ROOT.withAddress(base).setBounds(len).andPermissions(rnd.nextInt() & Permissions.ALL);
            final Capability child = randomChild(rnd, auth);
            final Supplier<String> what = CodecPropertyTest.Seeds.message(seed, info,
                    () -> "auth " + auth + " child " + child);
            final Capability rebuilt = Capability.buildCap(auth, child.addressBits(), child.metadataBits());
            if (rebuilt.isTagged())
            {
                // Whatever comes back tagged (even from bits whose own tag was cleared) is within the authority.
                assertTrue(within(rebuilt, auth), what);
                assertEquals(0, rebuilt.permissions() & ~auth.permissions(), what);
                assertTrue(!rebuilt.isSealed() || rebuilt.isSentry(), what);
                assertTrue(!rebuilt.isSentry() || rebuilt.hasPermissions(EXEC), what);
            }
            if (!child.isTagged())
            {
                continue;
            }
            assertTrue(rebuilt.isTagged(), what);
            assertEquals(child.address(), rebuilt.address(), what);
            assertEquals(child.base(), rebuilt.base(), what);
            assertEquals(child.top(), rebuilt.top(), what);
            assertEquals(child.permissions(), rebuilt.permissions(), what);
            if (child.isSealed() && !child.isSentry())
            {
                assertEquals(ObjectType.UNSEALED, rebuilt.objectType(), what);
            }
            else
            {
                assertEquals(child, rebuilt, what);
            }
            // The root rebuilds anything derived from it.
            assertTrue(Capability.buildCap(ROOT, child.addressBits(), child.metadataBits()).isTagged(), what);
        }
    }

    private static Capability randomChild(final SplittableRandom rnd, final Capability auth)
    {
        Capability c = auth;
        final int steps = rnd.nextInt(4);
        for (int s = 0; s < steps; s++)
        {
            c = switch (rnd.nextInt(5))
            {
                case 0 -> c.add(Long.remainderUnsigned(rnd.nextLong(), c.length() | 1));
                case 1 -> c.setBounds(Long.remainderUnsigned(rnd.nextLong(), (c.top() - c.address()) | 1));
                case 2 -> c.andPermissions(rnd.nextInt());
                case 3 -> rnd.nextBoolean() ? c.sealEntry() : c.seal(sealer(rnd.nextInt(ObjectType.MAX_USER + 1)));
                default -> c.withAddress(c.base() + Long.remainderUnsigned(rnd.nextLong(), c.length() | 1));
            };
        }
        return c;
    }

    @Test
    void buildCapRejectsWhatTheAuthorityDoesNotCover()
    {
        final Capability auth = region(0x100000L, 0x10000L, Permissions.CAP_READ_WRITE);
        final Capability inside = auth.add(0x100).setBoundsExact(0x100);
        assertTrue(Capability.buildCap(auth, inside.addressBits(), inside.metadataBits()).isTagged());

        // Wider than the authority (bits of the parent rebuilt through the child).
        final Capability rejected = Capability.buildCap(inside, auth.addressBits(), auth.metadataBits());
        assertFalse(rejected.isTagged());
        assertEquals(auth.withTagCleared(), rejected, "rejected bits come back unchanged");
        // Bounds overlapping the authority's top.
        final Capability straddle = ROOT.withAddress(0x10F000L).setBoundsExact(0x2000);
        assertFalse(Capability.buildCap(auth, straddle.addressBits(), straddle.metadataBits()).isTagged());
        // More permissions than the authority.
        final Capability more = ROOT.withAddress(0x100100L).setBoundsExact(0x100).andPermissions(Permissions.ALL);
        assertFalse(Capability.buildCap(auth, more.addressBits(), more.metadataBits()).isTagged());
        assertTrue(Capability.buildCap(auth, more.addressBits(),
                more.andPermissions(Permissions.CAP_READ_WRITE).metadataBits()).isTagged());
        // Sealed or untagged authority.
        assertFalse(Capability.buildCap(auth.seal(sealer(1)), inside.addressBits(), inside.metadataBits()).isTagged());
        assertFalse(Capability.buildCap(auth.sealEntry(), inside.addressBits(), inside.metadataBits()).isTagged());
        assertFalse(Capability.buildCap(auth.withTagCleared(), inside.addressBits(), inside.metadataBits()).isTagged());
        // Reserved bits set.
        final long reservedBits = inside.metadataBits() | (1L << CheriConcentrate.RESERVED_SHIFT);
        assertFalse(Capability.buildCap(auth, inside.addressBits(), reservedBits).isTagged());
        // A bounds field CSetBounds never writes (E = 63 decodes like E = 52, the whole space).
        final long arch = (1L << 26) | (7L << 14) | 7L | (0x3FFFFL << 27);
        assertFalse(Capability.buildCap(ROOT, 0L, CheriConcentrate.toMemory(arch)).isTagged());
        assertTrue(Capability.buildCap(ROOT, 0L, CheriConcentrate.NULL_METADATA).isTagged(),
                "NULL's bits with the root's authority are an unprivileged whole-space capability");
    }

    @Test
    void buildCapKeepsSentriesAndUnsealsOtherTypes()
    {
        final Capability auth = region(0x100000L, 0x10000L, Permissions.CODE);
        final Capability sentry = auth.add(0x40).sealEntry();
        final Capability rebuiltSentry = Capability.buildCap(auth, sentry.addressBits(), sentry.metadataBits());
        assertTrue(rebuiltSentry.isTagged());
        assertTrue(rebuiltSentry.isSentry());
        assertEquals(sentry, rebuiltSentry);
        // A sentry without EXECUTE is never made by sealEntry, so it is not rebuilt either.
        final Capability inert = auth.andPermissions(~EXEC).sealEntry();
        assertFalse(inert.isTagged());
        assertFalse(Capability.buildCap(auth, inert.addressBits(), inert.metadataBits()).isTagged());
        final Capability sealed = auth.seal(sealer(99));
        final Capability rebuilt = Capability.buildCap(auth, sealed.addressBits(), sealed.metadataBits());
        assertTrue(rebuilt.isTagged());
        assertFalse(rebuilt.isSealed());
        assertEquals(auth, rebuilt);
    }

    // ------------------------------------------------------------------------------------------
    // Monotonicity over random derivation chains
    // ------------------------------------------------------------------------------------------

    @Test
    void randomDerivationChainsNeverGainAuthority(final TestInfo info)
    {
        final long seed = CodecPropertyTest.Seeds.seed(info);
        final SplittableRandom rnd = new SplittableRandom(seed);
        for (int chain = 0; chain < 2_000; chain++)
        {
            final long len = CodecPropertyTest.Seeds.length(rnd);
            final long base = CodecPropertyTest.Seeds.base(rnd, len);
            final Capability start = ROOT.withAddress(base).setBounds(len).andPermissions(rnd.nextInt());
            Capability cur = start;
            boolean everUntagged = !cur.isTagged();
            final StringBuilder trail = new StringBuilder(start.toString());
            for (int step = 0; step < 200; step++)
            {
                final Capability prev = cur;
                final String op;
                switch (rnd.nextInt(11))
                {
                    case 0 ->
                    {
                        final long a = nearOrFar(rnd, prev);
                        op = "withAddress(0x" + Long.toHexString(a) + ")";
                        cur = prev.withAddress(a);
                    }
                    case 1 ->
                    {
                        final long d = rnd.nextLong() >> rnd.nextInt(64);
                        op = "add(" + d + ")";
                        cur = prev.add(d);
                    }
                    case 2, 3 ->
                    {
                        final long l = rnd.nextBoolean() ? CodecPropertyTest.Seeds.length(rnd)
                                : Long.remainderUnsigned(rnd.nextLong(), (prev.top() - prev.address()) | 1);
                        op = "setBounds(0x" + Long.toHexString(l) + ")";
                        cur = prev.setBounds(l);
                    }
                    case 4 ->
                    {
                        final long l = rnd.nextLong() >>> rnd.nextInt(64);
                        op = "setBoundsExact(0x" + Long.toHexString(l) + ")";
                        cur = prev.setBoundsExact(l);
                    }
                    case 5 ->
                    {
                        final int m = rnd.nextInt();
                        op = "andPermissions(0x" + Integer.toHexString(m) + ")";
                        cur = prev.andPermissions(m);
                    }
                    case 6 ->
                    {
                        op = "sealEntry()";
                        cur = prev.sealEntry();
                    }
                    case 7 ->
                    {
                        final int t = rnd.nextInt(1 << 18);
                        op = "seal(" + t + ")";
                        cur = prev.seal(sealer(t));
                    }
                    case 8 ->
                    {
                        final long t = rnd.nextInt(4) == 0 ? rnd.nextInt(1 << 18) : ObjectType.toRaw(prev.objectType());
                        op = "unseal(" + t + ")";
                        cur = prev.unseal(sealer(t));
                    }
                    case 9 ->
                    {
                        op = "buildCap(self)";
                        cur = Capability.buildCap(prev, prev.addressBits(), prev.metadataBits());
                    }
                    default ->
                    {
                        op = rnd.nextInt(20) == 0 ? "withTagCleared()" : "reload";
                        cur = op.equals("reload")
                                ? Capability.fromMemory(prev.addressBits(), prev.metadataBits(), prev.isTagged())
                                : prev.withTagCleared();
                        if (op.equals("reload"))
                        {
                            assertEquals(prev, cur);
                        }
                    }
                }
                trail.append(" -> ").append(op);
                final Capability next = cur;
                final Supplier<String> what = CodecPropertyTest.Seeds.message(seed, info,
                        () -> "step " + trail + "\n  prev " + prev + "\n  next " + next);
                if (next.isTagged())
                {
                    assertTrue(prev.isTagged(), what);
                    assertFalse(everUntagged, what);
                    assertTrue(within(next, prev), what);
                    assertTrue(within(next, start), what);
                    assertEquals(0, next.permissions() & ~prev.permissions(), what);
                    assertEquals(0, next.permissions() & ~start.permissions(), what);
                    assertTrue(CheriConcentrate.compare65(next.base(), false, next.top(), next.isTopMax()) <= 0, what);
                    assertFalse(next.isTopMax() && next.top() != 0L, what);
                    if (next.isSealed() && !op.startsWith("seal") && !op.startsWith("buildCap"))
                    {
                        assertTrue(prev.isSealed(), what);
                    }
                }
                everUntagged |= !next.isTagged();
            }
        }
    }

    private static long nearOrFar(final SplittableRandom rnd, final Capability c)
    {
        return switch (rnd.nextInt(3))
        {
            case 0 -> c.base() + Long.remainderUnsigned(rnd.nextLong(), c.length() | 1);
            case 1 -> c.address() + rnd.nextLong(-(1L << 20), 1L << 20);
            default -> rnd.nextLong();
        };
    }
}
