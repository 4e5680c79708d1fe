package dev.ufork.kernel;

import dev.ufork.capability.AccessBarrier;
import dev.ufork.memory.Geometry;
import dev.ufork.memory.PageLocks;

/**
 * A µprocess's view of its area: the copy-on-write checks that every checked access makes. The fast path for a
 * private page that no child shares is two field reads and a compare; everything else is in {@link Sharing}.
 * <ul>
 *   <li>A store makes the page private (copying it if it is still shared) and, if children forked since the page
 *   was last written may share it, gives them their copies first.</li>
 *   <li>A capability load makes the page private (COPA and COA).</li>
 *   <li>A data load reads a shared page where its bytes live (COPA), validated against that page's lock, or makes it
 *   private first (COA).</li>
 * </ul>
 * Accesses to addresses outside the area (kernel or shared memory) pass through untouched.
 * <p>
 * Thread safety: one instance per µprocess thread.
 */
final class ProcessBarrier implements AccessBarrier
{
    private final MicroProcess process;
    private final Sharing sharing;
    private final PageLocks locks;
    private final long base;
    private final long size;

    private long stamp;
    private long stampPage;
    private boolean validate;

    ProcessBarrier(final MicroProcess process, final Sharing sharing)
    {
        this.process = process;
        this.sharing = sharing;
        this.locks = sharing.locks();
        this.base = process.base;
        this.size = process.area.size();
    }

    private boolean outside(final long address)
    {
        return address - base >= size || address < base;
    }

    @Override
    public long beginLoad(final long address)
    {
        validate = false;
        if (process.states == null || outside(address))
        {
            return address;
        }
        final int page = process.pageOf(address);
        if (process.states.isPrivate(page))
        {
            return address;
        }
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
                stamp = s;
                stampPage = physicalPage;
                validate = true;
                return owner.base + (address - base);
            }
        }
    }

    @Override
    public boolean endLoad()
    {
        return !validate || locks.validate(stampPage, stamp);
    }

    @Override
    public void beforeStore(final long address)
    {
        checkKilled();
        if (outside(address))
        {
            return;
        }
        final int page = process.pageOf(address);
        if (process.states != null && !process.states.isPrivate(page))
        {
            sharing.materialize(process, page, null, PageCopyCause.CHILD_WRITE);
        }
        final int[] epochs = process.exclusiveEpoch;
        if (epochs != null && epochs[page] != process.forkEpoch)
        {
            sharing.makeExclusive(process, page, PageCopyCause.PARENT_WRITE);
        }
    }

    @Override
    public void beforeCapabilityLoad(final long address)
    {
        if (process.states == null || outside(address))
        {
            return;
        }
        final int page = process.pageOf(address);
        if (!process.states.isPrivate(page))
        {
            sharing.materialize(process, page, null,
                process.copyOnRead ? PageCopyCause.ACCESS : PageCopyCause.CHILD_CAPABILITY_LOAD);
        }
    }

    private void checkKilled()
    {
        if (process.pendingKill != null)
        {
            throw new ProcessTermination(WaitStatus.signaled(process.pendingKill));
        }
    }
}
