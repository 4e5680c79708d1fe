package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.capability.CapabilityRoots;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.relocation.Relocators;
import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.AddressSpaceExhaustedException;
import dev.ufork.memory.Area;
import dev.ufork.memory.AreaInit;
import dev.ufork.memory.Geometry;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A single-address-space kernel: µprocesses living in areas of one {@link AddressSpace}, with POSIX-style fork,
 * exit, wait and kill.
 * <p>
 * {@code fork} is how Java says "fork returns twice": {@link ProcessContext#fork(Program)} returns the child's pid to
 * the parent at once, and the child runs the given {@link Program} on its own thread with its own
 * {@link ProcessContext}, whose memory and registers are relocated copies of the parent's at the instant of the
 * fork. A program must keep its state in its area and registers; Java objects it captured are not copied.
 * <p>
 * µprocesses run in parallel, each on its own (virtual) thread, and each area is confined to its µprocess's thread
 * ({@link Area#confineTo(Thread)}), so its stores take no lock. Fork and page copies take no global lock: a fork
 * allocates the child's area, and the copy-on-write engine locks one page stripe at a time.
 * <p>
 * Pid 1 is init: it adopts orphans and reaps them, and reaps µprocesses started with {@link #spawn(Program)}, whose
 * exit statuses {@link #awaitExit(int)} returns.
 * <p>
 * Thread safety: safe for concurrent use. Lifetime: until {@link #close()}, which kills every µprocess and unmaps
 * the address space.
 */
public final class Kernel implements AutoCloseable
{
    /** What a µprocess's capabilities may do: data and capabilities, but no sealing and no system registers. */
    static final int PROCESS_PERMISSIONS = Permissions.CAP_READ_WRITE | Permissions.USER_ALL;

    private static final long MIN_AREA = 64 << 10;
    /** The object type that seals kernel-entry capabilities. */
    static final int KERNEL_OBJECT_TYPE = 1;

    private final KernelConfig config;
    private final AddressSpace space;
    private final Capability memoryRoot;
    private final CapabilityMemory kernelMemory;
    private final KernelStatistics statistics = new KernelStatistics();
    private final Sharing sharing;
    private final ConcurrentHashMap<Integer, MicroProcess> table = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, CompletableFuture<Integer>> spawned = new ConcurrentHashMap<>();
    private final AtomicInteger nextPid = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final MicroProcess init;
    private final Thread reaper;
    /** The kernel-entry table and the sealed capability to it that every µprocess holds in register KERNEL. */
    private final Area kernelArea;
    private final Capability kernelUnsealer;
    private final Capability kernelEntry;

    private Kernel(final KernelConfig config)
    {
        this.config = config;
        this.space = AddressSpace.reserve(config.space());
        this.memoryRoot = CapabilityRoots.memoryRoot(space);
        this.kernelMemory = new CapabilityMemory(space);
        this.sharing = new Sharing(space.memory(), Relocators.fromSystemProperty(), statistics);
        this.kernelArea = space.allocate(MIN_AREA, MIN_AREA, AreaInit.ZEROED);
        this.kernelUnsealer = CapabilityRoots.sealingRoot().withAddress(KERNEL_OBJECT_TYPE);
        this.kernelEntry = memoryRoot.withAddress(kernelArea.base()).setBoundsExact(MIN_AREA)
            .andPermissions(Permissions.DATA_READ).seal(kernelUnsealer);
        this.init = new MicroProcess(this, nextPid.getAndIncrement(), space.allocate(MIN_AREA, MIN_AREA,
            AreaInit.ZEROED), null, null, false);
        table.put(init.pid, init);
        this.reaper = Thread.ofPlatform().daemon().name("ufork-init").unstarted(this::reapForever);
        init.thread = reaper;
        reaper.start();
    }

    /**
     * Reserves the address space and starts init.
     *
     * @param config the kernel's configuration.
     * @return the running kernel.
     */
    public static Kernel boot(final KernelConfig config)
    {
        return new Kernel(config);
    }

    /** @return the address space the µprocesses live in. */
    public AddressSpace space()
    {
        return space;
    }

    /** @return the kernel's counters. */
    public KernelMetrics metrics()
    {
        return new Metrics();
    }

    /**
     * Starts a new µprocess (a child of init) running {@code program} in a fresh, zeroed area of the default size.
     *
     * @param program what it runs.
     * @return its pid.
     * @throws ErrnoException ENOMEM if the address space has no room.
     */
    public int spawn(final Program program)
    {
        return spawn(config.defaultAreaSize(), program);
    }

    /**
     * Starts a new µprocess (a child of init) running {@code program}.
     *
     * @param areaSize bytes of its area, rounded up to a power of two of at least 64 KiB.
     * @param program  what it runs.
     * @return its pid.
     * @throws ErrnoException ENOMEM if the address space has no room.
     */
    public int spawn(final long areaSize, final Program program)
    {
        ensureOpen();
        final long size = Math.max(MIN_AREA, Long.highestOneBit(Math.max(1, areaSize - 1)) << 1);
        final Area area = allocateArea(size, AreaInit.ZEROED);
        final MicroProcess process = new MicroProcess(this, nextPid.getAndIncrement(), area, init, null, false);
        final Capability areaCap = memoryRoot.withAddress(area.base()).setBoundsExact(size)
            .andPermissions(PROCESS_PERMISSIONS);
        kernelMemory.storeCapability(areaCap, RegisterFileDescriptor.offsetOf(RegisterFileDescriptor.AREA), areaCap);
        kernelMemory.storeCapability(areaCap, RegisterFileDescriptor.offsetOf(RegisterFileDescriptor.KERNEL),
            kernelEntry);
        spawned.put(process.pid, new CompletableFuture<>());
        start(process, init, program);
        return process.pid;
    }

    /**
     * Waits for a µprocess started with {@link #spawn} to end.
     *
     * @param pid its pid.
     * @return its wait status (see {@link WaitStatus}).
     * @throws InterruptedException if the calling thread is interrupted.
     * @throws ErrnoException       ECHILD if {@code pid} was not started with {@link #spawn}.
     */
    public int awaitExit(final int pid) throws InterruptedException
    {
        final CompletableFuture<Integer> status = spawned.get(pid);
        if (status == null)
        {
            throw new ErrnoException(Errno.ECHILD, "pid " + pid + " was not spawned by the host");
        }
        try
        {
            return status.get();
        }
        catch (final ExecutionException e)
        {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Allocates a µprocess area aligned to its (power-of-two) size, so that the distance between any two areas of
     * the same size is a multiple of it: capabilities with small exponents then relocate by an add to the address
     * word (see the relocation package).
     */
    private Area allocateArea(final long size, final AreaInit init)
    {
        try
        {
            return space.allocate(size, size, init);
        }
        catch (final AddressSpaceExhaustedException e)
        {
            throw new ErrnoException(Errno.ENOMEM, "no room for a " + size + "-byte area: " + e.getMessage());
        }
    }

    private void start(final MicroProcess process, final MicroProcess parent, final Program program)
    {
        process.memory = new CapabilityMemory(space, new ProcessBarrier(process, sharing));
        final Capability registerFile = memoryRoot.withAddress(process.base)
            .setBoundsExact(RegisterFileDescriptor.SIZE).andPermissions(PROCESS_PERMISSIONS);
        process.context = new ProcessContext(this, process, registerFile);
        parent.lock.lock();
        try
        {
            parent.children.add(process);
        }
        finally
        {
            parent.lock.unlock();
        }
        table.put(process.pid, process);
        final Thread thread = Thread.ofVirtual().name("ufork-" + process.pid).unstarted(() -> run(process, program));
        process.thread = thread;
        process.area.confineTo(thread);
        thread.start();
    }

    private void run(final MicroProcess process, final Program program)
    {
        int status;
        try
        {
            program.run(process.context);
            status = WaitStatus.exited(0);
        }
        catch (final ProcessTermination t)
        {
            status = t.waitStatus();
        }
        catch (final CapabilityFault f)
        {
            status = WaitStatus.signaled(Signal.SIGSEGV);
        }
        catch (final RuntimeException | Error e)
        {
            status = process.pendingKill != null ? WaitStatus.signaled(process.pendingKill)
                : WaitStatus.signaled(Signal.SIGABRT);
        }
        exit(process, status);
    }

    // ------------------------------------------------------------------------------------------------------------
    // fork

    int fork(final MicroProcess parent, final Program program, final CopyMode mode)
    {
        ensureOpen();
        final ForkEvent event = new ForkEvent();
        event.begin();
        final long relocatedBefore = statistics.capabilitiesRelocated();
        // A child's pages are written by copies before anyone reads them, so recycled memory need not be zeroed.
        final Area area = allocateArea(parent.area.size(), AreaInit.UNINITIALIZED);
        final MicroProcess child = new MicroProcess(this, nextPid.getAndIncrement(), area, parent, parent,
            mode == CopyMode.COA);
        if (mode == CopyMode.COPY)
        {
            sharing.materializeAll(child, PageCopyCause.EAGER);
        }
        else
        {
            if (parent.exclusiveEpoch == null)
            {
                parent.exclusiveEpoch = new int[parent.pages];
            }
            parent.forkEpoch++;
            parent.sharers.add(new MicroProcess.Sharer(child, parent.forkEpoch));
            // The register file is needed at once and must be relocated before the child runs.
            sharing.materialize(child, 0, null, PageCopyCause.EAGER);
        }
        start(child, parent, program);
        statistics.forked();
        if (event.shouldCommit())
        {
            event.pid = parent.pid;
            event.child = child.pid;
            event.mode = mode.name();
            event.areaBytes = area.size();
            event.pagesCopied = child.states.privateCount();
            event.pagesShared = child.pages - event.pagesCopied;
            event.capabilitiesRelocated = statistics.capabilitiesRelocated() - relocatedBefore;
            event.commit();
        }
        return child.pid;
    }

    // ------------------------------------------------------------------------------------------------------------
    // exit, wait, kill

    private void exit(final MicroProcess process, final int status)
    {
        // Orphans go to init first, so that none is left in a parent that will never wait.
        final List<MicroProcess> orphans;
        process.lock.lock();
        try
        {
            orphans = new ArrayList<>(process.children);
            process.children.clear();
        }
        finally
        {
            process.lock.unlock();
        }
        if (!orphans.isEmpty())
        {
            init.lock.lock();
            try
            {
                for (final MicroProcess orphan : orphans)
                {
                    orphan.parent = init;
                    init.children.add(orphan);
                }
                init.childEvent.signalAll();
            }
            finally
            {
                init.lock.unlock();
            }
        }
        while (true)
        {
            final MicroProcess parent = process.parent;
            parent.lock.lock();
            try
            {
                if (process.parent != parent)
                {
                    continue;
                }
                process.waitStatus = status;
                process.state = MicroProcess.State.ZOMBIE;
                parent.childEvent.signalAll();
                break;
            }
            finally
            {
                parent.lock.unlock();
            }
        }
        final ExitEvent event = new ExitEvent();
        if (event.shouldCommit())
        {
            event.pid = process.pid;
            event.waitStatus = status;
            event.commit();
        }
    }

    WaitResult waitpid(final MicroProcess parent, final int pid, final boolean noHang)
    {
        MicroProcess reaped = null;
        parent.lock.lock();
        try
        {
            while (reaped == null)
            {
                boolean any = false;
                for (final MicroProcess child : parent.children)
                {
                    if (pid == -1 || child.pid == pid)
                    {
                        any = true;
                        if (child.state == MicroProcess.State.ZOMBIE)
                        {
                            reaped = child;
                            break;
                        }
                    }
                }
                if (reaped != null)
                {
                    parent.children.remove(reaped);
                    break;
                }
                if (!any)
                {
                    throw new ErrnoException(Errno.ECHILD, pid == -1 ? "no children" : "pid " + pid
                        + " is not a child of " + parent.pid);
                }
                if (noHang)
                {
                    return new WaitResult(0, 0);
                }
                try
                {
                    parent.childEvent.await();
                }
                catch (final InterruptedException e)
                {
                    if (parent.pendingKill != null)
                    {
                        throw new ProcessTermination(WaitStatus.signaled(parent.pendingKill));
                    }
                    if (closed.get())
                    {
                        throw new ErrnoException(Errno.EINTR, "kernel closed");
                    }
                    throw new ErrnoException(Errno.EINTR, "waitpid interrupted");
                }
            }
        }
        finally
        {
            parent.lock.unlock();
        }
        reap(reaped);
        return new WaitResult(reaped.pid, reaped.waitStatus);
    }

    /** Frees a zombie: first every µprocess still sharing its pages gets its own copies. */
    private void reap(final MicroProcess zombie)
    {
        zombie.state = MicroProcess.State.REAPED;
        table.remove(zombie.pid);
        if (zombie.states != null)
        {
            zombie.states.retire();
            zombie.source.sharers.removeIf(s -> s.child() == zombie);
        }
        sharing.detachSharers(zombie);
        space.free(zombie.area);
    }

    void kill(final MicroProcess sender, final int pid, final Signal signal)
    {
        final MicroProcess target = table.get(pid);
        if (target == null || target.state != MicroProcess.State.RUNNING || target == init)
        {
            throw new ErrnoException(target == init ? Errno.EPERM : Errno.ESRCH, "cannot signal pid " + pid);
        }
        if (signal.terminatesByDefault())
        {
            target.pendingKill = signal;
            final Thread thread = target.thread;
            if (thread != null)
            {
                thread.interrupt();
            }
        }
    }

    MicroProcess process(final int pid)
    {
        final MicroProcess process = table.get(pid);
        if (process == null)
        {
            throw new ErrnoException(Errno.ESRCH, "no µprocess " + pid);
        }
        return process;
    }

    CopyMode defaultCopyMode()
    {
        return config.defaultCopyMode();
    }

    /**
     * Checks the capability a µprocess presents to enter the kernel: it must be the kernel-entry capability,
     * sealed with the kernel's object type. Unless isolation is off.
     *
     * @throws ErrnoException EPERM if it is not.
     */
    void checkEntry(final MicroProcess caller, final Capability presented)
    {
        if (config.isolation() == IsolationLevel.OFF)
        {
            return;
        }
        if (!presented.isTagged() || presented.objectType() != KERNEL_OBJECT_TYPE
            || !presented.unseal(kernelUnsealer).equals(kernelEntry.unseal(kernelUnsealer)))
        {
            throw new ErrnoException(Errno.EPERM, "µprocess " + caller.pid
                + " entered the kernel without its kernel-entry capability: " + presented);
        }
    }

    IsolationLevel isolation()
    {
        return config.isolation();
    }

    private void reapForever()
    {
        while (!closed.get())
        {
            try
            {
                final WaitResult result = waitpid(init, -1, false);
                final CompletableFuture<Integer> host = spawned.get(result.pid());
                if (host != null)
                {
                    host.complete(result.status());
                }
            }
            catch (final ErrnoException e)
            {
                if (e.errno() == Errno.ECHILD)
                {
                    init.lock.lock();
                    try
                    {
                        if (init.children.isEmpty() && !closed.get())
                        {
                            init.childEvent.awaitUninterruptibly();
                        }
                    }
                    finally
                    {
                        init.lock.unlock();
                    }
                }
            }
        }
    }

    private void ensureOpen()
    {
        if (closed.get())
        {
            throw new IllegalStateException("kernel is closed");
        }
    }

    /**
     * Kills every µprocess, waits for their threads, and unmaps the address space.
     */
    @Override
    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        final List<Thread> threads = new ArrayList<>();
        for (final MicroProcess process : table.values())
        {
            if (process != init && process.thread != null)
            {
                process.pendingKill = Signal.SIGKILL;
                process.thread.interrupt();
                threads.add(process.thread);
            }
        }
        for (final Thread thread : threads)
        {
            try
            {
                thread.join(10_000);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                break;
            }
        }
        reaper.interrupt();
        init.lock.lock();
        try
        {
            init.childEvent.signalAll();
        }
        finally
        {
            init.lock.unlock();
        }
        for (final CompletableFuture<Integer> waiting : spawned.values())
        {
            waiting.complete(WaitStatus.signaled(Signal.SIGKILL));
        }
        space.close();
    }

    /** Live view of the counters. */
    private final class Metrics implements KernelMetrics
    {
        @Override
        public long forks()
        {
            return statistics.forks();
        }

        @Override
        public long pageCopies(final PageCopyCause cause)
        {
            return statistics.pageCopies(cause);
        }

        @Override
        public long capabilitiesRelocated()
        {
            return statistics.capabilitiesRelocated();
        }

        @Override
        public long liveProcesses()
        {
            return table.size();
        }

        @Override
        public long proportionalBytes(final int pid)
        {
            final MicroProcess process = process(pid);
            double bytes = 0;
            for (int page = 0; page < process.pages; page++)
            {
                final MicroProcess owner = Sharing.physicalOwner(process, page);
                if (owner == process && process.states == null)
                {
                    // A never-forked µprocess's page costs memory only once touched; count it as private and
                    // shared with whichever children still read it.
                    if (!space.isResident(process.pageAddress(page)))
                    {
                        continue;
                    }
                }
                int viewers = 0;
                for (final MicroProcess other : table.values())
                {
                    if (other.area.size() == process.area.size() && other != init
                        && other.state != MicroProcess.State.REAPED && Sharing.physicalOwner(other, page) == owner)
                    {
                        viewers++;
                    }
                }
                bytes += (double)Geometry.PAGE_SIZE / Math.max(1, viewers);
            }
            return Math.round(bytes);
        }
    }
}
