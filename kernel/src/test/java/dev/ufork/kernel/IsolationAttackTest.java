package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.CheriConcentrate;
import dev.ufork.capability.FaultCause;
import dev.ufork.capability.ObjectType;
import dev.ufork.capability.Permission;
import dev.ufork.capability.Permissions;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.AddressSpaceConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded random attacks by a hostile µprocess and its forked children (one per copy mode) on a kernel that also runs
 * a victim with known contents. Every attack must end exactly as the CHERI rules and the fence around the attacker's
 * area say (see {@link Attacker#expected}), never succeed where it should fault, and leave everything outside the
 * attacker's area as it was: the victim's, init's and the kernel's areas are checksummed (bytes and tags) before and
 * after, and the hostile parent's area across its children's attacks.
 * <p>
 * Replay a failure with {@code -Dufork.seed=<seed>}; every failure message names the seed, the µprocess and the
 * attack.
 */
class IsolationAttackTest
{
    private static final long DEFAULT_SEED = 0x150_1A7E_D0C5L;
    private static final long SPACE = 128L << 20;
    private static final long AREA = 256L << 10;
    /** Attacks by the hostile parent, then by each of its three children. */
    private static final int PARENT_ATTACKS = 1500;
    private static final int CHILD_ATTACKS = 600;

    /** What an attack tries. */
    enum Kind
    {
        /** Forge a capability from data (bytes, copies, the kernel's copyOut, rebuilt under its own authority). */
        FORGE_FROM_DATA,
        /** Widen bounds: setBounds larger, move the address out and dereference. */
        WIDEN_BOUNDS,
        /** Add permissions: andPermissions, buildCap over more permissive bits, edited bits in memory. */
        ADD_PERMISSIONS,
        /** Unseal, modify or dereference a kernel-entry capability. */
        KERNEL_ENTRY,
        /** Present a wrong entry to a kernel service (then restore the genuine one). */
        WRONG_ENTRY,
        /** Use a capability (or memory view, or context) captured by Java from the parent before the fork. */
        STALE_PARENT,
        /** Reach another area: the victim's, init's, the kernel's, the parent's, just past its own. */
        REACH_OTHER_AREA,
        /** Look for and try to gain ACCESS_SYSTEM_REGISTERS, SEAL, UNSEAL, EXECUTE. */
        PRIVILEGED_PERMISSIONS,
        /** The kernel's copyIn/copyOut: bad buffers fault with EFAULT and write nothing; a copy is a snapshot. */
        KERNEL_COPY
    }

    /**
     * What an attacker knows beyond its own context: capabilities and objects smuggled to it through Java, and where
     * the other areas are.
     */
    record Loot(Victim victim, long kernelBase, long initBase, long initSize, Capability parentArea,
        Capability parentPlayground, Capability parentTable, CapabilityMemory parentMemory,
        ProcessContext parentContext)
    {
        boolean hasParent()
        {
            return parentArea != null;
        }
    }

    @ParameterizedTest
    @EnumSource(value = IsolationLevel.class, names = {"ADVERSARIAL", "FAULT_ISOLATION"})
    void randomAttacksFaultAndChangeNothingOutsideTheAttacker(final IsolationLevel level)
    {
        final long seed = TestPrograms.seed(DEFAULT_SEED);
        final String context = TestPrograms.replay(seed) + " " + level;
        try (Kernel kernel = Kernel.boot(new KernelConfig(AddressSpaceConfig.ofSize(SPACE), CopyMode.COPA, AREA,
            level)))
        {
            final KernelService extension = kernel.registerService("isolation-probe");
            final Victim victim = Victim.start(kernel, AREA, seed, extension);
            final long kernelBase = kernel.entry(0).base();
            final MicroProcess init = kernel.init();
            final long victimBefore = victim.checksum();
            final long kernelBefore = TestPrograms.checksum(kernel.space(), kernelBase, Kernel.MIN_AREA);
            final long initBefore = TestPrograms.checksum(kernel.space(), init.base, init.area.size());
            final AtomicLongArray counts = new AtomicLongArray(Kind.values().length);
            final Loot loot = new Loot(victim, kernelBase, init.base, init.area.size(), null, null, null, null, null);
            final AtomicReference<Throwable> failure = new AtomicReference<>();

            final int hostile = kernel.spawn(AREA, TestPrograms.guarded(failure,
                ctx -> hostile(ctx, kernel.space(), seed, context, extension, loot, counts, failure)));
            final int status = TestPrograms.awaitExit(kernel, hostile, context);
            final Throwable failed = failure.get();
            if (failed != null)
            {
                final String message = String.valueOf(failed.getMessage());
                throw new AssertionError(message.contains(TestPrograms.replay(seed)) ? message
                    : context + ": " + failed, failed);
            }
            assertTrue(WaitStatus.ifExited(status) && WaitStatus.exitStatus(status) == 0,
                context + ": hostile µprocess ended with wait status 0x" + Integer.toHexString(status));

            assertEquals(victimBefore, victim.checksum(), context + ": the victim's area changed");
            assertEquals(kernelBefore, TestPrograms.checksum(kernel.space(), kernelBase, Kernel.MIN_AREA),
                context + ": the kernel's area changed");
            assertEquals(initBefore, TestPrograms.checksum(kernel.space(), init.base, init.area.size()),
                context + ": init's area changed");
            victim.releaseAndAwait(context);

            long total = 0;
            final StringBuilder tally = new StringBuilder();
            for (final Kind kind : Kind.values())
            {
                final long n = counts.get(kind.ordinal());
                assertTrue(n > 0, context + ": no " + kind + " attack was made");
                tally.append(' ').append(kind).append('=').append(n);
                total += n;
            }
            assertEquals(PARENT_ATTACKS + 3L * CHILD_ATTACKS, total, context + ": attacks counted");
            System.out.println("IsolationAttackTest " + context + ": " + total + " attacks:" + tally);
        }
    }

    /**
     * The hostile µprocess: attacks, forks a child in each copy mode that attacks with its parent's capabilities
     * captured by Java, checks that its own area came through its children's attacks unchanged, then wrecks its
     * whole entry table and checks that it only cut itself off.
     */
    private static void hostile(final ProcessContext ctx, final AddressSpace space, final long seed,
        final String context,
        final KernelService extension, final Loot loot, final AtomicLongArray counts,
        final AtomicReference<Throwable> failure)
    {
        Attacker.prepare(ctx, seed);
        final Attacker attacker = new Attacker(ctx, extension);
        new Campaign(attacker, TestPrograms.random(seed), loot, counts, context + " hostile pid " + ctx.getpid())
            .run(PARENT_ATTACKS);
        attacker.restore();

        final long before = TestPrograms.checksum(space, attacker.base(), AREA);
        final Loot childLoot = new Loot(loot.victim(), loot.kernelBase(), loot.initBase(), loot.initSize(),
            attacker.area, attacker.playground, attacker.table, ctx.memory(), ctx);
        final CopyMode[] modes = CopyMode.values();
        final int[] children = new int[modes.length];
        for (int i = 0; i < modes.length; i++)
        {
            final CopyMode mode = modes[i];
            final long childSeed = seed * 0x9E37_79B9_7F4A_7C15L + mode.ordinal() + 1;
            children[i] = ctx.fork(TestPrograms.guarded(failure, c ->
                new Campaign(new Attacker(c, extension), TestPrograms.random(childSeed), childLoot, counts,
                    context + " " + mode + " child pid " + c.getpid()).run(CHILD_ATTACKS)), mode);
        }
        for (int i = 0; i < modes.length; i++)
        {
            final WaitResult result = ctx.waitpid(children[i], 0);
            if (!WaitStatus.ifExited(result.status()) || WaitStatus.exitStatus(result.status()) != 0)
            {
                throw new AssertionError(context + ": " + modes[i] + " child ended with wait status 0x"
                    + Integer.toHexString(result.status()));
            }
        }
        final long after = TestPrograms.checksum(space, attacker.base(), AREA);
        if (after != before)
        {
            throw new AssertionError(context + ": the children's attacks changed their parent's area");
        }

        attacker.wreckWholeTable();
        for (final Attacker.Probe probe : Attacker.Probe.values())
        {
            if (attacker.admitted(probe))
            {
                throw new AssertionError(context + ": " + probe + " admitted after the whole entry table was wrecked");
            }
        }
    }

    /**
     * One µprocess's run of random attacks.
     */
    static final class Campaign
    {
        private final Attacker a;
        private final SplittableRandom r;
        private final Loot loot;
        private final AtomicLongArray counts;
        private final String context;

        Campaign(final Attacker attacker, final SplittableRandom random, final Loot loot,
            final AtomicLongArray counts, final String context)
        {
            this.a = attacker;
            this.r = random;
            this.loot = loot;
            this.counts = counts;
            this.context = context;
        }

        /**
         * Runs {@code attacks} attacks of random kinds (a µprocess with no parent makes a REACH_OTHER_AREA attack
         * where STALE_PARENT is drawn).
         *
         * @throws AssertionError naming the context, the attack's number and kind, at the first that did not end as
         *                        it must.
         */
        void run(final int attacks)
        {
            final Kind[] kinds = Kind.values();
            for (int i = 0; i < attacks; i++)
            {
                Kind kind = kinds[r.nextInt(kinds.length)];
                if (kind == Kind.STALE_PARENT && !loot.hasParent())
                {
                    kind = Kind.REACH_OTHER_AREA;
                }
                try
                {
                    attack(kind);
                }
                catch (final AssertionError | RuntimeException e)
                {
                    throw new AssertionError(context + " attack #" + i + " " + kind + ": " + e.getMessage(), e);
                }
                counts.incrementAndGet(kind.ordinal());
            }
        }

        private void attack(final Kind kind)
        {
            switch (kind)
            {
                case FORGE_FROM_DATA -> forge();
                case WIDEN_BOUNDS -> widenBounds();
                case ADD_PERMISSIONS -> addPermissions();
                case KERNEL_ENTRY -> kernelEntry();
                case WRONG_ENTRY -> wrongEntry();
                case STALE_PARENT -> staleParent();
                case REACH_OTHER_AREA -> reachOtherArea();
                case PRIVILEGED_PERMISSIONS -> privilegedPermissions();
                case KERNEL_COPY -> kernelCopy();
            }
        }

        // --------------------------------------------------------------------------------------------------------
        // Choices

        /** A random sub-capability of the playground, with all or some of the µprocess's permissions. */
        private Capability ownCap()
        {
            return ownCap(r.nextBoolean() ? Kernel.PROCESS_PERMISSIONS : Kernel.PROCESS_PERMISSIONS & r.nextInt());
        }

        private Capability ownCap(final int permissions)
        {
            final long length = 16L * (1 + r.nextInt(64));
            final long offset = 16L * r.nextInt((int)((Attacker.PLAYGROUND_SIZE - length) / 16) + 1);
            return a.playground.add(offset).setBoundsExact(length).andPermissions(permissions);
        }

        private Attacker.Access access()
        {
            final Attacker.Access[] all = Attacker.Access.values();
            return all[r.nextInt(all.length)];
        }

        /** An offset from the capability's address: mostly inside its bounds, sometimes just outside, misaligned. */
        private long offset(final Capability cap, final Attacker.Access access)
        {
            final long length = cap.isTagged() ? cap.length() : 256;
            final long fromBase = cap.base() - cap.address();
            return switch (r.nextInt(8))
            {
                case 0 -> fromBase - 16;
                case 1 -> fromBase + length - access.size + 16;
                case 2 -> fromBase + 8;
                default -> fromBase + 16L * r.nextLong(Math.max(1, (length - access.size) / 16 + 1));
            };
        }

        /** A value for capability stores: NULL, a global or a local capability of its own, or a smuggled one. */
        private Capability value()
        {
            return switch (r.nextInt(4))
            {
                case 0 -> Capability.NULL;
                case 1 -> ownCap(Kernel.PROCESS_PERMISSIONS);
                case 2 -> ownCap(Kernel.PROCESS_PERMISSIONS & ~Permission.GLOBAL.mask());
                default -> loot.victim().area;
            };
        }

        /** A random access through {@code cap}, checked against the oracle; it must fault. */
        private FaultCause strike(final String what, final Capability cap)
        {
            final Attacker.Access access = access();
            return a.checkFaults(what, cap, access, offset(cap, access), value());
        }

        /** An address outside the attacker's area: in the victim's, init's, the kernel's, the parent's, or nearby. */
        private long foreignAddress()
        {
            final Victim victim = loot.victim();
            return switch (r.nextInt(loot.hasParent() ? 6 : 5))
            {
                case 0 -> victim.base + 16 * r.nextLong(victim.size / 16);
                case 1 -> loot.kernelBase() + 16 * r.nextLong(Kernel.MIN_AREA / 16);
                case 2 -> loot.initBase() + 16 * r.nextLong(loot.initSize() / 16);
                case 3 -> a.base() - 16 * (1 + r.nextInt(4096));
                case 4 -> a.top() + 16 * r.nextInt(4096);
                default -> loot.parentArea().base() + 16 * r.nextLong(loot.parentArea().length() / 16);
            };
        }

        private static void check(final boolean condition, final Supplier<String> message)
        {
            if (!condition)
            {
                throw new AssertionError(message.get());
            }
        }

        /** A tagged derivation must stay within its source: bounds, permissions, unsealed. */
        private static void monotone(final Capability from, final Capability to)
        {
            if (to.isTagged())
            {
                check(Long.compareUnsigned(to.base(), from.base()) >= 0
                    && Long.compareUnsigned(to.base() + to.length(), from.base() + from.length()) <= 0
                    && (to.permissions() & ~from.permissions()) == 0 && !to.isSealed(),
                    () -> "derivation " + to + " is not within " + from);
            }
        }

        private boolean ownedBy(final Capability cap)
        {
            return !cap.isSealed() && cap.base() >= a.base() && cap.base() + cap.length() <= a.top();
        }

        // --------------------------------------------------------------------------------------------------------
        // Attacks

        private void forge()
        {
            final Capability target = switch (r.nextInt(6))
            {
                case 0 -> a.area;
                case 1 -> a.table;
                case 2 -> a.genuineEntry(r.nextInt(RegisterFileDescriptor.ENTRY_COUNT));
                case 3 -> ownCap();
                case 4 -> loot.victim().area;
                default -> loot.hasParent() ? loot.parentArea() : loot.victim().table;
            };
            final long slot = 16L * (2 + r.nextInt((int)(Attacker.PLAYGROUND_SIZE / 16) - 4));
            long forgedAt = slot;
            final String how;
            switch (r.nextInt(5))
            {
                case 0 ->
                {
                    how = "two data words";
                    a.memory.storeLong(a.playground, slot, target.addressBits());
                    a.memory.storeLong(a.playground, slot + 8, target.metadataBits());
                }
                case 1 ->
                {
                    how = "storeBytes";
                    a.memory.storeBytes(a.playground, slot, Attacker.bytesOf(target), 0, 16);
                }
                case 2 ->
                {
                    how = "the kernel's copyOut";
                    a.ctx.copyOut(a.playground, slot, Attacker.bytesOf(target), 0, 16);
                }
                case 3 ->
                {
                    how = "a stored capability with one byte rewritten";
                    a.memory.storeCapability(a.playground, slot, target);
                    final long at = slot + r.nextInt(16);
                    a.memory.storeByte(a.playground, at, a.memory.loadByte(a.playground, at));
                }
                default ->
                {
                    how = "a copy through a source without LOAD_CAP";
                    a.memory.storeCapability(a.playground, slot, target);
                    forgedAt = slot + 16;
                    a.memory.copy(a.playground, forgedAt, a.playground.andPermissions(~Permission.LOAD_CAP.mask()),
                        slot, 16);
                }
            }
            final Capability forged = a.memory.loadCapability(a.playground, forgedAt);
            check(!forged.isTagged() && forged.addressBits() == target.addressBits()
                && forged.metadataBits() == target.metadataBits(),
                () -> "forging " + target + " by " + how + " loaded " + forged);
            final FaultCause cause = strike("forged " + target + " by " + how, forged);
            check(cause == FaultCause.TAG, () -> "forged capability faulted " + cause + ", not TAG");

            final Capability rebuilt = Capability.buildCap(a.area, target.addressBits(), target.metadataBits());
            if (ownedBy(target))
            {
                check(rebuilt.equals(target), () -> "buildCap of its own " + target + " gave " + rebuilt);
            }
            else
            {
                check(!rebuilt.isTagged(), () -> "buildCap under its own area tagged " + rebuilt);
                strike("rebuilt " + target, rebuilt);
            }
        }

        private void widenBounds()
        {
            final Capability x = r.nextInt(4) == 0 ? a.playground : ownCap();
            final Capability y;
            final String how;
            switch (r.nextInt(5))
            {
                case 0 ->
                {
                    how = "setBounds larger";
                    y = x.setBounds(x.length() + 1 + r.nextInt(8192));
                    check(!y.isTagged(), () -> "setBounds widened " + x + " to " + y);
                }
                case 1 ->
                {
                    how = "setBoundsExact larger";
                    y = x.setBoundsExact(x.length() + 16L * (1 + r.nextInt(64)));
                    check(!y.isTagged(), () -> "setBoundsExact widened " + x + " to " + y);
                }
                case 2 ->
                {
                    how = "base moved down";
                    y = x.withAddress(x.base() - 16L * (1 + r.nextInt(64))).setBounds(x.length());
                    check(!y.isTagged(), () -> "bounds below the base of " + x + " gave " + y);
                }
                case 3 ->
                {
                    how = "address past the top";
                    y = x.withAddress(x.base() + x.length() + r.nextInt(1 << (4 + r.nextInt(16))));
                }
                default ->
                {
                    how = "address below the base";
                    y = x.add(x.base() - x.address() - 1 - r.nextInt(1 << (4 + r.nextInt(16))));
                }
            }
            monotone(x, y);
            final Attacker.Access access = access();
            a.checkFaults(how + " from " + x, y, access, 0, value());
        }

        private void addPermissions()
        {
            final Permission[] removable = {Permission.LOAD, Permission.STORE, Permission.LOAD_CAP,
                Permission.STORE_CAP, Permission.STORE_LOCAL_CAP, Permission.GLOBAL};
            final Permission missing = removable[r.nextInt(removable.length)];
            final Capability full = ownCap(Kernel.PROCESS_PERMISSIONS);
            final Capability x = full.andPermissions(Kernel.PROCESS_PERMISSIONS & ~missing.mask());
            final Capability y;
            final String how;
            switch (r.nextInt(4))
            {
                case 0 ->
                {
                    how = "andPermissions(ALL)";
                    y = x.andPermissions(Permissions.ALL | r.nextInt());
                    check(y.isTagged() && y.permissions() == x.permissions(),
                        () -> "andPermissions added permissions: " + x + " became " + y);
                }
                case 1 ->
                {
                    how = "buildCap over its full-permission bits";
                    y = Capability.buildCap(x, full.addressBits(), full.metadataBits());
                    check(!y.isTagged(), () -> "buildCap under " + x + " tagged " + y);
                }
                case 2 ->
                {
                    how = "buildCap over bits with privileged permissions";
                    final Capability bits = Attacker.withPermissionBits(x,
                        x.permissions() | missing.mask() | Attacker.PRIVILEGED);
                    y = Capability.buildCap(a.area, bits.addressBits(), bits.metadataBits());
                    check(!y.isTagged(), () -> "buildCap under the area tagged " + y);
                }
                default ->
                {
                    how = "permission bits edited in memory";
                    final long slot = 16L * (2 + r.nextInt((int)(Attacker.PLAYGROUND_SIZE / 16) - 4));
                    a.memory.storeCapability(a.playground, slot, x);
                    a.memory.storeLong(a.playground, slot + 8,
                        CheriConcentrate.withPermissions(x.metadataBits(), Permissions.ALL));
                    y = a.memory.loadCapability(a.playground, slot);
                    check(!y.isTagged() && y.hasPermissions(Permissions.ALL),
                        () -> "edited permission bits loaded as " + y);
                }
            }
            if (!y.isTagged())
            {
                strike(how, y);
                return;
            }
            // y is x with its permissions; use it for what the missing permission would allow.
            final String what = how + " then use " + missing + " through " + y;
            switch (missing)
            {
                case LOAD -> a.checkFaults(what, y, pick(Attacker.Access.LOAD_LONG, Attacker.Access.LOAD_CAP,
                    Attacker.Access.COPY_FROM, Attacker.Access.KERNEL_COPY_IN), 0, Capability.NULL);
                case STORE -> a.checkFaults(what, y, pick(Attacker.Access.STORE_LONG, Attacker.Access.STORE_CAP,
                    Attacker.Access.COPY_TO, Attacker.Access.KERNEL_COPY_OUT), 0, Capability.NULL);
                case STORE_CAP -> a.checkFaults(what, y, Attacker.Access.STORE_CAP, 0,
                    ownCap(Kernel.PROCESS_PERMISSIONS));
                case STORE_LOCAL_CAP -> a.checkFaults(what, y, Attacker.Access.STORE_CAP, 0,
                    ownCap(Kernel.PROCESS_PERMISSIONS & ~Permission.GLOBAL.mask()));
                case GLOBAL -> a.checkFaults(what, a.playground.andPermissions(~Permission.STORE_LOCAL_CAP.mask()),
                    Attacker.Access.STORE_CAP, 16L * r.nextInt(64), y);
                default ->
                {
                    // Without LOAD_CAP nothing faults: a loaded capability just loses its tag.
                    a.memory.storeCapability(full, 0, full);
                    final Capability loaded = a.memory.loadCapability(y, 0);
                    check(!loaded.isTagged() && loaded.addressBits() == full.addressBits(),
                        () -> what + " loaded " + loaded);
                }
            }
        }

        private Attacker.Access pick(final Attacker.Access... accesses)
        {
            return accesses[r.nextInt(accesses.length)];
        }

        private void kernelEntry()
        {
            final int index = r.nextInt(RegisterFileDescriptor.ENTRY_COUNT);
            final Capability entry = a.genuineEntry(index);
            check(entry.isTagged() && entry.objectType() == KernelEntries.KERNEL_OBJECT_TYPE
                && (entry.permissions() & ~(Permission.EXECUTE.mask() | Permission.GLOBAL.mask())) == 0
                && (entry.base() >= a.top() || entry.base() + entry.length() <= a.base()),
                () -> "entry " + index + " is not a sealed kernel entry outside the area: " + entry);
            switch (r.nextInt(3))
            {
                case 0 ->
                {
                    final FaultCause cause = strike("dereference entry " + index, entry);
                    check(cause == FaultCause.SEAL, () -> "dereferencing an entry faulted " + cause);
                }
                case 1 ->
                {
                    final Capability unsealer = a.area.withAddress(KernelEntries.KERNEL_OBJECT_TYPE);
                    final Capability[] derived = {
                        entry.add(r.nextInt(64)),
                        entry.withAddress(entry.address()),
                        entry.setBounds(8),
                        entry.setBoundsExact(16),
                        entry.andPermissions(Permissions.ALL),
                        entry.andPermissions(Permissions.NONE),
                        entry.sealEntry(),
                        entry.unseal(unsealer),
                        entry.unseal(entry),
                        entry.unseal(a.area),
                        entry.seal(a.area),
                        Capability.buildCap(a.area, entry.addressBits(), entry.metadataBits()),
                        Capability.buildCap(a.area, entry.addressBits(),
                            CheriConcentrate.withObjectType(entry.metadataBits(), ObjectType.UNSEALED)),
                        Capability.buildCap(entry, entry.addressBits(), entry.metadataBits()),
                    };
                    final int which = r.nextInt(derived.length);
                    final Capability d = derived[which];
                    check(!d.isTagged(), () -> "derivation " + which + " of entry " + index + " is tagged: " + d);
                    final FaultCause cause = strike("derivation " + which + " of entry " + index, d);
                    check(cause == FaultCause.TAG, () -> "derived entry faulted " + cause);
                }
                default ->
                {
                    final Attacker.Access access = r.nextBoolean() ? Attacker.Access.KERNEL_COPY_IN
                        : Attacker.Access.KERNEL_COPY_OUT;
                    final FaultCause cause = a.checkFaults("kernel copy through entry " + index, entry, access, 0,
                        Capability.NULL);
                    check(cause == FaultCause.SEAL, () -> "kernel copy through an entry faulted " + cause);
                }
            }
        }

        private void wrongEntry()
        {
            final Attacker.Probe[] probes = Attacker.Probe.values();
            final Attacker.Probe probe = probes[r.nextInt(probes.length)];
            final Attacker.Wreck[] wrecks = Attacker.Wreck.values();
            final Attacker.Wreck wreck = wrecks[r.nextInt(wrecks.length)];
            final Capability foreign = loot.hasParent() && r.nextBoolean() ? loot.parentTable()
                : loot.victim().table;
            a.wreck(wreck, probe, foreign);
            final boolean admitted = a.admitted(probe);
            final boolean expected = !a.fenced || wreck == Attacker.Wreck.MOVED_TABLE;
            check(admitted == expected, () -> probe + " with " + wreck + (admitted ? " admitted" : " refused"));
            if (wreck.slot)
            {
                final Attacker.Probe other = probes[(probe.ordinal() + 1 + r.nextInt(probes.length - 1))
                    % probes.length];
                check(a.admitted(other), () -> other + " refused after only " + probe + "'s slot was wrecked");
            }
            a.restore();
            check(a.admitted(probe), () -> probe + " refused after restoring the genuine entry");
        }

        private void staleParent()
        {
            final Capability stale = switch (r.nextInt(3))
            {
                case 0 -> loot.parentArea();
                case 1 -> loot.parentPlayground();
                default -> loot.parentTable();
            };
            check(stale.isTagged(), () -> "captured " + stale + " is untagged");
            switch (r.nextInt(5))
            {
                case 0 -> strike("stale parent capability", stale);
                case 1 ->
                {
                    final long slot = 16L * (2 + r.nextInt((int)(Attacker.PLAYGROUND_SIZE / 16) - 4));
                    a.check("store a stale parent capability", a.playground, Attacker.Access.STORE_CAP, slot,
                        stale);
                    final Capability reloaded = a.memory.loadCapability(a.playground, slot);
                    check(reloaded.equals(stale), () -> "stored " + stale + ", loaded " + reloaded);
                    strike("reloaded stale parent capability", reloaded);
                }
                case 2 -> parentMemoryView(stale);
                case 3 ->
                {
                    a.wreck(Attacker.Wreck.FOREIGN_TABLE, Attacker.Probe.values()[r.nextInt(5)],
                        loot.parentTable());
                    final boolean admitted = a.admitted(Attacker.Probe.SIGNAL);
                    a.restore();
                    check(!admitted, () -> "the parent's entry table admitted the child");
                }
                default -> parentContext();
            }
        }

        /** The parent's memory view, captured by Java: it serves the parent's thread only. */
        private void parentMemoryView(final Capability stale)
        {
            final CapabilityMemory view = loot.parentMemory();
            final long offset = 16L * r.nextInt(64);
            final Capability own = ownCap(Kernel.PROCESS_PERMISSIONS);
            final Runnable[] uses = {
                () -> view.loadLong(stale, offset),
                () -> view.storeLong(loot.parentPlayground(), offset, Attacker.POISON),
                () -> view.loadCapability(loot.parentArea(), offset),
                () -> view.loadLong(own, 0),
                () -> view.copy(loot.parentPlayground(), offset, loot.parentArea(), 0, 64),
            };
            final int which = r.nextInt(uses.length);
            try
            {
                uses[which].run();
            }
            catch (final CapabilityFault fault)
            {
                check(fault.faultCause() == FaultCause.ISOLATION,
                    () -> "use " + which + " of the parent's memory view faulted " + fault.faultCause());
                return;
            }
            throw new AssertionError("use " + which + " of the parent's memory view from the child succeeded");
        }

        /** The parent's context, captured by Java: its services refuse the child. */
        private void parentContext()
        {
            final ProcessContext parent = loot.parentContext();
            switch (r.nextInt(3))
            {
                case 0 ->
                {
                    try
                    {
                        parent.sigaction(Signal.SIGUSR1, SignalAction.IGNORE);
                        throw new AssertionError("the parent's sigaction served the child");
                    }
                    catch (final ErrnoException e)
                    {
                        check(e.errno() == Errno.EPERM, () -> "the parent's sigaction failed with " + e);
                    }
                }
                case 1 ->
                {
                    try
                    {
                        parent.register(RegisterFileDescriptor.AREA);
                        throw new AssertionError("the parent's register file served the child");
                    }
                    catch (final CapabilityFault fault)
                    {
                        check(fault.faultCause() == FaultCause.ISOLATION,
                            () -> "the parent's register file faulted " + fault.faultCause());
                    }
                }
                default ->
                {
                    try
                    {
                        parent.copyIn(loot.parentPlayground(), 0, 16);
                        throw new AssertionError("the parent's copyIn served the child");
                    }
                    catch (final ErrnoException e)
                    {
                        check(e.errno() == Errno.EFAULT && e.getCause() instanceof CapabilityFault f
                            && f.faultCause() == FaultCause.ISOLATION, () -> "the parent's copyIn failed with " + e);
                    }
                }
            }
        }

        private void reachOtherArea()
        {
            final long target = foreignAddress();
            switch (r.nextInt(5))
            {
                case 0 ->
                {
                    final Capability from = r.nextBoolean() ? a.area : ownCap();
                    Capability d = from.withAddress(target);
                    if (r.nextBoolean())
                    {
                        d = d.setBounds(16L * (1 + r.nextInt(16)));
                    }
                    monotone(from, d);
                    final Attacker.Access access = access();
                    a.checkFaults("derived toward 0x" + Long.toHexString(target), d, access, 0, value());
                }
                case 1 ->
                {
                    final Capability bits = ownCap();
                    final Capability d = Capability.buildCap(a.area, target, bits.metadataBits());
                    check(!d.isTagged() || ownedBy(d), () -> "buildCap under the area tagged " + d);
                    final Attacker.Access access = access();
                    a.checkFaults("rebuilt at 0x" + Long.toHexString(target), d, access, 0, value());
                }
                case 2 ->
                {
                    final Capability stolen = r.nextBoolean() ? loot.victim().area : loot.victim().table;
                    strike("smuggled victim capability", stolen);
                }
                case 3 ->
                {
                    final long slot = 16L * (2 + r.nextInt((int)(Attacker.PLAYGROUND_SIZE / 16) - 4));
                    a.check("store a smuggled capability", a.playground, Attacker.Access.STORE_CAP, slot,
                        loot.victim().area);
                    final Capability reloaded = a.memory.loadCapability(a.playground, slot);
                    check(reloaded.equals(loot.victim().area), () -> "reloaded " + reloaded);
                    strike("reloaded smuggled victim capability", reloaded);
                }
                default ->
                {
                    final Capability stolen = loot.victim().area;
                    final long offset = 16L * r.nextLong(stolen.length() / 16 - 8);
                    final Capability narrowed = stolen.add(offset).setBounds(64)
                        .andPermissions(Kernel.PROCESS_PERMISSIONS & r.nextInt());
                    monotone(stolen, narrowed);
                    strike("narrowed smuggled victim capability", narrowed);
                }
            }
        }

        private void privilegedPermissions()
        {
            final Capability held = switch (r.nextInt(7))
            {
                case 0 -> a.area;
                case 1 -> a.ctx.heap();
                case 2 -> a.table;
                case 3 -> ownCap();
                case 4 -> a.ctx.register(RegisterFileDescriptor.AREA);
                case 5 -> a.genuineEntry(r.nextInt(RegisterFileDescriptor.ENTRY_COUNT));
                default -> a.ctx.register(RegisterFileDescriptor.ENTRIES);
            };
            check(held.isTagged(), () -> "held capability untagged: " + held);
            if (held.isSealed())
            {
                check(held.objectType() == KernelEntries.KERNEL_OBJECT_TYPE
                    && (held.permissions() & Attacker.PRIVILEGED & ~Permission.EXECUTE.mask()) == 0,
                    () -> "sealed capability that is not a kernel entry: " + held);
            }
            else
            {
                check((held.permissions() & Attacker.PRIVILEGED) == 0 && ownedBy(held),
                    () -> "held capability with privilege or outside the area: " + held);
            }
            final Capability own = ownCap();
            final Capability y;
            switch (r.nextInt(5))
            {
                case 0 ->
                {
                    y = held.andPermissions(held.permissions() | Attacker.PRIVILEGED);
                    check(!y.isTagged() || y.permissions() == held.permissions(),
                        () -> "andPermissions gained privilege: " + y);
                }
                case 1 ->
                {
                    final Capability sealer = a.area.withAddress(a.base() + 16L * r.nextInt(64));
                    y = own.seal(sealer);
                    check(!y.isTagged(), () -> "sealed with its own authority: " + y);
                }
                case 2 ->
                {
                    y = own.sealEntry();
                    check(!y.isTagged(), () -> "made a sentry without EXECUTE: " + y);
                }
                case 3 ->
                {
                    final Capability unsealer = (r.nextBoolean() ? a.area : a.playground)
                        .withAddress(KernelEntries.KERNEL_OBJECT_TYPE);
                    y = a.genuineEntry(r.nextInt(RegisterFileDescriptor.ENTRY_COUNT)).unseal(unsealer);
                    check(!y.isTagged(), () -> "unsealed a kernel entry: " + y);
                }
                default ->
                {
                    final Capability bits = Attacker.withPermissionBits(own,
                        own.permissions() | Attacker.PRIVILEGED);
                    y = Capability.buildCap(a.area, bits.addressBits(), bits.metadataBits());
                    check(!y.isTagged(), () -> "buildCap granted privilege: " + y);
                }
            }
            if (!y.isTagged())
            {
                strike("privilege attempt", y);
            }
        }

        private void kernelCopy()
        {
            switch (r.nextInt(3))
            {
                case 0 ->
                {
                    final Capability buffer = ownCap(Kernel.PROCESS_PERMISSIONS);
                    final int length = (int)Math.min(buffer.length(), 64);
                    final byte[] original = new byte[length];
                    r.nextBytes(original);
                    a.memory.storeBytes(buffer, 0, original, 0, length);
                    final byte[] copy = a.ctx.copyIn(buffer, 0, length);
                    a.memory.fill(buffer, 0, length, (byte)~original[0]);
                    check(Arrays.equals(original, copy), () -> "copyIn is not a snapshot");
                }
                case 1 ->
                {
                    final Capability own = ownCap(Kernel.PROCESS_PERMISSIONS);
                    final Capability buffer = switch (r.nextInt(6))
                    {
                        case 0 -> own.andPermissions(~Permission.LOAD.mask());
                        case 1 -> own.andPermissions(~Permission.STORE.mask());
                        case 2 -> own.add(own.length() - 8);
                        case 3 -> own.add(r.nextInt(64)).setBounds(own.length() + 64);
                        case 4 -> a.genuineEntry(r.nextInt(8));
                        default -> loot.hasParent() && r.nextBoolean() ? loot.parentPlayground()
                            : loot.victim().area;
                    };
                    final Attacker.Access access = r.nextBoolean() ? Attacker.Access.KERNEL_COPY_IN
                        : Attacker.Access.KERNEL_COPY_OUT;
                    final byte[] before = new byte[(int)Attacker.PLAYGROUND_SIZE];
                    a.memory.loadBytes(a.playground, 0, before, 0, before.length);
                    final FaultCause expected = a.expected(buffer, access, 0, Capability.NULL);
                    final FaultCause cause = a.check("kernel copy through " + buffer, buffer, access, 0,
                        Capability.NULL);
                    if (expected != null || access == Attacker.Access.KERNEL_COPY_IN)
                    {
                        final byte[] after = new byte[before.length];
                        a.memory.loadBytes(a.playground, 0, after, 0, after.length);
                        check(Arrays.equals(before, after),
                            () -> "kernel copy " + access + " through " + buffer + " (" + cause + ") wrote");
                    }
                }
                default ->
                {
                    final Capability own = ownCap(Kernel.PROCESS_PERMISSIONS);
                    a.memory.storeCapability(own, 0, own);
                    a.ctx.copyOut(own, 0, Attacker.bytesOf(own), 0, 16);
                    final Capability loaded = a.memory.loadCapability(own, 0);
                    check(!loaded.isTagged() && loaded.metadataBits() == own.metadataBits(),
                        () -> "copyOut of a capability's own bytes over it left " + loaded);
                }
            }
        }
    }
}
