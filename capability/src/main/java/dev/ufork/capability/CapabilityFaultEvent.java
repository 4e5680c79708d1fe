package dev.ufork.capability;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event for every {@link CapabilityFault}, with the faulting stack. On by default: faults are rare, and when
 * they happen the stack is what one needs.
 * <p>
 * Thread safety: an event instance is used by one thread only.
 */
@Name("dev.ufork.CapabilityFault")
@Label("Capability Fault")
@Description("A load or store through a capability was refused")
@Category({"ufork", "Capability"})
@StackTrace(true)
final class CapabilityFaultEvent extends Event
{
    @Label("Cause")
    String cause;

    @Label("Cause Code")
    int causeCode;

    @Label("Address")
    @MemoryAddress
    long address;

    @Label("Size")
    @DataAmount
    long size;

    @Label("Authority")
    String authority;

    static void record(final FaultCause cause, final Capability authority, final long address, final long size)
    {
        final CapabilityFaultEvent event = new CapabilityFaultEvent();
        if (event.shouldCommit())
        {
            event.cause = cause.name();
            event.causeCode = cause.code();
            event.address = address;
            event.size = size;
            event.authority = String.valueOf(authority);
            event.commit();
        }
    }
}
