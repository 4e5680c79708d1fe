package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.CheriConcentrate;
import dev.ufork.capability.FaultCause;
import dev.ufork.capability.ObjectType;
import dev.ufork.capability.Permission;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.Attacker.Access;
import dev.ufork.kernel.Attacker.Probe;
import dev.ufork.kernel.Attacker.Wreck;
import dev.ufork.memory.AddressSpaceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One deterministic test per kind of attack a hostile µprocess can make, each with the exact fault cause or errno
 * it must end with, at each isolation level: CHERI's rules (tags, bounds, permissions, sealing) hold at every level;
 * {@link IsolationLevel#ADVERSARIAL} and {@link IsolationLevel#FAULT_ISOLATION} also fence each µprocess to its
 * area and check kernel entries, which {@link IsolationLevel#OFF} skips.
 */
class IsolationAttackKindTest
{
    private static final long SPACE = 64L << 20;
    private static final long AREA = 256L << 10;
    private static final long SEED = 0x1D_E7E5L;
    private static final int ENTRY_PERMISSIONS = Permission.EXECUTE.mask() | Permission.GLOBAL.mask();

    private Kernel kernel;
    private KernelService extension;

    @AfterEach
    void tearDown()
    {
        if (kernel != null)
        {
            kernel.close();
        }
    }

    private void boot(final IsolationLevel level)
    {
        kernel = Kernel.boot(new KernelConfig(AddressSpaceConfig.ofSize(SPACE), CopyMode.COPA, AREA, level));
        extension = kernel.registerService("isolation-probe");
    }

    /** A µprocess body that attacks with an {@link Attacker}. */
    @FunctionalInterface
    private interface AttackBody
    {
        void run(Attacker attacker) throws Exception;
    }

    /** Runs {@code body} in a fresh µprocess laid out by {@link Attacker#prepare}; it must exit 0. */
    private void attack(final String context, final AttackBody body)
    {
        TestPrograms.runClean(kernel, AREA, context, ctx ->
        {
            Attacker.prepare(ctx, SEED);
            body.run(new Attacker(ctx, extension));
        });
    }

    /**
     * Forks {@code body} in {@code mode} and reaps it; rethrows what failed inside the child.
     */
    private static void forkAndWait(final ProcessContext parent, final CopyMode mode, final String context,
        final TestPrograms.Body body)
    {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final int child = parent.fork(TestPrograms.guarded(failure, body), mode);
        final int status = parent.waitpid(child, 0).status();
        awaitChild(failure, status, context);
    }

    private static void awaitChild(final AtomicReference<Throwable> failure, final int status, final String context)
    {
        if (failure.get() != null)
        {
            throw new AssertionError(context + " child: " + failure.get(), failure.get());
        }
        assertTrue(WaitStatus.ifExited(status) && WaitStatus.exitStatus(status) == 0,
            context + " child ended with wait status 0x" + Integer.toHexString(status));
    }

    private long kernelAreaChecksum()
    {
        return TestPrograms.checksum(kernel.space(), kernel.entry(0).base(), Kernel.MIN_AREA);
    }

    private static FaultCause efaultCause(final Runnable call)
    {
        final ErrnoException e = assertThrows(ErrnoException.class, call::run);
        assertEquals(Errno.EFAULT, e.errno(), e.getMessage());
        return assertInstanceOfFault(e.getCause()).faultCause();
    }

    private static CapabilityFault assertInstanceOfFault(final Throwable cause)
    {
        assertTrue(cause instanceof CapabilityFault, "EFAULT without a capability fault: " + cause);
        return (CapabilityFault)cause;
    }

    private static FaultCause faultOf(final Runnable access)
    {
        return assertThrows(CapabilityFault.class, access::run).faultCause();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Forging a capability from data

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void shouldNeverTagACapabilityForgedFromData(final IsolationLevel level)
    {
        boot(level);
        final Victim victim = Victim.start(kernel, AREA, SEED, extension);
        final long victimBefore = victim.checksum();
        attack("forge " + level, a ->
        {
            final CapabilityMemory m = a.memory;
            final Capability[] targets = {a.area, a.genuineEntry(0), victim.area};
            for (final Capability target : targets)
            {
                // Two data words.
                m.storeLong(a.playground, 64, target.addressBits());
                m.storeLong(a.playground, 72, target.metadataBits());
                // storeBytes, and the kernel's copyOut.
                m.storeBytes(a.playground, 80, Attacker.bytesOf(target), 0, 16);
                a.ctx.copyOut(a.playground, 96, Attacker.bytesOf(target), 0, 16);
                // A real capability store, then one byte rewritten with its own value.
                m.storeCapability(a.playground, 112, target);
                m.storeByte(a.playground, 112 + 15, m.loadByte(a.playground, 112 + 15));
                for (final long at : new long[] {64, 80, 96, 112})
                {
                    final Capability forged = m.loadCapability(a.playground, at);
                    assertFalse(forged.isTagged(), "forged at " + at + ": " + forged);
                    assertEquals(target.addressBits(), forged.addressBits());
                    assertEquals(target.metadataBits(), forged.metadataBits());
                    for (final Access access : Access.values())
                    {
                        assertEquals(FaultCause.TAG, a.attempt(forged, access, 0, Capability.NULL),
                            access + " through " + forged);
                    }
                }
            }
            // buildCap re-derives a tag only within the authority: the victim's bits stay untagged.
            final Capability rebuilt = Capability.buildCap(a.area, victim.area.addressBits(),
                victim.area.metadataBits());
            assertFalse(rebuilt.isTagged(), rebuilt.toString());
            assertEquals(FaultCause.TAG, a.attempt(rebuilt, Access.LOAD_LONG, 0, Capability.NULL));
            // Control: bits of its own capability are re-derived exactly (the import path works).
            final Capability own = a.playground.setBoundsExact(256);
            assertEquals(own, Capability.buildCap(a.area, own.addressBits(), own.metadataBits()));
        });
        assertEquals(victimBefore, victim.checksum(), "the victim's area changed");
        victim.releaseAndAwait("forge " + level);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Widening bounds

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void shouldNeverWidenBounds(final IsolationLevel level)
    {
        boot(level);
        attack("widen " + level, a ->
        {
            final Capability sub = a.playground.setBoundsExact(64);
            final Capability larger = sub.setBounds(65);
            assertFalse(larger.isTagged(), larger.toString());
            assertEquals(FaultCause.TAG, a.attempt(larger, Access.LOAD_LONG, 0, Capability.NULL));
            final Capability exact = sub.setBoundsExact(128);
            assertFalse(exact.isTagged(), exact.toString());
            assertEquals(FaultCause.TAG, a.attempt(exact, Access.STORE_LONG, 64, Capability.NULL));
            final Capability lowered = sub.withAddress(sub.base() - 16).setBounds(64);
            assertFalse(lowered.isTagged(), lowered.toString());

            // Moving the address out keeps the bounds (representable), so the access faults LENGTH.
            final Capability past = sub.add(64);
            assertTrue(past.isTagged(), past.toString());
            for (final Access access : Access.values())
            {
                assertEquals(FaultCause.LENGTH, a.attempt(past, access, 0, Capability.NULL), access.toString());
            }
            final Capability below = sub.add(-16);
            assertTrue(below.isTagged(), below.toString());
            assertEquals(FaultCause.LENGTH, a.attempt(below, Access.LOAD_LONG, 0, Capability.NULL));
            assertEquals(FaultCause.LENGTH, a.attempt(sub, Access.STORE_LONG, 60, Capability.NULL),
                "a store straddling the top");
            assertEquals(FaultCause.LENGTH, a.attempt(a.area, Access.LOAD_LONG, a.area.length(), Capability.NULL),
                "just past the area");
            assertEquals(FaultCause.LENGTH, a.attempt(a.area, Access.LOAD_LONG, -8, Capability.NULL),
                "just before the area");
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // Adding permissions

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void shouldNeverAddPermissions(final IsolationLevel level)
    {
        boot(level);
        attack("permissions " + level, a ->
        {
            final Capability full = a.playground.setBoundsExact(256);
            final Capability readOnly = full.andPermissions(Permissions.DATA_READ);
            assertEquals(Permissions.DATA_READ, readOnly.andPermissions(Permissions.ALL).permissions());
            assertEquals(FaultCause.PERMIT_STORE, a.attempt(readOnly.andPermissions(Permissions.ALL),
                Access.STORE_LONG, 0, Capability.NULL));
            assertEquals(FaultCause.PERMIT_STORE, a.attempt(readOnly, Access.KERNEL_COPY_OUT, 0, Capability.NULL));

            final Capability noLoad = full.andPermissions(~Permission.LOAD.mask());
            assertEquals(FaultCause.PERMIT_LOAD, a.attempt(noLoad, Access.LOAD_LONG, 0, Capability.NULL));
            assertEquals(FaultCause.PERMIT_LOAD, a.attempt(noLoad, Access.LOAD_CAP, 0, Capability.NULL));
            assertEquals(FaultCause.PERMIT_LOAD, a.attempt(noLoad, Access.KERNEL_COPY_IN, 0, Capability.NULL));

            final Capability noStoreCap = full.andPermissions(~Permission.STORE_CAP.mask());
            assertEquals(FaultCause.PERMIT_STORE_CAP, a.attempt(noStoreCap, Access.STORE_CAP, 0, full));
            assertNull(a.attempt(noStoreCap, Access.STORE_CAP, 0, Capability.NULL), "an untagged value needs STORE");

            final Capability local = full.andPermissions(~Permission.GLOBAL.mask());
            final Capability noLocal = full.andPermissions(~Permission.STORE_LOCAL_CAP.mask());
            assertEquals(FaultCause.PERMIT_STORE_LOCAL_CAP, a.attempt(noLocal, Access.STORE_CAP, 16, local));
            assertEquals(local.permissions(), local.andPermissions(Permissions.ALL).permissions(),
                "GLOBAL came back");

            a.memory.storeCapability(full, 32, full);
            final Capability noLoadCap = full.andPermissions(~Permission.LOAD_CAP.mask());
            final Capability stripped = a.memory.loadCapability(noLoadCap, 32);
            assertFalse(stripped.isTagged(), "loaded without LOAD_CAP: " + stripped);

            // buildCap: bits with more permissions than the authority stay untagged.
            assertFalse(Capability.buildCap(readOnly, full.addressBits(), full.metadataBits()).isTagged());
            final Capability privileged = Attacker.withPermissionBits(full, full.permissions() | Attacker.PRIVILEGED);
            assertTrue(privileged.hasPermissions(Attacker.PRIVILEGED), privileged.toString());
            assertFalse(Capability.buildCap(a.area, privileged.addressBits(), privileged.metadataBits()).isTagged());

            // Editing the permission bits in memory clears the tag.
            a.memory.storeCapability(full, 48, readOnly);
            a.memory.storeLong(full, 56, CheriConcentrate.withPermissions(readOnly.metadataBits(), Permissions.ALL));
            final Capability edited = a.memory.loadCapability(full, 48);
            assertFalse(edited.isTagged(), edited.toString());
            assertTrue(edited.hasPermissions(Permissions.ALL));
            assertEquals(FaultCause.TAG, a.attempt(edited, Access.STORE_LONG, 0, Capability.NULL));
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // Kernel-entry capabilities

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void shouldNeitherDereferenceNorChangeNorUnsealAKernelEntry(final IsolationLevel level)
    {
        boot(level);
        final long kernelBefore = kernelAreaChecksum();
        final Capability kernelFork = kernel.entry(KernelService.FORK.index());
        attack("entry " + level, a ->
        {
            final Capability entry = a.genuineEntry(KernelService.FORK.index());
            assertEquals(kernelFork, entry, "the entry table holds the kernel's own entry, bit for bit");
            assertTrue(entry.isTagged() && entry.isSealed());
            assertEquals(KernelEntries.KERNEL_OBJECT_TYPE, entry.objectType());
            assertEquals(ENTRY_PERMISSIONS, entry.permissions());
            assertEquals(RegisterFileDescriptor.REGISTER_SIZE, entry.length());
            assertTrue(entry.base() >= a.top() || entry.base() + entry.length() <= a.base(), "entry in the area");

            for (final Access access : Access.values())
            {
                assertEquals(FaultCause.SEAL, a.attempt(entry, access, 0, Capability.NULL), access.toString());
            }
            final Capability unsealer = a.area.withAddress(KernelEntries.KERNEL_OBJECT_TYPE);
            final Capability[] derived = {
                entry.add(0),
                entry.add(16),
                entry.setBounds(8),
                entry.setBoundsExact(16),
                entry.andPermissions(Permissions.ALL),
                entry.andPermissions(Permission.GLOBAL.mask()),
                entry.sealEntry(),
                entry.seal(a.area),
                entry.unseal(unsealer),
                entry.unseal(a.area),
                entry.unseal(entry),
                Capability.buildCap(a.area, entry.addressBits(), entry.metadataBits()),
                Capability.buildCap(a.area, entry.addressBits(),
                    CheriConcentrate.withObjectType(entry.metadataBits(), ObjectType.UNSEALED)),
                Capability.buildCap(entry, entry.addressBits(), entry.metadataBits()),
            };
            for (int i = 0; i < derived.length; i++)
            {
                assertFalse(derived[i].isTagged(), "derivation " + i + ": " + derived[i]);
                assertEquals(FaultCause.TAG, a.attempt(derived[i], Access.LOAD_LONG, 0, Capability.NULL),
                    "derivation " + i);
            }
            assertFalse(a.area.hasPermissions(Permission.UNSEAL.mask()), "the area could unseal");
        });
        assertEquals(kernelBefore, kernelAreaChecksum(), "the kernel's area changed");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Wrong entries presented to kernel services

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void shouldRefuseEveryWrongEntryWithEpermUnlessIsolationIsOff(final IsolationLevel level)
    {
        boot(level);
        final Victim victim = Victim.start(kernel, AREA, SEED, extension);
        final boolean checked = level != IsolationLevel.OFF;
        attack("wrong entries " + level, a ->
        {
            final List<String> wrong = new ArrayList<>();
            for (final Wreck wreck : Wreck.values())
            {
                for (final Probe probe : Probe.values())
                {
                    a.wreck(wreck, probe, victim.table);
                    final boolean admitted = a.admitted(probe);
                    if (admitted != (!checked || wreck == Wreck.MOVED_TABLE))
                    {
                        wrong.add(probe + " with " + wreck + (admitted ? " admitted" : " refused"));
                    }
                    if (wreck.slot)
                    {
                        final Probe other = Probe.values()[(probe.ordinal() + 1) % Probe.values().length];
                        if (!a.admitted(other))
                        {
                            wrong.add(other + " refused after only " + probe + "'s slot was wrecked by " + wreck);
                        }
                    }
                    a.restore();
                    if (!a.admitted(probe))
                    {
                        wrong.add(probe + " refused after restoring from " + wreck);
                    }
                }
            }
            assertTrue(wrong.isEmpty(), String.join("\n", wrong));
        });
        victim.releaseAndAwait("wrong entries " + level);
    }

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void shouldCutOffOnlyTheMicroprocessThatWrecksItsEntryTable(final IsolationLevel level)
    {
        boot(level);
        final boolean checked = level != IsolationLevel.OFF;
        final Victim victim = Victim.start(kernel, AREA, SEED, extension);
        final long victimBefore = victim.checksum();
        final long kernelBefore = kernelAreaChecksum();
        attack("cut off " + level, a ->
        {
            a.wreckWholeTable();
            for (final Probe probe : Probe.values())
            {
                assertEquals(!checked, a.admitted(probe), probe.toString());
            }
            if (checked)
            {
                final ErrnoException e = assertThrows(ErrnoException.class,
                    () -> a.ctx.fork(c -> c.exit(0), CopyMode.COPY));
                assertEquals(Errno.EPERM, e.errno());
                assertEquals(Errno.EPERM, assertThrows(ErrnoException.class,
                    () -> a.ctx.kill(victim.pid, Signal.SIGKILL)).errno(), "kill of the victim");
            }
        });
        assertEquals(victimBefore, victim.checksum(), "the victim's area changed");
        assertEquals(kernelBefore, kernelAreaChecksum(), "the kernel's area changed");
        // Another µprocess still gets in, and forks.
        TestPrograms.runClean(kernel, AREA, "after cut off " + level, ctx ->
        {
            final int child = ctx.fork(c -> c.exit(7));
            assertEquals(7, WaitStatus.exitStatus(ctx.waitpid(child, 0).status()));
        });
        victim.releaseAndAwait("cut off " + level);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Stale parent capabilities after fork

    /** Every combination of fenced level and copy mode. */
    static List<Object[]> fencedModes()
    {
        final List<Object[]> combos = new ArrayList<>();
        for (final IsolationLevel level : new IsolationLevel[] {IsolationLevel.ADVERSARIAL,
            IsolationLevel.FAULT_ISOLATION})
        {
            for (final CopyMode mode : CopyMode.values())
            {
                combos.add(new Object[] {level, mode});
            }
        }
        return combos;
    }

    @ParameterizedTest
    @MethodSource("fencedModes")
    void shouldFaultIsolationOnAStaleParentCapabilityInAChild(final IsolationLevel level, final CopyMode mode)
    {
        boot(level);
        final String context = "stale " + level + " " + mode;
        attack(context, a ->
        {
            final Capability parentArea = a.area;
            final Capability parentPlayground = a.playground;
            final long firstData = a.memory.loadLong(a.data, 0);
            final long before = TestPrograms.checksum(kernel.space(), a.base(), AREA);
            forkAndWait(a.ctx, mode, context, c ->
            {
                final Attacker ca = new Attacker(c, extension);
                assertNotEquals(parentArea.base(), ca.base(), "child at the parent's address");
                assertTrue(parentArea.isTagged(), "a Java-held capability keeps its tag");
                for (final Access access : Access.values())
                {
                    final FaultCause expected = FaultCause.ISOLATION;
                    assertEquals(expected, ca.attempt(parentPlayground, access, 0, Capability.NULL),
                        access + " through the parent's playground");
                    assertEquals(expected, ca.attempt(parentArea, access, Attacker.DATA, Capability.NULL),
                        access + " through the parent's area");
                }
                // Stored in the child's own memory and loaded back, it is still tagged, and still fenced.
                ca.memory.storeCapability(ca.playground, 0, parentArea);
                final Capability reloaded = ca.memory.loadCapability(ca.playground, 0);
                assertEquals(parentArea, reloaded);
                assertEquals(FaultCause.ISOLATION, ca.attempt(reloaded, Access.LOAD_LONG, 0, Capability.NULL));
                // Its own relocated capabilities work.
                assertNull(ca.attempt(ca.playground, Access.STORE_LONG, 0, Capability.NULL));
                assertEquals(firstData, ca.memory.loadLong(ca.data, 0), "the child's view of the data page");
            });
            assertEquals(before, TestPrograms.checksum(kernel.space(), a.base(), AREA), "the parent's area changed");
        });
    }

    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldNotFenceAStaleParentCapabilityWhenIsolationIsOff(final CopyMode mode)
    {
        boot(IsolationLevel.OFF);
        final String context = "stale OFF " + mode;
        final CountDownLatch written = new CountDownLatch(1);
        attack(context, a ->
        {
            final Capability parentPlayground = a.playground;
            a.memory.storeLong(a.playground, 0, 1);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final int child = a.ctx.fork(TestPrograms.guarded(failure, c ->
            {
                assertTrue(written.await(TestPrograms.HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS));
                // No fence: the stale capability reads the parent's memory as it is now.
                assertEquals(2, c.memory().loadLong(parentPlayground, 0));
                // CHERI's own checks still hold.
                assertEquals(FaultCause.LENGTH, faultOf(() -> c.memory().loadLong(parentPlayground,
                    Attacker.PLAYGROUND_SIZE)));
            }), mode);
            a.memory.storeLong(a.playground, 0, 2);
            written.countDown();
            awaitChild(failure, a.ctx.waitpid(child, 0).status(), context);
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // A parent's memory view and context captured by Java (regression: the view read the parent's memory)

    @ParameterizedTest
    @MethodSource("fencedModes")
    void shouldRefuseAChildTheParentsMemoryViewAndContext(final IsolationLevel level, final CopyMode mode)
    {
        boot(level);
        final String context = "captured view " + level + " " + mode;
        attack(context, a ->
        {
            final ProcessContext parent = a.ctx;
            final CapabilityMemory parentView = a.memory;
            final Capability parentArea = a.area;
            final Capability parentPlayground = a.playground;
            parent.sigprocmask(ProcessContext.SIG_BLOCK, ProcessContext.maskOf(Signal.SIGUSR1));
            parent.kill(parent.getpid(), Signal.SIGUSR1);
            final long usr1 = ProcessContext.maskOf(Signal.SIGUSR1);
            assertEquals(usr1, parent.sigpending() & usr1, "SIGUSR1 pending in the parent");
            final long before = TestPrograms.checksum(kernel.space(), a.base(), AREA);
            forkAndWait(parent, mode, context, c ->
            {
                final Capability own = c.heap();
                assertEquals(FaultCause.ISOLATION, faultOf(() -> parentView.loadLong(parentArea, Attacker.DATA)),
                    "the parent's view read the parent's memory for the child");
                assertEquals(FaultCause.ISOLATION, faultOf(() -> parentView.loadLong(own, 0)));
                assertEquals(FaultCause.ISOLATION,
                    faultOf(() -> parentView.storeLong(parentPlayground, 0, Attacker.POISON)));
                assertEquals(FaultCause.ISOLATION, faultOf(() -> parentView.loadCapability(parentArea, 0)));
                assertEquals(FaultCause.ISOLATION,
                    faultOf(() -> parentView.copy(parentPlayground, 64, parentArea, 0, 64)));
                assertEquals(FaultCause.ISOLATION, faultOf(() -> parent.register(RegisterFileDescriptor.AREA)));
                assertEquals(FaultCause.ISOLATION, efaultCause(() -> parent.copyIn(parentPlayground, 0, 16)));
                final Runnable[] services = {
                    () -> parent.fork(x -> x.exit(0), CopyMode.COPY),
                    () -> parent.waitpid(-1, ProcessContext.WNOHANG),
                    () -> parent.kill(parent.getpid(), Signal.SIGKILL),
                    () -> parent.sigaction(Signal.SIGUSR1, SignalAction.IGNORE),
                    () -> parent.sigprocmask(ProcessContext.SIG_SETMASK, 0),
                    parent::checkSignals,
                    parent::pause,
                };
                for (int i = 0; i < services.length; i++)
                {
                    final ErrnoException e = assertThrows(ErrnoException.class, services[i]::run, "service " + i);
                    assertEquals(Errno.EPERM, e.errno(), "service " + i + ": " + e.getMessage());
                }
            });
            assertEquals(usr1, parent.sigpending() & usr1, "the child took the parent's pending SIGUSR1");
            assertEquals(before, TestPrograms.checksum(kernel.space(), a.base(), AREA), "the parent's area changed");
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reaching another µprocess's area

    @ParameterizedTest
    @EnumSource(value = IsolationLevel.class, names = {"ADVERSARIAL", "FAULT_ISOLATION"})
    void shouldNeverReachAnotherArea(final IsolationLevel level)
    {
        boot(level);
        final Victim victim = Victim.start(kernel, AREA, SEED, extension);
        final long victimBefore = victim.checksum();
        final MicroProcess init = kernel.init();
        final long initBefore = TestPrograms.checksum(kernel.space(), init.base, init.area.size());
        attack("reach " + level, a ->
        {
            for (final long target : new long[] {victim.base, victim.base + victim.size - 16, init.base,
                kernel.entry(0).base(), a.base() - 16, a.top()})
            {
                for (final Capability from : new Capability[] {a.area, a.playground, a.table})
                {
                    final Capability derived = from.withAddress(target);
                    final FaultCause expected = derived.isTagged() ? FaultCause.LENGTH : FaultCause.TAG;
                    for (final Access access : new Access[] {Access.LOAD_LONG, Access.LOAD_CAP, Access.COPY_FROM,
                        Access.KERNEL_COPY_IN})
                    {
                        assertEquals(expected, a.attempt(derived, access, 0, Capability.NULL),
                            access + " through " + derived);
                    }
                    if (from.hasPermissions(Permission.STORE.mask()))
                    {
                        for (final Access access : new Access[] {Access.STORE_LONG, Access.STORE_CAP,
                            Access.COPY_TO, Access.KERNEL_COPY_OUT})
                        {
                            assertEquals(expected, a.attempt(derived, access, 0, Capability.NULL),
                                access + " through " + derived);
                        }
                    }
                    final Capability rebuilt = Capability.buildCap(a.area, target, from.metadataBits());
                    assertTrue(!rebuilt.isTagged() || (rebuilt.base() >= a.base()
                        && rebuilt.base() + rebuilt.length() <= a.top()), "rebuilt " + rebuilt);
                }
            }
            // A capability smuggled in from the victim passes CHERI's checks; the fence stops it.
            for (final Access access : Access.values())
            {
                assertEquals(FaultCause.ISOLATION, a.attempt(victim.area, access, 4096, Capability.NULL),
                    access.toString());
                assertEquals(FaultCause.ISOLATION, a.attempt(victim.area.add(4096).setBounds(64), access, 0,
                    Capability.NULL), access + " narrowed");
            }
            assertEquals(FaultCause.PERMIT_STORE, a.attempt(victim.table, Access.STORE_LONG, 0, Capability.NULL));
            assertEquals(FaultCause.ISOLATION, a.attempt(victim.table, Access.LOAD_CAP, 0, Capability.NULL),
                "the victim's entry table");
            a.memory.storeCapability(a.playground, 0, victim.area);
            final Capability reloaded = a.memory.loadCapability(a.playground, 0);
            assertEquals(victim.area, reloaded);
            assertEquals(FaultCause.ISOLATION, a.attempt(reloaded, Access.STORE_LONG, 0, Capability.NULL));
        });
        assertEquals(victimBefore, victim.checksum(), "the victim's area changed");
        assertEquals(initBefore, TestPrograms.checksum(kernel.space(), init.base, init.area.size()),
            "init's area changed");
        victim.releaseAndAwait("reach " + level);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Privileged permissions

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void shouldHoldNoPrivilegedPermissionsBeforeOrAfterFork(final IsolationLevel level)
    {
        boot(level);
        attack("privilege " + level, a ->
        {
            assertHoldsOnlyItsOwn(a, "spawned");
            for (final CopyMode mode : CopyMode.values())
            {
                forkAndWait(a.ctx, mode, "privilege " + level + " " + mode,
                    c -> assertHoldsOnlyItsOwn(new Attacker(c, extension), mode + " child"));
            }
            final Capability own = a.playground.setBoundsExact(64);
            assertFalse(own.seal(a.area).isTagged(), "sealed without SEAL");
            assertFalse(own.sealEntry().isTagged(), "a sentry without EXECUTE");
            assertEquals(own.permissions(), own.andPermissions(Attacker.PRIVILEGED | Permissions.ALL).permissions());
            final Capability bits = Attacker.withPermissionBits(own, own.permissions()
                | Permission.ACCESS_SYSTEM_REGISTERS.mask());
            assertFalse(Capability.buildCap(a.area, bits.addressBits(), bits.metadataBits()).isTagged());
        });
    }

    /**
     * Checks every tagged granule of the register file and entry table, and the capabilities the context hands
     * out: each is bounded to the µprocess's own area and has no privileged permission, or is a sealed kernel entry.
     */
    private void assertHoldsOnlyItsOwn(final Attacker a, final String who)
    {
        for (final Capability cap : new Capability[] {a.ctx.area(), a.ctx.heap(),
            a.ctx.register(RegisterFileDescriptor.ENTRIES)})
        {
            assertOwn(a, cap, who);
        }
        int entries = 0;
        for (long at = 0; at < RegisterFileDescriptor.SIZE; at += RegisterFileDescriptor.REGISTER_SIZE)
        {
            final Capability cap = a.memory.loadCapability(a.area, at);
            if (!cap.isTagged())
            {
                continue;
            }
            if (cap.isSealed())
            {
                assertTrue(at >= RegisterFileDescriptor.ENTRY_TABLE, who + ": sealed " + cap + " in a register");
                final int slot = (int)((at - RegisterFileDescriptor.ENTRY_TABLE) / RegisterFileDescriptor.REGISTER_SIZE);
                assertEquals(kernel.entry(slot), cap, who + ": slot " + slot + " is not the kernel's entry");
                entries++;
            }
            else
            {
                assertOwn(a, cap, who + " at +0x" + Long.toHexString(at));
            }
        }
        assertEquals(RegisterFileDescriptor.ENTRY_COUNT, entries, who + ": kernel entries held");
    }

    private static void assertOwn(final Attacker a, final Capability cap, final String who)
    {
        assertTrue(cap.isTagged() && !cap.isSealed(), who + ": " + cap);
        assertEquals(0, cap.permissions() & Attacker.PRIVILEGED, who + ": privileged " + cap);
        assertTrue(cap.base() >= a.base() && cap.base() + cap.length() <= a.top(),
            who + ": " + cap + " outside the area " + a.area);
    }
}
