package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.CapabilityRoots;
import dev.ufork.capability.Permission;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One µprocess of the fork model test: the random operations it performs on its own area through its
 * {@link ProcessContext}, each checked against its {@link AreaModel}, and the fork, exit and wait calls that build
 * the tree. All of it runs on the µprocess's own thread; the Java fields are the test's bookkeeping, never the
 * program's state (that is in the area, which is what a fork copies).
 * <p>
 * Thread safety: the model and the child list belong to this µprocess's thread; {@link #exitStatus} and
 * {@link #pid} are published to its parent and the driver.
 */
final class ModelProcess
{
    /** What a step did, for the driver. */
    sealed interface Outcome
    {
        /** @return a one-line description for the operation log. */
        String text();
    }

    /** An ordinary operation. */
    record Done(String text) implements Outcome
    {
    }

    /** A fork: the driver may now schedule the child. */
    record Forked(ModelProcess child, String text) implements Outcome
    {
    }

    /** The µprocess exits with this status once the driver has the outcome. */
    record Exiting(int status, String text) implements Outcome
    {
    }

    /** A check failed or something threw. */
    record Failed(Throwable cause, String text) implements Outcome
    {
    }

    /** What every µprocess of one run shares: the kernel, the fork policy, budgets. */
    static final class Env
    {
        final Kernel kernel;
        final Capability root;
        final CopyMode[] modes;
        final int maxLive;
        final AtomicInteger live = new AtomicInteger();
        final AtomicInteger forks = new AtomicInteger();
        final boolean lockstep;

        Env(final Kernel kernel, final CopyMode[] modes, final int maxLive, final boolean lockstep)
        {
            this.kernel = kernel;
            this.root = CapabilityRoots.memoryRoot(kernel.space());
            this.modes = modes;
            this.maxLive = maxLive;
            this.lockstep = lockstep;
        }
    }

    private static final int HEAP = RegisterFileDescriptor.SIZE;
    private static final int LOG = 48;

    final Env env;
    final ModelProcess parent;
    final int depth;
    final List<ModelProcess> children = new ArrayList<>();
    private final Deque<String> log = new ArrayDeque<>();
    private AreaModel model;
    volatile int pid;
    /** Opened once {@link #pid} is set: a forked child may start before fork has returned in its parent. */
    final java.util.concurrent.CountDownLatch pidKnown = new java.util.concurrent.CountDownLatch(1);
    /** Set just before the µprocess exits; null while it runs. */
    volatile Integer exitStatus;
    private long size;

    ModelProcess(final Env env, final ModelProcess parent, final AreaModel model)
    {
        this.env = env;
        this.parent = parent;
        this.depth = parent == null ? 0 : parent.depth + 1;
        this.model = model;
    }

    /**
     * First thing on the µprocess's thread: learn where the area is, and, for the root, build the model from what
     * spawn put into the register file.
     */
    void start(final ProcessContext ctx) throws InterruptedException
    {
        if (!pidKnown.await(TestPrograms.HANG_GUARD.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS))
        {
            throw new AssertionError("fork never told the child its pid");
        }
        final Capability area = ctx.area();
        size = area.length();
        if (model == null)
        {
            model = AreaModel.zeroed(size, env.root, area.base());
            for (long off = 0; off < HEAP; off += AreaModel.GRANULE)
            {
                final Capability c = ctx.memory().loadCapability(area, off);
                model.storeCapability(off, c);
            }
        }
        else
        {
            if (area.base() == model.base())
            {
                throw new AssertionError("child µprocess at its parent's address 0x" + Long.toHexString(area.base()));
            }
            model.rebase(area.base());
            check("area register", model.expectedCapability(RegisterFileDescriptor.offsetOf(RegisterFileDescriptor.AREA)),
                area);
        }
        if (ctx.getpid() != pid)
        {
            throw new AssertionError("getpid " + ctx.getpid() + ", fork returned " + pid);
        }
    }

    /** @return the last operations of this µprocess, oldest first. */
    String recentLog()
    {
        return String.join("\n", log);
    }

    /**
     * Performs one random operation and checks it against the model.
     *
     * @param program what a forked child runs (the driver's program for a new node).
     */
    Outcome step(final ProcessContext ctx, final SplittableRandom r, final java.util.function.Function<ModelProcess,
        Program> program)
    {
        String text = "?";
        try
        {
            final Outcome outcome = choose(ctx, r, program);
            text = outcome.text();
            return outcome;
        }
        catch (final ProcessTermination t)
        {
            throw t;
        }
        catch (final Throwable t)
        {
            return new Failed(t, "pid " + pid + " failed: " + t);
        }
        finally
        {
            remember(text);
        }
    }

    private void remember(final String text)
    {
        if (log.size() == LOG)
        {
            log.removeFirst();
        }
        log.addLast(text);
    }

    private Outcome choose(final ProcessContext ctx, final SplittableRandom r,
        final java.util.function.Function<ModelProcess, Program> program)
    {
        final int dice = r.nextInt(1000);
        if (dice < 20 && parent != null)
        {
            final int status = r.nextInt(256);
            exitStatus = status;
            env.live.decrementAndGet();
            return new Exiting(status, "exit " + status);
        }
        if (dice < 50)
        {
            final Outcome forked = fork(ctx, r, program);
            if (forked != null)
            {
                return forked;
            }
        }
        if (dice < 80)
        {
            return new Done(waitChild(ctx, r));
        }
        if (dice < 85)
        {
            return new Done(verifyAll(ctx, r));
        }
        if (dice < 90)
        {
            return new Done(ids(ctx));
        }
        final int op = r.nextInt(100);
        final String text;
        if (op < 18)
        {
            text = storeData(ctx, r);
        }
        else if (op < 36)
        {
            text = loadData(ctx, r);
        }
        else if (op < 50)
        {
            text = storeCapability(ctx, r);
        }
        else if (op < 64)
        {
            text = loadCapability(ctx, r);
        }
        else if (op < 74)
        {
            text = chase(ctx, r);
        }
        else if (op < 82)
        {
            text = copy(ctx, r);
        }
        else if (op < 92)
        {
            text = register(ctx, r);
        }
        else
        {
            text = bulk(ctx, r);
        }
        return new Done(text);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Data

    /** A random offset in the heap part of the area where {@code length} bytes fit, sometimes aligned to them. */
    private long heapOffset(final SplittableRandom r, final int length)
    {
        final long off = HEAP + r.nextLong(size - HEAP - length + 1);
        return Integer.bitCount(length) == 1 && length <= 16 && r.nextBoolean() ? off & -length : off;
    }

    private long dataValue(final ProcessContext ctx, final SplittableRandom r)
    {
        return switch (r.nextInt(4))
        {
            // An integer that looks exactly like a pointer into this area: relocation must never touch it.
            case 0 -> model.base() + r.nextLong(size);
            case 1 -> r.nextInt(256);
            default -> r.nextLong();
        };
    }

    private String storeData(final ProcessContext ctx, final SplittableRandom r)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        final int width = 1 << r.nextInt(4);
        final long off = heapOffset(r, width);
        final long value = dataValue(ctx, r);
        switch (width)
        {
            case 1 -> memory.storeByte(area, off, (byte)value);
            case 2 -> memory.storeShort(area, off, (short)value);
            case 4 -> memory.storeInt(area, off, (int)value);
            default -> memory.storeLong(area, off, value);
        }
        final byte[] bytes = new byte[width];
        for (int i = 0; i < width; i++)
        {
            bytes[i] = (byte)(value >>> (8 * i));
        }
        model.write(off, bytes);
        return "store" + width + " +0x" + Long.toHexString(off) + " = 0x" + Long.toHexString(value);
    }

    private String loadData(final ProcessContext ctx, final SplittableRandom r)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        final int width = 1 << r.nextInt(4);
        // Loads may read the register file too: it is ordinary tagged memory.
        final long off = r.nextInt(4) == 0 ? r.nextLong(size - width + 1) : heapOffset(r, width);
        final long actual = switch (width)
        {
            case 1 -> memory.loadByte(area, off) & 0xFFL;
            case 2 -> memory.loadShort(area, off) & 0xFFFFL;
            case 4 -> memory.loadInt(area, off) & 0xFFFF_FFFFL;
            default -> memory.loadLong(area, off);
        };
        final byte[] bytes = model.read(off, width);
        long expected = 0;
        for (int i = 0; i < width; i++)
        {
            expected |= (bytes[i] & 0xFFL) << (8 * i);
        }
        if (actual != expected)
        {
            throw new AssertionError("load" + width + " +0x" + Long.toHexString(off) + ": read 0x"
                + Long.toHexString(actual) + ", the model says 0x" + Long.toHexString(expected));
        }
        return "load" + width + " +0x" + Long.toHexString(off) + " = 0x" + Long.toHexString(actual);
    }

    /** Byte ranges that cross pages: storeBytes, loadBytes, fill. */
    private String bulk(final ProcessContext ctx, final SplittableRandom r)
    {
        final CapabilityMemory memory = ctx.memory();
        final Capability area = ctx.area();
        final int length = 1 + r.nextInt(r.nextBoolean() ? 64 : 9000);
        final long off = heapOffset(r, (int)Math.min(length, size - HEAP));
        final int n = (int)Math.min(length, size - off);
        switch (r.nextInt(3))
        {
            case 0 ->
            {
                final byte[] data = new byte[n];
                r.nextBytes(data);
                memory.storeBytes(area, off, data, 0, n);
                model.write(off, data);
                return "storeBytes +0x" + Long.toHexString(off) + " len " + n;
            }
            case 1 ->
            {
                final byte value = (byte)r.nextInt(256);
                memory.fill(area, off, n, value);
                final byte[] data = new byte[n];
                Arrays.fill(data, value);
                model.write(off, data);
                return "fill +0x" + Long.toHexString(off) + " len " + n + " with " + value;
            }
            default ->
            {
                final byte[] actual = new byte[n];
                memory.loadBytes(area, off, actual, 0, n);
                compareBytes("loadBytes", off, actual, model.read(off, n));
                return "loadBytes +0x" + Long.toHexString(off) + " len " + n;
            }
        }
    }

    private String copy(final ProcessContext ctx, final SplittableRandom r)
    {
        final int length = r.nextInt(r.nextBoolean() ? 600 : 6000);
        long src = heapOffset(r, Math.max(1, length));
        long dst = heapOffset(r, Math.max(1, length));
        if (r.nextBoolean())
        {
            // Congruent mod 16: whole granules move with their tags.
            dst = (dst & -16) | (src & 15);
            if (dst + length > size)
            {
                dst -= 16;
            }
            if (dst < HEAP)
            {
                dst += 16;
            }
        }
        if (src + length > size)
        {
            src = size - length;
        }
        final Capability area = ctx.area();
        ctx.memory().copy(area, dst, area, src, length);
        model.copy(dst, src, length);
        return "copy +0x" + Long.toHexString(src) + " -> +0x" + Long.toHexString(dst) + " len " + length;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Capabilities

    /** A capability value the µprocess could hold: derived from its area, copied, an entry, sealed, or untagged. */
    private Capability capabilityValue(final ProcessContext ctx, final SplittableRandom r)
    {
        final Capability area = ctx.area();
        final Capability value = switch (r.nextInt(10))
        {
            case 0, 1, 2, 3 -> derived(area, r);
            case 4 ->
            {
                final long at = r.nextLong(size / 16) * 16;
                yield ctx.memory().loadCapability(area, at);
            }
            case 5 -> ctx.memory().loadCapability(ctx.register(RegisterFileDescriptor.ENTRIES),
                16L * r.nextInt(RegisterFileDescriptor.ENTRY_COUNT));
            case 6 -> sealedInArea(area, r);
            case 7 -> derived(area, r).withTagCleared();
            case 8 -> Capability.NULL;
            default -> onePastTheEnd(area, r);
        };
        return value;
    }

    /** A capability into a random part of the area, with fewer permissions and its address anywhere representable. */
    private Capability derived(final Capability area, final SplittableRandom r)
    {
        final long base = r.nextLong(size);
        final long length = 1 + r.nextLong(Math.min(size - base, r.nextBoolean() ? 256 : size));
        Capability c = area.withAddress(area.base() + base).setBoundsExact(length);
        if (r.nextInt(3) == 0)
        {
            c = c.andPermissions(r.nextInt() | Permission.LOAD.mask());
        }
        final long address = switch (r.nextInt(4))
        {
            case 0 -> c.base() + length;
            case 1 -> c.base() - 16 * (1 + r.nextInt(4));
            default -> c.base() + r.nextLong(length);
        };
        return c.withAddress(address);
    }

    /** Bounds that end exactly at the area's end, the address one past them: outside the area, inside its image. */
    private Capability onePastTheEnd(final Capability area, final SplittableRandom r)
    {
        final long length = 16L << r.nextInt(6);
        return area.withAddress(area.base() + size - length).setBoundsExact(length).withAddress(area.base() + size);
    }

    /** A sealed capability into the area, as a kernel or library might hand a µprocess (it cannot seal itself). */
    private Capability sealedInArea(final Capability area, final SplittableRandom r)
    {
        final long base = r.nextLong(size / 16) * 16;
        final long length = 16 + r.nextLong(Math.min(size - base, 512)) / 16 * 16;
        return env.root.withAddress(area.base() + base).setBoundsExact(Math.min(length, size - base))
            .andPermissions(area.permissions())
            .seal(CapabilityRoots.sealingRoot().withAddress(1 + r.nextInt(5000)));
    }

    private String storeCapability(final ProcessContext ctx, final SplittableRandom r)
    {
        final Capability value = capabilityValue(ctx, r);
        final long off = HEAP + r.nextLong((size - HEAP) / 16) * 16;
        ctx.memory().storeCapability(ctx.area(), off, value);
        model.storeCapability(off, value);
        return "storeCap +0x" + Long.toHexString(off) + " " + TestPrograms.relative(value, model.base());
    }

    private String loadCapability(final ProcessContext ctx, final SplittableRandom r)
    {
        final long off = r.nextLong(size / 16) * 16;
        final Capability actual = ctx.memory().loadCapability(ctx.area(), off);
        check("loadCap +0x" + Long.toHexString(off), model.expectedCapability(off), actual);
        return "loadCap +0x" + Long.toHexString(off) + " " + TestPrograms.relative(actual, model.base());
    }

    /** Finds a stored capability that can be dereferenced, and loads (or stores) through it. */
    private String chase(final ProcessContext ctx, final SplittableRandom r)
    {
        final long start = r.nextLong(size / 16);
        for (long i = 0; i < size / 16; i++)
        {
            final long off = ((start + i) % (size / 16)) * 16;
            if (model.capAt(off) instanceof ModelCap.Relative rel && rel.objectType() == -1 && rel.length() >= 8
                && (rel.permissions() & Permission.LOAD.mask()) != 0)
            {
                final Capability pointer = ctx.memory().loadCapability(ctx.area(), off);
                check("chase load +0x" + Long.toHexString(off), model.expectedCapability(off), pointer);
                final long at = rel.base() + r.nextLong(rel.length() - 7);
                final long offset = model.base() + at - pointer.address();
                if ((rel.permissions() & Permission.STORE.mask()) != 0 && r.nextBoolean() && at >= HEAP)
                {
                    final long value = dataValue(ctx, r);
                    ctx.memory().storeLong(pointer, offset, value);
                    model.writeLong(at, value);
                    return "chase store via +0x" + Long.toHexString(off) + " at +0x" + Long.toHexString(at);
                }
                final long actual = ctx.memory().loadLong(pointer, offset);
                final long expected = model.readLong(at);
                if (actual != expected)
                {
                    throw new AssertionError("chase via +0x" + Long.toHexString(off) + " load at +0x"
                        + Long.toHexString(at) + ": 0x" + Long.toHexString(actual) + ", model 0x"
                        + Long.toHexString(expected));
                }
                return "chase load via +0x" + Long.toHexString(off) + " at +0x" + Long.toHexString(at);
            }
        }
        return "chase: nothing to follow";
    }

    /** The general registers c0..c31: written and read back, relocated at every fork with the rest. */
    private String register(final ProcessContext ctx, final SplittableRandom r)
    {
        final int index = r.nextInt(RegisterFileDescriptor.GENERAL_REGISTERS);
        final long off = RegisterFileDescriptor.offsetOf(index);
        if (r.nextBoolean())
        {
            final Capability value = capabilityValue(ctx, r);
            ctx.setRegister(index, value);
            model.storeCapability(off, value);
            return "set c" + index + " " + TestPrograms.relative(value, model.base());
        }
        final Capability actual = ctx.register(index);
        check("c" + index, model.expectedCapability(off), actual);
        return "get c" + index;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Process operations

    private Outcome fork(final ProcessContext ctx, final SplittableRandom r,
        final java.util.function.Function<ModelProcess, Program> program)
    {
        if (env.live.incrementAndGet() > env.maxLive)
        {
            env.live.decrementAndGet();
            return null;
        }
        final CopyMode mode = env.modes[r.nextInt(env.modes.length)];
        final ModelProcess child = new ModelProcess(env, this, model.forkTo(-1));
        final int childPid;
        try
        {
            childPid = ctx.fork(program.apply(child), mode);
        }
        catch (final RuntimeException | Error e)
        {
            env.live.decrementAndGet();
            throw e;
        }
        child.pid = childPid;
        child.pidKnown.countDown();
        children.add(child);
        env.forks.incrementAndGet();
        return new Forked(child, "fork " + mode + " -> " + childPid);
    }

    /** Which children have exited (or are exiting): they can be waited for without blocking for long. */
    private List<ModelProcess> exitedChildren()
    {
        final List<ModelProcess> exited = new ArrayList<>();
        for (final ModelProcess child : children)
        {
            if (child.exitStatus != null)
            {
                exited.add(child);
            }
        }
        return exited;
    }

    private String waitChild(final ProcessContext ctx, final SplittableRandom r)
    {
        if (children.isEmpty())
        {
            try
            {
                ctx.waitpid(-1, r.nextBoolean() ? ProcessContext.WNOHANG : 0);
            }
            catch (final ErrnoException e)
            {
                if (e.errno() != Errno.ECHILD)
                {
                    throw e;
                }
                return "wait: ECHILD";
            }
            throw new AssertionError("waitpid with no children did not fail with ECHILD");
        }
        final List<ModelProcess> exited = exitedChildren();
        if (exited.isEmpty())
        {
            final WaitResult result = ctx.waitpid(r.nextBoolean() ? -1 : children.get(r.nextInt(children.size())).pid,
                ProcessContext.WNOHANG);
            if (result.pid() != 0 && env.lockstep)
            {
                throw new AssertionError("WNOHANG reaped " + result + " though no child has exited");
            }
            return result.pid() == 0 ? "wait WNOHANG: none" : reaped(result);
        }
        final WaitResult result;
        if (exited.size() == 1 && r.nextBoolean())
        {
            result = ctx.waitpid(-1, 0);
        }
        else
        {
            result = ctx.waitpid(exited.get(r.nextInt(exited.size())).pid, r.nextInt(4) == 0 ? ProcessContext.WNOHANG : 0);
            if (result.pid() == 0)
            {
                return "wait WNOHANG: not yet a zombie";
            }
        }
        return reaped(result);
    }

    private String reaped(final WaitResult result)
    {
        for (final ModelProcess child : children)
        {
            if (child.pid == result.pid())
            {
                final Integer status = child.exitStatus;
                if (status == null)
                {
                    throw new AssertionError("waitpid reaped " + result.pid() + ", which has not exited");
                }
                if (result.status() != WaitStatus.exited(status))
                {
                    throw new AssertionError("child " + result.pid() + " exited with " + status + ", waitpid says 0x"
                        + Integer.toHexString(result.status()));
                }
                children.remove(child);
                return "wait -> " + result.pid() + " status " + status;
            }
        }
        throw new AssertionError("waitpid returned " + result + ", not a child of " + pid);
    }

    /** @param value the pid the driver got from spawn. */
    void knownAs(final int value)
    {
        pid = value;
        pidKnown.countDown();
    }

    /**
     * Ends this µprocess's part in a run: marks it exited (so its parent may wait for it) and returns the status it
     * exits with.
     */
    int finish(final SplittableRandom r)
    {
        final int status = r.nextInt(256);
        exitStatus = status;
        env.live.decrementAndGet();
        return status;
    }

    /** Waits for every child still in the list (at the end of a concurrent run). */
    void reapAll(final ProcessContext ctx)
    {
        while (!children.isEmpty())
        {
            reaped(ctx.waitpid(children.get(0).pid, 0));
        }
    }

    private String ids(final ProcessContext ctx)
    {
        if (ctx.getpid() != pid)
        {
            throw new AssertionError("getpid " + ctx.getpid() + " != " + pid);
        }
        final int ppid = ctx.getppid();
        final int expected = parent == null ? 1 : parent.pid;
        final boolean orphaned = parent != null && parent.exitStatus != null;
        if (ppid != expected && !(orphaned && ppid == 1))
        {
            throw new AssertionError("getppid " + ppid + ", expected " + expected + (orphaned ? " or 1" : ""));
        }
        return "getpid/getppid " + pid + "/" + ppid;
    }

    /** Reads the whole heap as data and checks every byte; samples untagged granules for stray tags. */
    private String verifyAll(final ProcessContext ctx, final SplittableRandom r)
    {
        final Capability area = ctx.area();
        final byte[] actual = new byte[(int)(size - HEAP)];
        ctx.memory().loadBytes(area, HEAP, actual, 0, actual.length);
        compareBytes("verify", HEAP, actual, model.read(HEAP, actual.length));
        for (int i = 0; i < 8; i++)
        {
            final long off = r.nextLong(size / 16) * 16;
            check("verify loadCap +0x" + Long.toHexString(off), model.expectedCapability(off),
                ctx.memory().loadCapability(area, off));
        }
        return "verify (" + model.taggedCount() + " tagged granules)";
    }

    private static void compareBytes(final String what, final long off, final byte[] actual, final byte[] expected)
    {
        final int at = Arrays.mismatch(actual, expected);
        if (at >= 0)
        {
            final int from = Math.max(0, at - 8);
            final int to = Math.min(actual.length, at + 24);
            throw new AssertionError(what + " +0x" + Long.toHexString(off) + ": first difference at +0x"
                + Long.toHexString(off + at) + "\n  actual " + HexFormat.of().formatHex(actual, from, to)
                + "\n  model  " + HexFormat.of().formatHex(expected, from, to));
        }
    }

    private void check(final String what, final Capability expected, final Capability actual)
    {
        if (!expected.equals(actual))
        {
            throw new AssertionError(what + ": got " + TestPrograms.relative(actual, model.base()) + " " + actual
                + ", the model says " + TestPrograms.relative(expected, model.base()) + " " + expected);
        }
    }

    @Override
    public String toString()
    {
        return "ModelProcess[pid " + pid + ", depth " + depth + "]";
    }
}
