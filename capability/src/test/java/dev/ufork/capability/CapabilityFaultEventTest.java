package dev.ufork.capability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ufork.memory.AddressSpace;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingStream;

import org.junit.jupiter.api.Test;

/**
 * Every {@link CapabilityFault} is recorded as the JFR event {@code dev.ufork.CapabilityFault} with the cause name,
 * the cause code, the address, the size, the authority and the stack of the faulting access.
 */
class CapabilityFaultEventTest
{
    private static final String EVENT = "dev.ufork.CapabilityFault";
    private static final long TIMEOUT_SECONDS = 30;
    private static final String TEST_METHOD = "shouldRecordEventWithCauseAddressSizeAuthorityAndStackWhenAccessFaults";

    /** One fault to trigger: its expected fields and the access that takes it. */
    private record Trigger(FaultCause cause, Capability authority, long address, long size, Runnable access)
    {
    }

    @Test
    void shouldRecordEventWithCauseAddressSizeAuthorityAndStackWhenAccessFaults() throws Exception
    {
        try (AddressSpace space = AddressSpace.reserve(16L << 20))
        {
            final CapabilityMemory mem = new CapabilityMemory(space);
            final Capability root = CapabilityRoots.memoryRoot(space);
            // Each trigger faults at an address no other one uses, so that events can be told apart.
            final Capability c = root.withAddress(0x12_3400).setBoundsExact(0x100);
            final Capability local = root.withAddress(0x50_0000).setBoundsExact(16)
                .andPermissions(~Permission.GLOBAL.mask());
            final Capability untagged = c.withTagCleared();
            final Capability sentry = c.sealEntry();
            final Capability noLoad = c.andPermissions(~Permission.LOAD.mask());
            final Capability noStore = c.andPermissions(~Permission.STORE.mask());
            final Capability noStoreCap = c.andPermissions(~Permission.STORE_CAP.mask());
            final Capability noStoreLocal = c.andPermissions(~Permission.STORE_LOCAL_CAP.mask());
            final List<Trigger> triggers = List.of(
                new Trigger(FaultCause.TAG, untagged, 0x12_3401, 8, () -> mem.loadLong(untagged, 1)),
                new Trigger(FaultCause.SEAL, sentry, 0x12_3402, 4, () -> mem.storeInt(sentry, 2, 7)),
                new Trigger(FaultCause.PERMIT_LOAD, noLoad, 0x12_3403, 2, () -> mem.loadShort(noLoad, 3)),
                new Trigger(FaultCause.PERMIT_STORE, noStore, 0x12_3404, 1,
                    () -> mem.storeByte(noStore, 4, (byte)1)),
                new Trigger(FaultCause.PERMIT_STORE_CAP, noStoreCap, 0x12_3410, 16,
                    () -> mem.storeCapability(noStoreCap, 0x10, local)),
                new Trigger(FaultCause.PERMIT_STORE_LOCAL_CAP, noStoreLocal, 0x12_3420, 16,
                    () -> mem.storeCapability(noStoreLocal, 0x20, local)),
                new Trigger(FaultCause.LENGTH, c, 0x12_33FF, 5, () -> mem.fill(c, -1, 5, (byte)0)),
                new Trigger(FaultCause.ALIGNMENT, c, 0x12_3438, 16, () -> mem.loadCapability(c, 0x38)));

            // Load and initialise the event class before the recording starts.
            assertThrows(CapabilityFault.class, () -> mem.loadByte(untagged, 0));

            final Map<Long, CompletableFuture<RecordedEvent>> received = new ConcurrentHashMap<>();
            for (final Trigger t : triggers)
            {
                received.put(t.address(), new CompletableFuture<>());
            }
            final Consumer<RecordedEvent> collect = e ->
            {
                final CompletableFuture<RecordedEvent> f = received.get(e.getLong("address"));
                if (f != null)
                {
                    f.complete(e);
                }
            };
            try (RecordingStream stream = new RecordingStream())
            {
                stream.enable(EVENT).withStackTrace();
                stream.onEvent(EVENT, collect);
                stream.startAsync();

                for (final Trigger t : triggers)
                {
                    final CapabilityFault f = assertThrows(CapabilityFault.class, t.access()::run, t.cause().name());
                    assertEquals(t.cause(), f.faultCause(), "fixture");
                }

                final Map<FaultCause, RecordedEvent> events = new EnumMap<>(FaultCause.class);
                for (final Trigger t : triggers)
                {
                    events.put(t.cause(), received.get(t.address()).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
                }
                for (final Trigger t : triggers)
                {
                    final RecordedEvent e = events.get(t.cause());
                    final String what = t.cause() + " event " + e;
                    assertEquals(EVENT, e.getEventType().getName(), what);
                    assertEquals(t.cause().name(), e.getString("cause"), what);
                    assertEquals(t.cause().code(), e.getInt("causeCode"), what);
                    assertEquals(t.address(), e.getLong("address"), what);
                    assertEquals(t.size(), e.getLong("size"), what);
                    assertEquals(t.authority().toString(), e.getString("authority"), what);
                    assertNotNull(e.getStackTrace(), what + ": no stack trace");
                    final List<RecordedFrame> frames = e.getStackTrace().getFrames();
                    assertFalse(frames.isEmpty(), what + ": empty stack trace");
                    assertTrue(frames.stream().anyMatch(fr -> fr.getMethod().getType().getName()
                            .equals(CapabilityFaultEventTest.class.getName())
                            && fr.getMethod().getName().equals(TEST_METHOD)),
                        what + ": the stack does not reach the test method");
                    assertTrue(frames.stream().anyMatch(fr -> fr.getMethod().getType().getName()
                            .equals(CapabilityMemory.class.getName())),
                        what + ": the stack does not show CapabilityMemory");
                }
            }
        }
    }
}
