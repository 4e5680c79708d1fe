package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.CheriConcentrate;
import dev.ufork.capability.FaultCause;
import dev.ufork.capability.Permission;
import dev.ufork.capability.Permissions;

import java.util.Arrays;

/**
 * A hostile µprocess's toolkit for the isolation tests: the layout it keeps in its own area, an oracle that says how
 * every access through a capability must end (the CHERI checks in ISAv9 priority order, then the fence around the
 * µprocess's area), the accesses themselves, probes of the kernel services through the entry table, and the ways of
 * presenting a wrong kernel entry.
 * <p>
 * Layout, as offsets from the area base (after the register file and entry table):
 * <pre>
 *   0x0800  VAULT       a tagged copy of the entry table (1 KiB), to restore wrecked entries from
 *   0x1000  DATA        one page of untagged bytes, read through a LOAD-only view (so copies from it carry no tag)
 *   0x2000  PLAYGROUND  16 KiB: the only bytes an attack may write
 * </pre>
 * <p>
 * Thread safety: confined to the µprocess whose context it wraps.
 */
final class Attacker
{
    /** Offset of the tagged copy of the entry table. */
    static final long VAULT = RegisterFileDescriptor.SIZE;
    /** Offset of the page of untagged data. */
    static final long DATA = 0x1000;
    /** Offset of the bytes attacks may write. */
    static final long PLAYGROUND = 0x2000;
    /** Bytes of the playground. */
    static final long PLAYGROUND_SIZE = 0x4000;
    /** Bytes of the entry table. */
    static final int TABLE_BYTES = RegisterFileDescriptor.ENTRY_COUNT * RegisterFileDescriptor.REGISTER_SIZE;
    /** Permissions no µprocess capability may carry: privilege, sealing, code. */
    static final int PRIVILEGED = Permission.ACCESS_SYSTEM_REGISTERS.mask() | Permission.SEAL.mask()
        | Permission.UNSEAL.mask() | Permission.EXECUTE.mask() | Permission.CINVOKE.mask() | Permission.SET_CID.mask();
    /** The value attacks store as data. */
    static final long POISON = 0x5EED_BAD0_0BAD_5EEDL;

    /**
     * One access through a capability, as an attack makes it.
     */
    enum Access
    {
        /** {@code loadLong}. */
        LOAD_LONG(8, true, false, false),
        /** {@code storeLong}. */
        STORE_LONG(8, false, false, false),
        /** {@code loadCapability}. */
        LOAD_CAP(16, true, true, false),
        /** {@code storeCapability}. */
        STORE_CAP(16, false, true, false),
        /** {@code copy} into the playground with the capability as source. */
        COPY_FROM(32, true, false, false),
        /** {@code copy} from the data page with the capability as destination. */
        COPY_TO(32, false, false, false),
        /** The kernel's {@code copyIn} from the capability. */
        KERNEL_COPY_IN(16, true, false, true),
        /** The kernel's {@code copyOut} into the capability. */
        KERNEL_COPY_OUT(16, false, false, true);

        final int size;
        final boolean load;
        final boolean capability;
        final boolean kernel;

        Access(final int size, final boolean load, final boolean capability, final boolean kernel)
        {
            this.size = size;
            this.load = load;
            this.capability = capability;
            this.kernel = kernel;
        }
    }

    /**
     * A kernel service and a call of it that is harmless once admitted: it fails argument validation (EINVAL) or
     * does nothing, so that whether the entry was admitted is the only thing it tells.
     */
    enum Probe
    {
        /** {@code fork(null, COPA)}: EINVAL once admitted. */
        FORK,
        /** {@code waitpid(0, 0)}: EINVAL (process groups) once admitted. */
        WAIT,
        /** {@code kill(self, null)}: EINVAL once admitted. */
        KILL,
        /** {@code sigaction(null, null)}: EINVAL once admitted. */
        SIGNAL,
        /** {@code enter} of a service registered by the test. */
        EXTENSION
    }

    /**
     * A way of presenting a wrong entry to a service: by changing the entry's slot, or the ENTRIES register that
     * says where the table is. {@link #MOVED_TABLE} is the control: a genuine table moved elsewhere must still work.
     */
    enum Wreck
    {
        /** NULL in the slot. */
        NULL_SLOT(true),
        /** The entry's exact bytes written as two data words: untagged. */
        DATA_COPY_SLOT(true),
        /** The entry's exact bytes copied out by the kernel ({@code copyOut}): untagged. */
        KERNEL_COPY_SLOT(true),
        /** One byte of the entry rewritten with its own value: the tag clears. */
        BYTE_REWRITE_SLOT(true),
        /** Another service's genuine entry. */
        OTHER_ENTRY_SLOT(true),
        /** A derivation of the genuine entry (any clears its tag). */
        DERIVED_ENTRY_SLOT(true),
        /** {@code buildCap} over the entry's bits with the µprocess's area as authority. */
        REBUILT_ENTRY_SLOT(true),
        /** The µprocess's own (unsealed) area capability. */
        OWN_CAPABILITY_SLOT(true),
        /** ENTRIES register NULL. */
        NULL_TABLE(false),
        /** ENTRIES register over the genuine table without LOAD_CAP: entries load untagged. */
        NO_LOAD_CAP_TABLE(false),
        /** ENTRIES register 8 bytes off: entry loads are misaligned. */
        MISALIGNED_TABLE(false),
        /** ENTRIES register is a sealed entry. */
        SEALED_TABLE(false),
        /** ENTRIES register over a tagged copy of the table in the playground whose slot is wrong. */
        WRONG_COPY_TABLE(false),
        /** ENTRIES register is a capability smuggled in from another µprocess (its genuine table). */
        FOREIGN_TABLE(false),
        /** Control: ENTRIES register over a genuine tagged copy of the table in the playground: admitted. */
        MOVED_TABLE(false);

        final boolean slot;

        Wreck(final boolean slot)
        {
            this.slot = slot;
        }
    }

    final ProcessContext ctx;
    final CapabilityMemory memory;
    /** Whether the kernel fences µprocesses (isolation is not OFF). */
    final boolean fenced;
    final Capability area;
    final Capability table;
    final Capability vault;
    final Capability data;
    final Capability playground;
    /** The inbox copies from other capabilities land in: the playground's first 32 bytes. */
    final Capability inbox;
    private final KernelService extension;

    /**
     * Wraps the calling µprocess's context. Reads its registers, so call it on the µprocess's thread, after
     * {@link #prepare} (in it or an ancestor).
     *
     * @param ctx       the µprocess's context.
     * @param extension a service the test registered, probed as {@link Probe#EXTENSION}.
     */
    Attacker(final ProcessContext ctx, final KernelService extension)
    {
        this.ctx = ctx;
        this.memory = ctx.memory();
        this.fenced = ctx.isolation() != IsolationLevel.OFF;
        this.extension = extension;
        this.area = ctx.area();
        this.table = ctx.register(RegisterFileDescriptor.ENTRIES);
        this.vault = area.add(VAULT).setBoundsExact(TABLE_BYTES);
        this.data = area.add(DATA).setBoundsExact(0x1000).andPermissions(Permissions.DATA_READ);
        this.playground = area.add(PLAYGROUND).setBoundsExact(PLAYGROUND_SIZE);
        this.inbox = playground.setBoundsExact(32);
    }

    /**
     * Lays out the vault and the data page in the calling µprocess's area; its forked children inherit both.
     *
     * @param ctx  the µprocess's context.
     * @param seed fills the data page.
     */
    static void prepare(final ProcessContext ctx, final long seed)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        memory.copy(area, VAULT, ctx.register(RegisterFileDescriptor.ENTRIES), 0, TABLE_BYTES);
        final var random = TestPrograms.random(seed);
        for (long at = DATA; at < PLAYGROUND; at += Long.BYTES)
        {
            memory.storeLong(area, at, random.nextLong());
        }
    }

    /** @return the base of this µprocess's area. */
    long base()
    {
        return area.base();
    }

    /** @return the first byte past this µprocess's area. */
    long top()
    {
        return area.base() + area.length();
    }

    /**
     * @param index an entry-table slot.
     * @return the genuine entry of that slot, from the vault.
     */
    Capability genuineEntry(final int index)
    {
        return memory.loadCapability(vault, (long)index * RegisterFileDescriptor.REGISTER_SIZE);
    }

    /**
     * @param probe a probe.
     * @return the entry-table slot of its service.
     */
    int slotOf(final Probe probe)
    {
        return switch (probe)
        {
            case FORK -> KernelService.FORK.index();
            case WAIT -> KernelService.WAIT.index();
            case KILL -> KernelService.KILL.index();
            case SIGNAL -> KernelService.SIGNAL.index();
            case EXTENSION -> extension.index();
        };
    }

    // ------------------------------------------------------------------------------------------------------------
    // The oracle and the accesses

    /**
     * How an access must end: the first failing CHERI check in ISAv9 priority order (TAG, SEAL, the permission,
     * STORE_CAP and STORE_LOCAL_CAP for a tagged value, LENGTH, ALIGNMENT), then ISOLATION if any byte lies outside
     * this µprocess's area and the kernel fences, else no fault.
     *
     * @param authority the capability the access goes through.
     * @param access    the access.
     * @param offset    from the authority's address.
     * @param value     what a {@link Access#STORE_CAP} stores.
     * @return the fault cause, or null if the access must succeed.
     */
    FaultCause expected(final Capability authority, final Access access, final long offset, final Capability value)
    {
        final long address = authority.address() + offset;
        if (!authority.isTagged())
        {
            return FaultCause.TAG;
        }
        if (authority.isSealed())
        {
            return FaultCause.SEAL;
        }
        if (!authority.hasPermissions(access.load ? Permission.LOAD.mask() : Permission.STORE.mask()))
        {
            return access.load ? FaultCause.PERMIT_LOAD : FaultCause.PERMIT_STORE;
        }
        if (access == Access.STORE_CAP && value.isTagged())
        {
            if (!authority.hasPermissions(Permission.STORE_CAP.mask()))
            {
                return FaultCause.PERMIT_STORE_CAP;
            }
            if (!value.hasPermissions(Permission.GLOBAL.mask())
                && !authority.hasPermissions(Permission.STORE_LOCAL_CAP.mask()))
            {
                return FaultCause.PERMIT_STORE_LOCAL_CAP;
            }
        }
        final long top = authority.isTopMax() || authority.top() < 0 ? Long.MAX_VALUE : authority.top();
        if (address < authority.base() || address > top - access.size)
        {
            return FaultCause.LENGTH;
        }
        if (access.capability && (address & (RegisterFileDescriptor.REGISTER_SIZE - 1)) != 0)
        {
            return FaultCause.ALIGNMENT;
        }
        if (fenced && !inside(address, access.size, base(), top()))
        {
            return FaultCause.ISOLATION;
        }
        return null;
    }

    private static boolean inside(final long address, final long size, final long from, final long to)
    {
        return address >= from && address + size <= to;
    }

    /**
     * Makes the access.
     *
     * @return the fault cause it ended with (for the kernel's copies, the cause of their EFAULT), or null.
     * @throws AssertionError if the kernel's copies fail in any other way.
     */
    FaultCause attempt(final Capability authority, final Access access, final long offset, final Capability value)
    {
        try
        {
            switch (access)
            {
                case LOAD_LONG -> memory.loadLong(authority, offset);
                case STORE_LONG -> memory.storeLong(authority, offset, POISON);
                case LOAD_CAP -> memory.loadCapability(authority, offset);
                case STORE_CAP -> memory.storeCapability(authority, offset, value);
                case COPY_FROM -> memory.copy(inbox, 0, authority, offset, access.size);
                case COPY_TO -> memory.copy(authority, offset, data, 0, access.size);
                case KERNEL_COPY_IN -> ctx.copyIn(authority, offset, access.size);
                case KERNEL_COPY_OUT -> ctx.copyOut(authority, offset, poisonBytes(access.size), 0, access.size);
            }
            return null;
        }
        catch (final CapabilityFault fault)
        {
            if (access.kernel)
            {
                throw new AssertionError(access + " let a capability fault escape instead of EFAULT", fault);
            }
            return fault.faultCause();
        }
        catch (final ErrnoException e)
        {
            if (!access.kernel || e.errno() != Errno.EFAULT || !(e.getCause() instanceof CapabilityFault fault))
            {
                throw new AssertionError(access + " through " + authority + " failed with " + e, e);
            }
            return fault.faultCause();
        }
    }

    /**
     * Makes the access and checks that it ended as {@link #expected} says. An access the oracle allows must write
     * nothing but the playground (else the test itself is wrong).
     *
     * @param what      the attack, for the message.
     * @param authority the capability.
     * @param access    the access.
     * @param offset    from the authority's address.
     * @param value     what a {@link Access#STORE_CAP} stores.
     * @return how it ended.
     */
    FaultCause check(final String what, final Capability authority, final Access access, final long offset,
        final Capability value)
    {
        final FaultCause expected = expected(authority, access, offset, value);
        if (expected == null && !access.load)
        {
            final long address = authority.address() + offset;
            final long from = playground.base();
            if (!inside(address, access.size, from, from + PLAYGROUND_SIZE))
            {
                throw new AssertionError("test error: " + what + " would store outside the playground: " + access
                    + " at 0x" + Long.toHexString(address));
            }
        }
        final FaultCause actual = attempt(authority, access, offset, value);
        if (actual != expected)
        {
            throw new AssertionError(what + ": " + access + " at offset " + offset + " through " + authority
                + " (value " + value + ") ended with " + describe(actual) + ", expected " + describe(expected));
        }
        return actual;
    }

    /**
     * As {@link #check}, and the access must fault: an attack that succeeds is a hole.
     *
     * @return the fault cause.
     */
    FaultCause checkFaults(final String what, final Capability authority, final Access access, final long offset,
        final Capability value)
    {
        final FaultCause cause = check(what, authority, access, offset, value);
        if (cause == null)
        {
            throw new AssertionError(what + ": " + access + " at offset " + offset + " through " + authority
                + " succeeded");
        }
        return cause;
    }

    private static String describe(final FaultCause cause)
    {
        return cause == null ? "no fault" : cause + " fault";
    }

    static byte[] poisonBytes(final int length)
    {
        final byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte)0xA5);
        return bytes;
    }

    /**
     * @param cap a capability.
     * @return its 16 in-memory bytes, little-endian, address word first.
     */
    static byte[] bytesOf(final Capability cap)
    {
        final byte[] bytes = new byte[16];
        for (int i = 0; i < 8; i++)
        {
            bytes[i] = (byte)(cap.addressBits() >>> (8 * i));
            bytes[8 + i] = (byte)(cap.metadataBits() >>> (8 * i));
        }
        return bytes;
    }

    /**
     * @param cap   a capability.
     * @param perms permissions to write into its bits.
     * @return its bits with the permission field replaced, untagged: what an attacker can compute, not use.
     */
    static Capability withPermissionBits(final Capability cap, final int perms)
    {
        // buildCap under an untagged authority never tags: it only decodes the bits.
        return Capability.buildCap(Capability.NULL, cap.addressBits(),
            CheriConcentrate.withPermissions(cap.metadataBits(), perms));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Kernel services through the entry table

    /**
     * Calls the probe's service.
     *
     * @return whether the kernel admitted the call (it failed argument validation, or did its harmless work).
     * @throws AssertionError if the call ended in any way but admission or EPERM.
     */
    boolean admitted(final Probe probe)
    {
        try
        {
            switch (probe)
            {
                case FORK -> ctx.fork(null, CopyMode.COPA);
                case WAIT -> ctx.waitpid(0, 0);
                case KILL -> ctx.kill(ctx.getpid(), null);
                case SIGNAL -> ctx.sigaction(null, null);
                case EXTENSION ->
                {
                    ctx.enter(extension);
                    return true;
                }
            }
            throw new AssertionError(probe + " probe returned normally");
        }
        catch (final ErrnoException e)
        {
            if (e.errno() == Errno.EPERM)
            {
                return false;
            }
            if (e.errno() == Errno.EINVAL)
            {
                return true;
            }
            throw new AssertionError(probe + " probe failed with " + e, e);
        }
    }

    /**
     * Presents a wrong entry for {@code probe}'s service in the given way.
     *
     * @param wreck   how.
     * @param probe   whose slot a slot wreck changes.
     * @param foreign another µprocess's ENTRIES register, for {@link Wreck#FOREIGN_TABLE}.
     */
    void wreck(final Wreck wreck, final Probe probe, final Capability foreign)
    {
        final int slot = slotOf(probe);
        final long at = RegisterFileDescriptor.entryOffset(slot);
        final Capability genuine = genuineEntry(slot);
        switch (wreck)
        {
            case NULL_SLOT -> memory.storeCapability(area, at, Capability.NULL);
            case DATA_COPY_SLOT ->
            {
                memory.storeLong(area, at, genuine.addressBits());
                memory.storeLong(area, at + Long.BYTES, genuine.metadataBits());
            }
            case KERNEL_COPY_SLOT -> ctx.copyOut(area, at, bytesOf(genuine), 0, 16);
            case BYTE_REWRITE_SLOT -> memory.storeByte(area, at + 9, memory.loadByte(area, at + 9));
            case OTHER_ENTRY_SLOT -> memory.storeCapability(area, at, genuineEntry((slot + 1) % 5));
            case DERIVED_ENTRY_SLOT -> memory.storeCapability(area, at, genuine.add(0));
            case REBUILT_ENTRY_SLOT -> memory.storeCapability(area, at,
                Capability.buildCap(area, genuine.addressBits(), genuine.metadataBits()));
            case OWN_CAPABILITY_SLOT -> memory.storeCapability(area, at, area);
            case NULL_TABLE -> ctx.setRegister(RegisterFileDescriptor.ENTRIES, Capability.NULL);
            case NO_LOAD_CAP_TABLE -> ctx.setRegister(RegisterFileDescriptor.ENTRIES,
                table.andPermissions(~Permission.LOAD_CAP.mask()));
            case MISALIGNED_TABLE -> ctx.setRegister(RegisterFileDescriptor.ENTRIES, table.add(8));
            case SEALED_TABLE -> ctx.setRegister(RegisterFileDescriptor.ENTRIES, genuine);
            case WRONG_COPY_TABLE ->
            {
                final Capability copy = tableCopy();
                memory.storeCapability(copy, (long)slot * RegisterFileDescriptor.REGISTER_SIZE,
                    genuineEntry((slot + 1) % 5));
                ctx.setRegister(RegisterFileDescriptor.ENTRIES, copy.andPermissions(table.permissions()));
            }
            case FOREIGN_TABLE -> ctx.setRegister(RegisterFileDescriptor.ENTRIES, foreign);
            case MOVED_TABLE -> ctx.setRegister(RegisterFileDescriptor.ENTRIES,
                tableCopy().andPermissions(table.permissions()));
        }
    }

    /** A tagged copy of the genuine table at the end of the playground. */
    private Capability tableCopy()
    {
        final Capability copy = playground.add(PLAYGROUND_SIZE - TABLE_BYTES).setBoundsExact(TABLE_BYTES);
        memory.copy(copy, 0, vault, 0, TABLE_BYTES);
        return copy;
    }

    /** Undoes every wreck: the genuine table register and entries back in place. */
    void restore()
    {
        ctx.setRegister(RegisterFileDescriptor.ENTRIES, table);
        memory.copy(area, RegisterFileDescriptor.ENTRY_TABLE, vault, 0, TABLE_BYTES);
    }

    /**
     * Wrecks the whole entry table (data over every slot), cutting this µprocess off from the kernel.
     */
    void wreckWholeTable()
    {
        memory.fill(area, RegisterFileDescriptor.ENTRY_TABLE, TABLE_BYTES, (byte)0);
        memory.fill(area, VAULT, TABLE_BYTES, (byte)0);
    }
}
