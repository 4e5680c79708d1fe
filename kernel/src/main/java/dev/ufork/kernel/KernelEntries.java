package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.CapabilityRoots;
import dev.ufork.capability.Permission;
import dev.ufork.memory.Area;

/**
 * The kernel's entry points as capabilities: one per entry-table slot, each bounded to its own 16 bytes of the
 * kernel's area and sealed with the kernel's object type, which only the kernel can unseal. A µprocess holds copies
 * in its entry table; to call a service it presents the entry of that service's slot, and the kernel accepts
 * exactly its own capability, bit for bit and tagged. Data cannot forge one (the tag comes only from a capability
 * store), a sealed capability cannot be changed (any derivation clears its tag), and a µprocess has no authority to
 * unseal it.
 * <p>
 * Thread safety: immutable after construction.
 */
final class KernelEntries
{
    /** The object type that seals kernel-entry capabilities. */
    static final int KERNEL_OBJECT_TYPE = 1;

    private final Capability[] entries = new Capability[RegisterFileDescriptor.ENTRY_COUNT];

    KernelEntries(final Capability memoryRoot, final Area kernelArea)
    {
        final Capability sealer = CapabilityRoots.sealingRoot().withAddress(KERNEL_OBJECT_TYPE);
        for (int i = 0; i < entries.length; i++)
        {
            entries[i] = memoryRoot.withAddress(kernelArea.base() + (long)i * RegisterFileDescriptor.REGISTER_SIZE)
                .setBoundsExact(RegisterFileDescriptor.REGISTER_SIZE)
                .andPermissions(Permission.EXECUTE.mask() | Permission.GLOBAL.mask())
                .seal(sealer);
        }
    }

    /**
     * Writes the entry table and the load-only capability over it into a fresh µprocess's register file.
     *
     * @param kernelMemory unchecked-by-barrier access for the kernel.
     * @param areaCap      the µprocess's area capability.
     */
    void install(final CapabilityMemory kernelMemory, final Capability areaCap)
    {
        for (int i = 0; i < entries.length; i++)
        {
            kernelMemory.storeCapability(areaCap, RegisterFileDescriptor.entryOffset(i), entries[i]);
        }
        final Capability table = areaCap.add(RegisterFileDescriptor.ENTRY_TABLE)
            .setBoundsExact((long)RegisterFileDescriptor.ENTRY_COUNT * RegisterFileDescriptor.REGISTER_SIZE)
            .andPermissions(Permission.LOAD.mask() | Permission.LOAD_CAP.mask() | Permission.GLOBAL.mask());
        kernelMemory.storeCapability(areaCap, RegisterFileDescriptor.offsetOf(RegisterFileDescriptor.ENTRIES), table);
    }

    /**
     * @param service  the service called.
     * @param presented what the caller presented.
     * @return whether it is the service's entry capability.
     */
    boolean admits(final KernelService service, final Capability presented)
    {
        return presented.isTagged() && presented.equals(entries[service.index()]);
    }

    /** @return the entry of a slot, for tests of what µprocesses hold. */
    Capability entry(final int index)
    {
        return entries[index];
    }
}
