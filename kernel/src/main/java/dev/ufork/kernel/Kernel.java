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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A single-address-space kernel: µprocesses living in areas of one {@link AddressSpace}, with POSIX-style fork,
 * exit, wait, kill and signals.
 * <p>
 * {@code fork} is how Java says "fork returns twice": {@link ProcessContext#fork(Program)} returns the child's pid to
 * the parent at once, and the child runs the given {@link Program} on its own thread with its own
 * {@link ProcessContext}, whose memory and registers are relocated copies of the parent's at the instant of the
 * fork. A program must keep its state in its area and registers; Java objects it captured are not copied, and a
 * capability captured that way faults in the child ({@code ISOLATION}).
 * <p>
 * µprocesses run in parallel, each on its own virtual thread, and each area is confined to its µprocess's thread
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

    /** The smallest area a µprocess gets: a power of two, so areas align to their size. */
    static final long MIN_AREA = 64 << 10;

    private final KernelConfig config;
    private final AddressSpace space;
    private final Capability memoryRoot;
    private final CapabilityMemory kernelMemory;
    private final KernelStatistics statistics = new KernelStatistics();
    private final Sharing sharing;
    private final ConcurrentHashMap<Integer, MicroProcess> table = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, CompletableFuture<Integer>> spawned = new ConcurrentHashMap<>();
    private final AtomicInteger nextPid = new AtomicInteger(1);
    private final AtomicInteger nextService = new AtomicInteger(KernelService.FIRST_EXTENSION);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final MicroProcess init;
    private final Thread reaper;
    /** A thread started ahead for the next µprocess, or null; see {@link StandbyThread}. */
    private final AtomicReference<StandbyThread> standby = new AtomicReference<>();
    private final KernelEntries entries;

    private Kernel(final KernelConfig config)
    {
        this.config = config;
        this.space = AddressSpace.reserve(config.space());
        try
        {
            this.memoryRoot = CapabilityRoots.memoryRoot(space);
            this.kernelMemory = new CapabilityMemory(space);
            this.sharing = new Sharing(space, Relocators.fromSystemProperty(), statistics);
            this.entries = new KernelEntries(memoryRoot, space.allocate(MIN_AREA, MIN_AREA, AreaInit.ZEROED));
            this.init = new MicroProcess(this, nextPid.getAndIncrement(), space.allocate(MIN_AREA, MIN_AREA,
                AreaInit.ZEROED), null, null, false, new SignalState());
        }
        catch (final RuntimeException | Error e)
        {
            space.close();
            throw e;
        }
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
     * @throws dev.ufork.memory.NativeMemoryException if the address space cannot be reserved.
     */
    public static Kernel boot(final KernelConfig config)
    {
        return new Kernel(config);
    }

    /** @return the configuration the kernel was booted with. */
    public KernelConfig config()
    {
        return config;
    }

    /** @return the address space the µprocesses live in. */
    public AddressSpace space()
    {
        return space;
    }

    /** @return the kernel's counters, a live view. */
    public KernelMetrics metrics()
    {
        return new LiveMetrics(this, statistics);
    }

    /**
     * Hands out a slot of the kernel-entry table for a service of a personality built on this kernel (the POSIX
     * layer's calls, say), so that its calls, too, are made by presenting a sealed entry capability.
     *
     * @param name a name for messages.
     * @return the service.
     * @throws IllegalStateException if all {@value RegisterFileDescriptor#ENTRY_COUNT} slots are taken.
     */
    public KernelService registerService(final String name)
    {
        final int index = nextService.getAndIncrement();
        if (index >= RegisterFileDescriptor.ENTRY_COUNT)
        {
            throw new IllegalStateException("the kernel-entry table is full: cannot register " + name);
        }
        return new KernelService(index, name);
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
     * @throws ErrnoException EINVAL for a size that is not positive; ENOMEM if the address space has no room (or
     *                        the rounded size exceeds the whole space).
     */
    public int spawn(final long areaSize, final Program program)
    {
        ensureOpen();
        if (areaSize <= 0)
        {
            throw new ErrnoException(Errno.EINVAL, "area size must be positive: " + areaSize);
        }
        // A size the space cannot hold is not rounded: above 2^62 the rounding would overflow to a negative size.
        final long size = areaSize > space.size() ? areaSize
            : Math.max(MIN_AREA, Long.highestOneBit(Math.max(1, areaSize - 1)) << 1);
        if (size > space.size())
        {
            throw new ErrnoException(Errno.ENOMEM, "an area of " + areaSize + " bytes cannot fit in a space of "
                + space.size() + " bytes");
        }
        final Area area = allocateArea(size, AreaInit.ZEROED);
        final MicroProcess process = new MicroProcess(this, nextPid.getAndIncrement(), area, init, null, false,
            new SignalState());
        final Capability areaCap = memoryRoot.withAddress(area.base()).setBoundsExact(size)
            .andPermissions(PROCESS_PERMISSIONS);
        kernelMemory.storeCapability(areaCap, RegisterFileDescriptor.offsetOf(RegisterFileDescriptor.AREA), areaCap);
        entries.install(kernelMemory, areaCap);
        spawned.put(process.pid, new CompletableFuture<>());
        start(process, init, program);
        return process.pid;
    }

    /**
     * Waits for a µprocess started with {@link #spawn} to end; once per pid (the status is then forgotten).
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
            final int result = status.get();
            spawned.remove(pid, status);
            return result;
        }
        catch (final ExecutionException e)
        {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Sends a signal from outside any µprocess (the host), as {@code kill(2)} from a process with every right would.
     *
     * @param pid    the target.
     * @param signal the signal.
     * @throws ErrnoException ESRCH if there is no such µprocess; EPERM for init.
     */
    public void signal(final int pid, final Signal signal)
    {
        ensureOpen();
        kill(pid, signal);
    }

    /**
     * Allocates a µprocess area aligned to its (power-of-two) size, so that the distance between any two areas of
     * the same size is a multiple of it: capabilities then relocate by an add to the address word (see the
     * relocation package).
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

    /** @return the standby thread waiting for the next µprocess, now no longer waiting in the slot; or null. */
    StandbyThread takeStandby()
    {
        return standby.getAndSet(null);
    }

    /** @return the thread of the standby waiting in the slot, or null; for tests. */
    Thread standbyThread()
    {
        final StandbyThread waiting = standby.get();
        return waiting == null ? null : waiting.thread();
    }

    private void start(final MicroProcess process, final MicroProcess parent, final Program program)
    {
        final StandbyThread standby = takeStandby();
        final Runnable body = () -> run(process, program);
        final Thread thread = standby != null ? standby.thread() : Thread.ofVirtual().unstarted(body);
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
        process.thread = thread;
        if (standby != null)
        {
            standby.hand(body);
        }
        else
        {
            thread.start();
        }
    }

    /**
     * Starts a standby thread for the next µprocess if none is waiting. Called by each new µprocess on its own
     * thread, so that the start is off its parent's fork.
     */
    private void prepareStandby()
    {
        if (standby.get() != null || closed.get())
        {
            return;
        }
        final StandbyThread started = StandbyThread.start();
        if (!standby.compareAndSet(null, started))
        {
            started.stop();
        }
        else if (closed.get())
        {
            // close() may have emptied the slot before this filled it: whoever takes it now stops it.
            final StandbyThread late = takeStandby();
            if (late != null)
            {
                late.stop();
            }
        }
    }

    private void run(final MicroProcess process, final Program program)
    {
        int status;
        try
        {
            final Thread self = Thread.currentThread();
            self.setName("ufork-" + process.pid);
            // What follows up to the program is the µprocess's own start-up, done here on its own thread rather than
            // in its parent's fork, which it would lengthen: nothing of it is needed before the µprocess runs. First
            // the thread for the next µprocess, then this one's confinement, view of memory, context and registers.
            prepareStandby();
            // Confined here rather than by the forking thread: confining writes the area's ownership words (8-14 us
            // for a 1 GiB area, mostly cache misses). Nothing stores into the area through the confined path before
            // this, and page copies into it (the parent's copy-on-write) do not consult ownership.
            process.area.confineTo(self);
            process.memory = new CapabilityMemory(space,
                new ProcessBarrier(process, sharing, self, config.isolation() != IsolationLevel.OFF));
            final Capability registerFile = memoryRoot.withAddress(process.base)
                .setBoundsExact(RegisterFileDescriptor.SIZE).andPermissions(PROCESS_PERMISSIONS);
            process.context = new ProcessContext(this, process, registerFile);
            if (process.states != null)
            {
                // The registers, copied and relocated before the program reads them; if the parent has written
                // them since the fork, its copy-on-write has done this already.
                sharing.materialize(process, 0, null, PageCopyCause.EAGER);
            }
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
            final Signal kill = process.pendingKill;
            // While the kernel closes, a call or access that fails because of it is close's kill arriving early.
            status = WaitStatus.signaled(kill != null ? kill : closed.get() ? Signal.SIGKILL : Signal.SIGABRT);
        }
        exit(process, status);
    }

    // ------------------------------------------------------------------------------------------------------------
    // fork

    int fork(final MicroProcess parent, final Program program, final CopyMode mode)
    {
        ensureOpen();
        if (mode == null || program == null)
        {
            throw new ErrnoException(Errno.EINVAL, "fork needs a program and a copy mode");
        }
        final ForkEvent event = new ForkEvent();
        event.begin();
        final long relocatedBefore = statistics.capabilitiesRelocatedByThisThread();
        // A child's pages are written by copies before anyone reads them, so recycled memory need not be zeroed.
        final Area area = allocateArea(parent.area.size(), AreaInit.UNINITIALIZED);
        final MicroProcess child = new MicroProcess(this, nextPid.getAndIncrement(), area, parent, parent,
            mode == CopyMode.COA, parent.signals.forChild());
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
            if (mode == CopyMode.COA)
            {
                if (parent.accessEpoch == null)
                {
                    parent.accessEpoch = new int[parent.pages];
                }
                parent.coaEpoch = parent.forkEpoch;
            }
            parent.sharers.add(new MicroProcess.Sharer(child, parent.forkEpoch));
        }
        // The fork's own numbers, taken before the child runs and copies pages of its own; counted on this thread
        // only, so that copies by other µprocesses meanwhile do not count as the fork's.
        final int pagesCopied = event.isEnabled() ? child.states.privateCount() : 0;
        final long relocated = statistics.capabilitiesRelocatedByThisThread() - relocatedBefore;
        start(child, parent, program);
        statistics.forked();
        if (event.shouldCommit())
        {
            event.pid = parent.pid;
            event.child = child.pid;
            event.mode = mode.name();
            event.areaBytes = area.size();
            event.pagesCopied = pagesCopied;
            event.pagesShared = child.pages - pagesCopied;
            event.capabilitiesRelocated = relocated;
            event.commit();
        }
        return child.pid;
    }

    // ------------------------------------------------------------------------------------------------------------
    // exit, wait

    private void exit(final MicroProcess process, final int status)
    {
        // Committed before anyone can see the exit, so that a waiter that has reaped the µprocess finds its event.
        final ExitEvent event = new ExitEvent();
        if (event.shouldCommit())
        {
            event.pid = process.pid;
            event.waitStatus = status;
            event.commit();
        }
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
        MicroProcess parent;
        while (true)
        {
            parent = process.parent;
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
                // SIGCHLD is posted before the parent can see the zombie (it scans under this lock), so a wait that
                // returns the child finds its SIGCHLD pending, as on Linux. After signalAll: a waiter already woken
                // by the exit is not also failed with EINTR by the signal's interrupt.
                if (parent != init && parent.state == MicroProcess.State.RUNNING)
                {
                    deliver(parent, Signal.SIGCHLD);
                }
                break;
            }
            finally
            {
                parent.lock.unlock();
            }
        }
        final MicroProcess adopter = process.parent;
        if (adopter != parent)
        {
            // The parent exited while this µprocess was becoming a zombie and handed it to init, which may have
            // looked at it before it was one: wake init again, or the zombie would wait for an unrelated exit.
            adopter.lock.lock();
            try
            {
                adopter.childEvent.signalAll();
            }
            finally
            {
                adopter.lock.unlock();
            }
        }
    }

    WaitResult waitpid(final MicroProcess parent, final int pid, final boolean noHang)
    {
        while (true)
        {
            MicroProcess reaped = null;
            boolean interrupted = false;
            parent.lock.lock();
            try
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
                }
                else if (!any)
                {
                    throw new ErrnoException(Errno.ECHILD, pid == -1 ? "µprocess " + parent.pid + " has no children"
                        : "pid " + pid + " is not a child of " + parent.pid);
                }
                else if (noHang)
                {
                    return new WaitResult(0, 0);
                }
                else
                {
                    try
                    {
                        parent.childEvent.await();
                    }
                    catch (final InterruptedException e)
                    {
                        interrupted = true;
                    }
                }
            }
            finally
            {
                parent.lock.unlock();
            }
            if (reaped != null)
            {
                reap(reaped);
                return new WaitResult(reaped.pid, reaped.waitStatus);
            }
            if (interrupted)
            {
                interruptedWait(parent, "waitpid");
            }
        }
    }

    /**
     * What a blocking call does when its thread was interrupted: delivers the pending signals (which may end the
     * µprocess), and fails the call with EINTR if a handler ran or the kernel is closing; otherwise the interrupt
     * was stale and the call goes on waiting.
     */
    void interruptedWait(final MicroProcess process, final String call)
    {
        if (process == init)
        {
            if (closed.get())
            {
                throw new ErrnoException(Errno.EINTR, "kernel closed");
            }
            return;
        }
        final boolean handled = deliverSignals(process);
        if (handled)
        {
            throw new ErrnoException(Errno.EINTR, call + " interrupted by a signal");
        }
        if (closed.get())
        {
            throw new ProcessTermination(WaitStatus.signaled(Signal.SIGKILL));
        }
    }

    /**
     * Frees a zombie. Everything that still reads pages through it gets its own copies first, and only then does
     * the zombie stop being a source; copies into it are finished before its area goes.
     */
    private void reap(final MicroProcess zombie)
    {
        sharing.detachSharers(zombie);
        zombie.sharers.clear();
        long copied = -1;
        if (zombie.states != null)
        {
            // A forked µprocess writes only pages it has copied (stores and copies go to private pages only), so
            // the space can account for its area's memory without measuring the whole area.
            copied = (long)zombie.states.retire() << Geometry.PAGE_SHIFT;
            zombie.source.sharers.removeIf(s -> s.child() == zombie);
        }
        zombie.state = MicroProcess.State.REAPED;
        table.remove(zombie.pid);
        if (copied >= 0)
        {
            space.free(zombie.area, copied);
        }
        else
        {
            space.free(zombie.area);
        }
    }

    /** Discards pages of a µprocess's area, on its own thread; see {@link ProcessContext#discard}. */
    void discard(final MicroProcess process, final int firstPage, final int pages)
    {
        sharing.discard(process, firstPage, pages);
    }

    // ------------------------------------------------------------------------------------------------------------
    // kill and signals

    void kill(final int pid, final Signal signal)
    {
        if (signal == null)
        {
            throw new ErrnoException(Errno.EINVAL, "no signal");
        }
        final MicroProcess target = table.get(pid);
        if (target == null)
        {
            throw new ErrnoException(Errno.ESRCH, "no µprocess " + pid);
        }
        if (target == init)
        {
            throw new ErrnoException(Errno.EPERM, "init cannot be signalled");
        }
        if (target.state == MicroProcess.State.RUNNING)
        {
            // A zombie takes signals without effect, as POSIX says.
            deliver(target, signal);
        }
    }

    /** Posts a signal: a fatal one marks the µprocess killed, a caught one wakes it from a blocking call. */
    private void deliver(final MicroProcess target, final Signal signal)
    {
        final SignalAction action = target.signals.action(signal);
        final boolean fatal = signal == Signal.SIGKILL
            || (action.disposition() == SignalAction.Disposition.DEFAULT && signal.terminatesByDefault()
                && (target.signals.blocked() & SignalState.bit(signal)) == 0);
        if (fatal)
        {
            if (target.pendingKill == null)
            {
                target.pendingKill = signal;
            }
            wake(target);
        }
        else if (target.signals.post(signal))
        {
            wake(target);
        }
    }

    private static void wake(final MicroProcess target)
    {
        final Thread thread = target.thread;
        if (thread != null)
        {
            thread.interrupt();
        }
    }

    /**
     * Delivers the signals pending for {@code process} on its own thread: ends it for a fatal one, runs handlers
     * (with their signal blocked) for caught ones.
     *
     * @return whether a handler ran.
     */
    boolean deliverSignals(final MicroProcess process)
    {
        terminateIfKilled(process);
        // Clear a stale interrupt first: a signal posted after this point interrupts again.
        Thread.interrupted();
        boolean handled = false;
        Signal signal;
        while ((signal = process.signals.takeDeliverable()) != null)
        {
            final SignalAction action = process.signals.action(signal);
            switch (action.disposition())
            {
                case DEFAULT ->
                {
                    if (signal.terminatesByDefault())
                    {
                        throw new ProcessTermination(WaitStatus.signaled(signal));
                    }
                }
                case IGNORE ->
                {
                }
                case HANDLE ->
                {
                    final long mask = process.signals.blocked();
                    process.signals.setBlocked(mask | SignalState.bit(signal));
                    try
                    {
                        action.handler().handle(process.context, signal);
                    }
                    finally
                    {
                        process.signals.setBlocked(mask);
                    }
                    handled = true;
                }
            }
            terminateIfKilled(process);
        }
        return handled;
    }

    private static void terminateIfKilled(final MicroProcess process)
    {
        final Signal kill = process.pendingKill;
        if (kill != null)
        {
            throw new ProcessTermination(WaitStatus.signaled(kill));
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Entry, lookups

    /**
     * Checks the entry capability a µprocess presents to call {@code service}: it must be the kernel's sealed entry
     * for that slot. Not checked when isolation is off.
     *
     * @throws ErrnoException EPERM if it is not.
     */
    void checkEntry(final MicroProcess caller, final KernelService service, final Capability presented)
    {
        if (!entries.admits(service, presented))
        {
            throw new ErrnoException(Errno.EPERM, "µprocess " + caller.pid + " called " + service.name()
                + " without its kernel-entry capability (presented " + presented + ")");
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

    boolean exists(final int pid)
    {
        return table.containsKey(pid);
    }

    Iterable<MicroProcess> processes()
    {
        return table.values();
    }

    MicroProcess init()
    {
        return init;
    }

    CopyMode defaultCopyMode()
    {
        return config.defaultCopyMode();
    }

    IsolationLevel isolation()
    {
        return config.isolation();
    }

    Capability entry(final int index)
    {
        return entries.entry(index);
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

    /** @return whether {@link #close()} has been called. */
    public boolean isClosed()
    {
        return closed.get();
    }

    /**
     * Kills every µprocess (also those forked while it closes), waits (up to ten seconds each) for their threads,
     * and unmaps the address space.
     */
    @Override
    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        final StandbyThread idle = takeStandby();
        if (idle != null)
        {
            idle.stop();
        }
        // Rounds until one finds nobody new: a µprocess may have been forking while the kernel closed, and its child
        // is in the table by the time its own thread has been joined.
        final Set<Thread> killed = new HashSet<>();
        boolean more = true;
        while (more && !Thread.currentThread().isInterrupted())
        {
            final List<Thread> threads = new ArrayList<>();
            for (final MicroProcess process : table.values())
            {
                final Thread thread = process.thread;
                if (process != init && thread != null && killed.add(thread))
                {
                    process.pendingKill = Signal.SIGKILL;
                    thread.interrupt();
                    threads.add(thread);
                }
            }
            more = !threads.isEmpty();
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
        try
        {
            reaper.join(10_000);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        for (final CompletableFuture<Integer> waiting : spawned.values())
        {
            waiting.complete(WaitStatus.signaled(Signal.SIGKILL));
        }
        space.close();
    }
}
