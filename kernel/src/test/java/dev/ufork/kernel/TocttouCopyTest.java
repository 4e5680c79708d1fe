package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.FaultCause;
import dev.ufork.capability.Permission;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.AddressSpaceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's TOCTTOU copies, {@link ProcessContext#copyIn} and {@link ProcessContext#copyOut}: a buffer the
 * µprocess may not load from (or store to) gives EFAULT, with the capability fault as the cause, and nothing is
 * written; a copy in is a snapshot the µprocess cannot change afterwards; copies move bytes, never tags. The same at
 * every isolation level, except that only a fenced kernel refuses a stale parent capability.
 */
class TocttouCopyTest
{
    private static final long AREA = 256L << 10;
    /** Where the tests' buffers live, from the area base. */
    private static final long BUFFER = 0x4000;

    private Kernel kernel;

    @AfterEach
    void tearDown()
    {
        if (kernel != null)
        {
            kernel.close();
        }
    }

    /** Runs {@code body} in a fresh µprocess of a kernel at {@code level}, handing it a 64-byte buffer capability. */
    private void run(final IsolationLevel level, final String what, final BufferBody body)
    {
        kernel = Kernel.boot(new KernelConfig(AddressSpaceConfig.ofSize(64L << 20), CopyMode.COPA, AREA, level));
        final AddressSpace space = kernel.space();
        TestPrograms.runClean(kernel, AREA, what + " " + level, ctx ->
        {
            final Capability buffer = ctx.area().add(BUFFER).setBoundsExact(64);
            ctx.memory().storeBytes(buffer, 0, pattern(), 0, 64);
            body.run(ctx, buffer, space);
        });
    }

    /** A test body: the µprocess's context, a 64-byte buffer of known bytes, the space for raw checksums. */
    @FunctionalInterface
    private interface BufferBody
    {
        void run(ProcessContext ctx, Capability buffer, AddressSpace space) throws Exception;
    }

    private static FaultCause efault(final Runnable call)
    {
        final ErrnoException e = assertThrows(ErrnoException.class, call::run);
        assertEquals(Errno.EFAULT, e.errno(), e.getMessage());
        assertTrue(e.getCause() instanceof CapabilityFault, "no capability fault as the cause: " + e.getCause());
        return ((CapabilityFault)e.getCause()).faultCause();
    }

    private static long areaChecksum(final ProcessContext ctx, final AddressSpace space)
    {
        final Capability area = ctx.area();
        return TestPrograms.checksum(space, area.base(), area.length());
    }

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void copyInThroughABufferWithoutLoadOrOutOfBoundsIsEfault(final IsolationLevel level)
    {
        run(level, "copyIn bad buffer", (ctx, buffer, space) ->
        {
            assertEquals(FaultCause.PERMIT_LOAD,
                efault(() -> ctx.copyIn(buffer.andPermissions(~Permission.LOAD.mask()), 0, 8)));
            assertEquals(FaultCause.LENGTH, efault(() -> ctx.copyIn(buffer, 48, 32)), "straddling the top");
            assertEquals(FaultCause.LENGTH, efault(() -> ctx.copyIn(buffer, -16, 16)), "before the base");
            assertEquals(FaultCause.LENGTH, efault(() -> ctx.copyIn(buffer, 64, 1)), "just past the top");
            assertEquals(FaultCause.TAG, efault(() -> ctx.copyIn(buffer.setBounds(128), 0, 8)), "widened");
            assertEquals(FaultCause.SEAL, efault(() -> ctx.copyIn(ctx.memory().loadCapability(
                ctx.register(RegisterFileDescriptor.ENTRIES), 0), 0, 8)), "a kernel entry");
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> ctx.copyIn(buffer, 0, -1)).errno());
            assertArrayEquals(new byte[0], ctx.copyIn(buffer, 64, 0), "an empty copy at the top");
        });
    }

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void copyOutThroughABufferWithoutStoreOrOutOfBoundsWritesNothing(final IsolationLevel level)
    {
        run(level, "copyOut bad buffer", (ctx, buffer, space) ->
        {
            final byte[] poison = Attacker.poisonBytes(32);
            final long before = areaChecksum(ctx, space);
            assertEquals(FaultCause.PERMIT_STORE, efault(() ->
                ctx.copyOut(buffer.andPermissions(~Permission.STORE.mask()), 0, poison, 0, 8)));
            assertEquals(FaultCause.LENGTH, efault(() -> ctx.copyOut(buffer, 48, poison, 0, 32)),
                "straddling the top: not even the part in bounds may be written");
            assertEquals(FaultCause.LENGTH, efault(() -> ctx.copyOut(buffer, -8, poison, 0, 16)), "before the base");
            assertEquals(FaultCause.TAG, efault(() -> ctx.copyOut(buffer.setBounds(128), 0, poison, 0, 8)));
            assertEquals(FaultCause.SEAL, efault(() -> ctx.copyOut(ctx.memory().loadCapability(
                ctx.register(RegisterFileDescriptor.ENTRIES), 0), 0, poison, 0, 8)), "a kernel entry");
            assertEquals(Errno.EINVAL,
                assertThrows(ErrnoException.class, () -> ctx.copyOut(buffer, 0, poison, 0, -1)).errno(),
                "a negative length");
            assertEquals(before, areaChecksum(ctx, space), "a refused copyOut wrote");
            // Control: the same buffer takes a copy that fits.
            ctx.copyOut(buffer, 32, poison, 0, 32);
            assertArrayEquals(poison, ctx.copyIn(buffer, 32, 32));
        });
    }

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void copyInIsASnapshotTheMicroprocessCannotChangeAfterwards(final IsolationLevel level)
    {
        run(level, "copyIn snapshot", (ctx, buffer, space) ->
        {
            final byte[] copy = ctx.copyIn(buffer, 0, 64);
            final byte[] expected = new byte[64];
            ctx.memory().loadBytes(buffer, 0, expected, 0, 64);
            assertArrayEquals(expected, copy);
            ctx.memory().fill(buffer, 0, 64, (byte)0x77);
            assertArrayEquals(expected, copy, "the copy followed the µprocess's buffer");
            final byte[] again = ctx.copyIn(buffer, 0, 64);
            final byte[] sevens = new byte[64];
            Arrays.fill(sevens, (byte)0x77);
            assertArrayEquals(sevens, again, "a new copy sees the new bytes");
        });
    }

    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void copiesMoveBytesNeverTags(final IsolationLevel level)
    {
        run(level, "copies carry no tag", (ctx, buffer, space) ->
        {
            final Capability area = ctx.area();
            ctx.memory().storeCapability(buffer, 0, area);
            final byte[] in = ctx.copyIn(buffer, 0, 16);
            assertArrayEquals(Attacker.bytesOf(area), in, "copyIn of a capability gives its bytes");
            // Writing a capability's exact bytes back over it clears its tag: the kernel cannot be made to forge.
            ctx.copyOut(buffer, 0, in, 0, 16);
            final Capability over = ctx.memory().loadCapability(buffer, 0);
            assertFalse(over.isTagged(), over.toString());
            assertEquals(area.metadataBits(), over.metadataBits());
            ctx.copyOut(buffer, 16, in, 0, 16);
            assertFalse(ctx.memory().loadCapability(buffer, 16).isTagged());
        });
    }

    @ParameterizedTest
    @EnumSource(value = IsolationLevel.class, names = {"ADVERSARIAL", "FAULT_ISOLATION"})
    void copiesThroughAStaleParentCapabilityAreEfaultAndLeaveTheParentAsItWas(final IsolationLevel level)
    {
        run(level, "stale copies", (ctx, buffer, space) ->
        {
            final long before = areaChecksum(ctx, space);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            for (final CopyMode mode : CopyMode.values())
            {
                final int child = ctx.fork(TestPrograms.guarded(failure, c ->
                {
                    assertEquals(FaultCause.ISOLATION, efault(() -> c.copyIn(buffer, 0, 16)), mode + " copyIn");
                    assertEquals(FaultCause.ISOLATION,
                        efault(() -> c.copyOut(buffer, 0, Attacker.poisonBytes(16), 0, 16)), mode + " copyOut");
                    // Its own copy of the buffer, at the same offset in its own area, copies in as the parent's.
                    assertArrayEquals(pattern(), c.copyIn(c.area().add(BUFFER).setBoundsExact(64), 0, 64));
                }), mode);
                final int status = ctx.waitpid(child, 0).status();
                if (failure.get() != null)
                {
                    throw new AssertionError(mode + ": " + failure.get(), failure.get());
                }
                assertTrue(WaitStatus.ifExited(status) && WaitStatus.exitStatus(status) == 0,
                    mode + " child status 0x" + Integer.toHexString(status));
            }
            assertEquals(before, areaChecksum(ctx, space), "the parent's area changed");
        });
    }

    /** @return the bytes {@link #run} writes into the buffer. */
    private static byte[] pattern()
    {
        final byte[] bytes = new byte[64];
        for (int i = 0; i < 64; i += 8)
        {
            final long word = 0x0101_0101_0101_0101L * (i + 1);
            for (int b = 0; b < 8; b++)
            {
                bytes[i + b] = (byte)(word >>> (8 * b));
            }
        }
        return bytes;
    }
}
