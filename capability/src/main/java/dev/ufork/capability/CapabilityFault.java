package dev.ufork.capability;

/**
 * A load or store through a capability was refused. Nothing was read or written. Carries the cause, the
 * authorising capability, the address and the size of the attempted access.
 * <p>
 * Every fault is also recorded as a {@code dev.ufork.CapabilityFault} JFR event with its stack trace.
 * <p>
 * Thread safety: immutable.
 */
public final class CapabilityFault extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final FaultCause cause;
    private final transient Capability authority;
    private final long address;
    private final long size;

    /**
     * @param cause     the highest-priority check that failed.
     * @param authority the capability the access was made through.
     * @param address   the first address of the access.
     * @param size      the number of bytes of the access.
     */
    public CapabilityFault(final FaultCause cause, final Capability authority, final long address, final long size)
    {
        super(cause + " fault: " + size + "-byte access at 0x" + Long.toHexString(address) + " through " + authority);
        this.cause = cause;
        this.authority = authority;
        this.address = address;
        this.size = size;
    }

    /**
     * Creates a fault and records its {@code dev.ufork.CapabilityFault} JFR event, as every fault raised by checked
     * access is recorded: for code outside this package that refuses accesses (a kernel's {@link AccessBarrier}).
     *
     * @param cause     the check that failed.
     * @param authority the capability the access was made through.
     * @param address   the first address of the access.
     * @param size      the number of bytes of the access.
     * @return the fault, to throw.
     */
    public static CapabilityFault recorded(final FaultCause cause, final Capability authority, final long address,
        final long size)
    {
        CapabilityFaultEvent.record(cause, authority, address, size);
        return new CapabilityFault(cause, authority, address, size);
    }

    /** @return why the access was refused. */
    public FaultCause faultCause()
    {
        return cause;
    }

    /** @return the capability the access was made through. */
    public Capability authority()
    {
        return authority;
    }

    /** @return the first address of the refused access. */
    public long address()
    {
        return address;
    }

    /** @return the size in bytes of the refused access. */
    public long size()
    {
        return size;
    }
}
