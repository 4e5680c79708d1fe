package dev.ufork.kernel;

import dev.ufork.capability.AccessBarrier;
import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.FaultCause;
import dev.ufork.memory.Geometry;
import dev.ufork.memory.PageLocks;

/**
 * A µprocess's view of memory: the fence around its area and the copy-on-write checks that every checked access
 * makes. The fast path of a data load ({@link #loadsInPlace}) is one thread compare and one compare of the authority
 * with the last one seen to lie within the area, for a µprocess that has no sharing source and never forked
 * copy-on-access, which is where most loads are; everything else is in {@link Sharing}.
 * <ul>
 *   <li>An access outside the area faults with {@link FaultCause#ISOLATION} (unless isolation is
 *   {@link IsolationLevel#OFF}): every capability the kernel hands a µprocess is bounded to its area, so only a
 *   capability smuggled in through Java (say, captured by a fork body from the parent) can reach elsewhere.</li>
 *   <li>So does any access made from a thread other than the µprocess's own (unless isolation is off): the view
 *   itself, or a context holding it, captured by a fork body from the parent would otherwise read the parent's
 *   memory from the child.</li>
 *   <li>A store makes the page private (copying it if it is still shared) and, if children forked since the page
 *   was last written may share it, gives them their copies first.</li>
 *   <li>A capability load makes the page private (COPA and COA).</li>
 *   <li>A data load of a page still shared reads it where its bytes live (COPA), validated against that page's
 *   lock, unless the bytes belong to a tagged granule: those are a capability's, relocated in this µprocess's
 *   image, so the page is copied first. Under COA any access copies.</li>
 *   <li>The source of COA children gives them their copies before it touches a page itself, loads included.</li>
 * </ul>
 * <p>
 * Thread safety: one instance per µprocess thread, which is the only thread it serves.
 */
final class ProcessBarrier extends AccessBarrier
{
    private final MicroProcess process;
    private final Sharing sharing;
    private final PageLocks locks;
    private final Thread owner;
    private final long ownerId;
    /**
     * The owner while every page of the area is this µprocess's own and no COA child may share one, else null: the
     * one thread whose loads {@link #loadsInPlace} lets through after a single compare (a reference, so that C2
     * compares it with the current thread, which it hoists out of loops, in one instruction). Written by the owner's
     * thread only ({@link #forked}).
     */
    private Thread inPlaceLoader;
    /**
     * The owner while every page of the area is this µprocess's own and it never forked sharing pages (so no child
     * needs a copy before it writes), else null: the thread whose stores {@link #storesInPlace} lets through. Owner's
     * thread only ({@link #forked}).
     */
    private Thread inPlaceStorer;
    /**
     * The latest authority seen on the owner's thread whose bounds lie within the area: every
     * access it authorizes is inside (the capability checks come first), so the next loads through it skip the bounds
     * compares. Owner's thread only.
     */
    private Capability inAreaAuthority;
    /** The µprocess's page states, or null if it has no sharing source. */
    private final PageStates states;
    private final long base;
    private final long size;
    /** {@code base + size}. */
    private final long top;
    private final boolean isolated;

    private long stamp;
    private long stampPage;
    private boolean validate;

    ProcessBarrier(final MicroProcess process, final Sharing sharing, final Thread owner, final boolean isolated)
    {
        this.process = process;
        this.sharing = sharing;
        this.locks = sharing.locks();
        this.owner = owner;
        this.ownerId = owner.threadId();
        this.states = process.states;
        this.base = process.base;
        this.size = process.area.size();
        this.top = base + size;
        this.isolated = isolated;
        forked();
    }

    /**
     * Called by the owner's thread after each fork of this µprocess, before its next access: a copy-on-access fork
     * means its own loads must give COA children their copies first, which the one-compare path of
     * {@link #loadsInPlace} does not check.
     */
    void forked()
    {
        inPlaceLoader = states == null && process.accessEpoch == null ? owner : null;
        inPlaceStorer = states == null && process.exclusiveEpoch == null ? owner : null;
    }

    /**
     * In place: on the owner's thread and inside the area, and the pages private and not shared with any COA child.
     * For a µprocess with no sharing source that never forked copy-on-access (most loads, COPA parents included) that
     * is a thread compare and, for an authority already seen to lie within the area, one reference compare (else two
     * bounds compares); a COA parent or a forked child also checks the page tables (see
     * {@link #loadsInPlaceChecked}). Everything else, including every access that must fault, returns false and goes
     * through {@link #beginLoad}.
     */
    @Override
    public boolean loadsInPlace(final Capability authority, final long address, final long length)
    {
        // Kept within 35 bytes of bytecode, so that C2 inlines it at every call site whatever the profile says.
        if (Thread.currentThread() == inPlaceLoader && authority == inAreaAuthority)
        {
            return true;
        }
        return loadsInPlaceOtherwise(authority, address, length);
    }

    /** {@link #loadsInPlace} for an authority not yet seen, or when the one-compare path is off. */
    private boolean loadsInPlaceOtherwise(final Capability authority, final long address, final long length)
    {
        if (Thread.currentThread() != inPlaceLoader)
        {
            return loadsInPlaceChecked(address, length);
        }
        if (withinArea(authority))
        {
            inAreaAuthority = authority;
            return true;
        }
        // Signed compares: addresses and lengths are far below 2^62, so nothing wraps.
        return address >= base && address + length <= top;
    }

    /**
     * {@link #loadsInPlace} when pages may be shared: the bytes lie in one page, private and already given to COA
     * children. Loads that straddle pages take the page-by-page way.
     */
    private boolean loadsInPlaceChecked(final long address, final long length)
    {
        final long offset = address - base;
        final long last = offset + length - 1;
        if (Thread.currentThread().threadId() != ownerId || offset < 0 || last >= size
            || (offset ^ last) >= Geometry.PAGE_SIZE)
        {
            return false;
        }
        final int page = (int)(offset >>> Geometry.PAGE_SHIFT);
        final int[] accessed = process.accessEpoch;
        if (accessed != null && accessed[page] != process.coaEpoch)
        {
            return false;
        }
        return states == null || states.isPrivate(page);
    }

    @Override
    public long beginLoad(final Capability authority, final long address, final long length)
    {
        checkThread(authority, address, length);
        validate = false;
        final long offset = address - base;
        if (Long.compareUnsigned(offset, size) >= 0)
        {
            outside(authority, address, length);
            return address;
        }
        final int page = (int)(offset >>> Geometry.PAGE_SHIFT);
        final int[] accessed = process.accessEpoch;
        if (accessed != null && accessed[page] != process.coaEpoch)
        {
            sharing.makeAccessed(process, page);
        }
        if (states == null || states.isPrivate(page))
        {
            return address;
        }
        return sharedLoad(page, address, length);
    }

    private long sharedLoad(final int page, final long address, final long length)
    {
        if (process.copyOnRead)
        {
            sharing.materialize(process, page, null, PageCopyCause.ACCESS);
            return address;
        }
        // Copy-on-pointer-access: read the bytes where they live, and check afterwards that nobody wrote them.
        while (true)
        {
            final MicroProcess owner = Sharing.physicalOwner(process, page);
            if (owner == process)
            {
                return address;
            }
            final long physicalPage = owner.pageAddress(page) >>> Geometry.PAGE_SHIFT;
            final long s = locks.readStamp(physicalPage);
            if (Sharing.physicalOwner(process, page) == owner)
            {
                final long at = owner.base + (address - base);
                if (sharing.anyTagged(at, length))
                {
                    sharing.materialize(process, page, null, PageCopyCause.CHILD_CAPABILITY_LOAD);
                    return address;
                }
                stamp = s;
                stampPage = physicalPage;
                validate = true;
                return at;
            }
        }
    }

    @Override
    public boolean endLoad()
    {
        return !validate || locks.validate(stampPage, stamp);
    }

    /**
     * In place: on the owner's thread, through an authority seen to lie within the area, no fatal signal pending (a
     * store is where a µprocess that never enters the kernel notices one), and nothing to copy first: a µprocess with
     * no sharing source that never forked sharing, or a store within one page that is private and already exclusive
     * for the current fork epoch. Everything else goes through {@link #beforeStore}.
     */
    @Override
    public boolean storesInPlace(final Capability authority, final long address, final long length)
    {
        if (Thread.currentThread() == inPlaceStorer && authority == inAreaAuthority && process.pendingKill == null)
        {
            return true;
        }
        return storesInPlaceOtherwise(authority, address, length);
    }

    /** {@link #storesInPlace} for an authority not yet seen, or when pages may be shared. */
    private boolean storesInPlaceOtherwise(final Capability authority, final long address, final long length)
    {
        if (Thread.currentThread() != owner || process.pendingKill != null)
        {
            return false;
        }
        if (authority != inAreaAuthority)
        {
            if (!withinArea(authority))
            {
                return false;
            }
            inAreaAuthority = authority;
        }
        if (inPlaceStorer != null)
        {
            return true;
        }
        final long offset = address - base;
        if ((offset ^ (offset + length - 1)) >= Geometry.PAGE_SIZE)
        {
            return false;
        }
        final int page = (int)(offset >>> Geometry.PAGE_SHIFT);
        final int[] epochs = process.exclusiveEpoch;
        if (epochs != null && epochs[page] != process.forkEpoch)
        {
            return false;
        }
        return states == null || states.isPrivate(page);
    }

    /** Whether every byte the capability's bounds cover lies in the area (signed compares: nothing near 2^63). */
    private boolean withinArea(final Capability authority)
    {
        return !authority.isTopMax() && authority.base() >= base && authority.top() >= 0 && authority.top() <= top;
    }

    @Override
    public void beforeStore(final Capability authority, final long address)
    {
        checkThread(authority, address, 1);
        checkKilled();
        final long offset = address - base;
        if (Long.compareUnsigned(offset, size) >= 0)
        {
            outside(authority, address, 1);
            return;
        }
        final int page = (int)(offset >>> Geometry.PAGE_SHIFT);
        if (states != null && !states.isPrivate(page))
        {
            sharing.materialize(process, page, null, PageCopyCause.CHILD_WRITE);
        }
        final int[] epochs = process.exclusiveEpoch;
        if (epochs != null && epochs[page] != process.forkEpoch)
        {
            sharing.makeExclusive(process, page);
        }
    }

    @Override
    public void beforeCapabilityLoad(final Capability authority, final long address)
    {
        checkThread(authority, address, Geometry.GRANULE_SIZE);
        final long offset = address - base;
        if (Long.compareUnsigned(offset, size) >= 0)
        {
            outside(authority, address, Geometry.GRANULE_SIZE);
            return;
        }
        final int page = (int)(offset >>> Geometry.PAGE_SHIFT);
        final int[] accessed = process.accessEpoch;
        if (accessed != null && accessed[page] != process.coaEpoch)
        {
            sharing.makeAccessed(process, page);
        }
        if (states != null && !states.isPrivate(page))
        {
            sharing.materialize(process, page, null,
                process.copyOnRead ? PageCopyCause.ACCESS : PageCopyCause.CHILD_CAPABILITY_LOAD);
        }
    }

    /** An access from a thread not the µprocess's own: refused unless isolation is off. */
    private void checkThread(final Capability authority, final long address, final long length)
    {
        if (Thread.currentThread() != owner && isolated)
        {
            throw CapabilityFault.recorded(FaultCause.ISOLATION, authority, address, length);
        }
    }

    /** An access outside the area: refused unless isolation is off (then it goes to memory untouched). */
    private void outside(final Capability authority, final long address, final long length)
    {
        if (isolated)
        {
            throw CapabilityFault.recorded(FaultCause.ISOLATION, authority, address, length);
        }
    }

    /**
     * Stores are where a µprocess that never enters the kernel still notices a fatal signal: a thread cannot be
     * stopped from outside, so it unwinds itself here.
     */
    private void checkKilled()
    {
        final Signal kill = process.pendingKill;
        if (kill != null)
        {
            throw new ProcessTermination(WaitStatus.signaled(kill));
        }
    }
}
