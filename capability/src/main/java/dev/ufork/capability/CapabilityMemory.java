package dev.ufork.capability;

import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.Geometry;
import dev.ufork.memory.TaggedMemory;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Checked access to an address space through capabilities: the only way a µprocess touches memory.
 * <p>
 * Every access names an authority capability and an offset from the authority's address; the effective address
 * is {@code authority.address() + offset} (wrapping like the hardware). Checks run in CHERI ISAv9 priority order
 * (tag, seal, permission, bounds, alignment) and the first that fails throws a {@link CapabilityFault}; a refused
 * access reads or writes nothing. On success:
 * <ul>
 *   <li>a data store clears the tag of every granule it overlaps (see {@link TaggedMemory});</li>
 *   <li>a capability load through an authority without {@link Permission#LOAD_CAP} returns the value untagged;</li>
 *   <li>storing a tagged capability needs {@link Permission#STORE_CAP}, and one without {@link Permission#GLOBAL}
 *   also {@link Permission#STORE_LOCAL_CAP}; storing an untagged value needs only {@link Permission#STORE};</li>
 *   <li>{@link #copy} moves tags like a CHERI {@code memmove}: for fully covered granules, when source and
 *   destination agree mod 16 and the source authority has {@code LOAD_CAP}; otherwise the destination's tags clear.</li>
 * </ul>
 * Data accesses may be unaligned; capability accesses must be 16-byte aligned. Multi-byte values are
 * little-endian. Data loads and stores allocate nothing.
 * <p>
 * Thread safety: safe for concurrent use; a capability loaded while another thread stores into the same granule
 * is either the old or the new value, never a mix. Lifetime: that of the address space.
 */
public final class CapabilityMemory
{
    private static final int LOAD = Permission.LOAD.mask();
    private static final int STORE = Permission.STORE.mask();
    private static final int LOAD_CAP = Permission.LOAD_CAP.mask();
    private static final int STORE_CAP = Permission.STORE_CAP.mask();
    private static final int STORE_LOCAL_CAP = Permission.STORE_LOCAL_CAP.mask();
    private static final int GLOBAL = Permission.GLOBAL.mask();
    private static final long CAP_SIZE = Geometry.GRANULE_SIZE;

    private final TaggedMemory memory;
    private final AccessBarrier barrier;

    /**
     * @param space the address space to access.
     */
    public CapabilityMemory(final AddressSpace space)
    {
        this(space, null);
    }

    /**
     * @param space   the address space to access.
     * @param barrier the hook that gives this accessor its own view of shared pages, or {@code null} for none. An
     *                accessor with a barrier serves the barrier's thread only.
     */
    public CapabilityMemory(final AddressSpace space, final AccessBarrier barrier)
    {
        this.memory = space.memory();
        this.barrier = barrier;
    }

    /** @return the barrier this accessor calls before touching memory, or null if it has none. */
    public AccessBarrier barrier()
    {
        return barrier;
    }

    // ----------------------------------------------------------------------------------------------------------
    // Checks. The fast path is one branch over all conditions; the cold path works out which check failed first.

    private static long checkLoad(final Capability c, final long offset, final long size)
    {
        final long address = c.address() + offset;
        if ((c.accessPermissions & LOAD) == 0 || address < c.base() || address > c.accessTop - size)
        {
            throw fault(dataFaultCause(c, address, size, LOAD, FaultCause.PERMIT_LOAD), c, address, size);
        }
        return address;
    }

    private static long checkStore(final Capability c, final long offset, final long size)
    {
        final long address = c.address() + offset;
        if ((c.accessPermissions & STORE) == 0 || address < c.base() || address > c.accessTop - size)
        {
            throw fault(dataFaultCause(c, address, size, STORE, FaultCause.PERMIT_STORE), c, address, size);
        }
        return address;
    }

    /**
     * Checks, without touching memory, that {@code c} authorizes a data load of {@code length} bytes at
     * {@code c.address() + offset}: for callers that must refuse a request before consuming anything (a {@code write}
     * system call that would otherwise take bytes from a pipe it cannot deliver).
     *
     * @param c      authority.
     * @param offset from c's address.
     * @param length bytes, not negative.
     * @return the first address.
     * @throws CapabilityFault if a load would be refused (TAG, SEAL, PERMIT_LOAD, LENGTH).
     */
    public static long checkLoadable(final Capability c, final long offset, final long length)
    {
        requireLength(length);
        return checkLoad(c, offset, length);
    }

    /**
     * Checks, without touching memory, that {@code c} authorizes a data store of {@code length} bytes at
     * {@code c.address() + offset}; see {@link #checkLoadable}.
     *
     * @param c      authority.
     * @param offset from c's address.
     * @param length bytes, not negative.
     * @return the first address.
     * @throws CapabilityFault if a store would be refused (TAG, SEAL, PERMIT_STORE, LENGTH).
     */
    public static long checkStorable(final Capability c, final long offset, final long length)
    {
        requireLength(length);
        return checkStore(c, offset, length);
    }

    private static FaultCause dataFaultCause(
        final Capability c, final long address, final long size, final int permission, final FaultCause permCause)
    {
        if (!c.isTagged())
        {
            return FaultCause.TAG;
        }
        if (c.isSealed())
        {
            return FaultCause.SEAL;
        }
        if ((c.permissions() & permission) == 0)
        {
            return permCause;
        }
        return FaultCause.LENGTH;
    }

    private static boolean outOfBounds(final Capability c, final long address, final long size)
    {
        return address < c.base() || address > c.accessTop - size;
    }

    private static CapabilityFault fault(
        final FaultCause cause, final Capability c, final long address, final long size)
    {
        return CapabilityFault.recorded(cause, c, address, size);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Data loads.

    /** @param c authority. @param offset from c's address. @return the byte. @throws CapabilityFault if refused. */
    public byte loadByte(final Capability c, final long offset)
    {
        final long address = checkLoad(c, offset, Byte.BYTES);
        return inPlace(c, address, Byte.BYTES) ? memory.loadByte(address)
            : (byte)loadThroughBarrier(c, address, Byte.BYTES);
    }

    /** @param c authority. @param offset from c's address. @return the short. @throws CapabilityFault if refused. */
    public short loadShort(final Capability c, final long offset)
    {
        final long address = checkLoad(c, offset, Short.BYTES);
        return inPlace(c, address, Short.BYTES) ? memory.loadShort(address)
            : (short)loadThroughBarrier(c, address, Short.BYTES);
    }

    /** @param c authority. @param offset from c's address. @return the char. @throws CapabilityFault if refused. */
    public char loadChar(final Capability c, final long offset)
    {
        final long address = checkLoad(c, offset, Character.BYTES);
        return inPlace(c, address, Character.BYTES) ? memory.loadChar(address)
            : (char)loadThroughBarrier(c, address, Character.BYTES);
    }

    /** @param c authority. @param offset from c's address. @return the int. @throws CapabilityFault if refused. */
    public int loadInt(final Capability c, final long offset)
    {
        final long address = checkLoad(c, offset, Integer.BYTES);
        return inPlace(c, address, Integer.BYTES) ? memory.loadInt(address)
            : (int)loadThroughBarrier(c, address, Integer.BYTES);
    }

    /** @param c authority. @param offset from c's address. @return the long. @throws CapabilityFault if refused. */
    public long loadLong(final Capability c, final long offset)
    {
        final long address = checkLoad(c, offset, Long.BYTES);
        return inPlace(c, address, Long.BYTES) ? memory.loadLong(address) : loadThroughBarrier(c, address, Long.BYTES);
    }

    /** @param c authority. @param offset from c's address. @return the float. @throws CapabilityFault if refused. */
    public float loadFloat(final Capability c, final long offset)
    {
        final long address = checkLoad(c, offset, Float.BYTES);
        return inPlace(c, address, Float.BYTES) ? memory.loadFloat(address)
            : Float.intBitsToFloat((int)loadThroughBarrier(c, address, Float.BYTES));
    }

    /** @param c authority. @param offset from c's address. @return the double. @throws CapabilityFault if refused. */
    public double loadDouble(final Capability c, final long offset)
    {
        final long address = checkLoad(c, offset, Double.BYTES);
        return inPlace(c, address, Double.BYTES) ? memory.loadDouble(address)
            : Double.longBitsToDouble(loadThroughBarrier(c, address, Double.BYTES));
    }

    /**
     * Copies bytes out through a capability; tags do not travel.
     *
     * @param c         authority.
     * @param offset    from c's address.
     * @param dst       destination array.
     * @param dstOffset first index in {@code dst}.
     * @param length    bytes.
     * @throws CapabilityFault if refused.
     */
    public void loadBytes(final Capability c, final long offset, final byte[] dst, final int dstOffset,
        final int length)
    {
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        final long address = checkLoad(c, offset, length);
        if (length == 0 || inPlace(c, address, length))
        {
            memory.loadBytes(address, dst, dstOffset, length);
        }
        else
        {
            loadBytesAt(c, address, MemorySegment.ofArray(dst), dstOffset, length);
        }
    }

    /**
     * Copies bytes out through a capability into a segment outside the space; tags do not travel.
     *
     * @param c         authority.
     * @param offset    from c's address.
     * @param dst       destination segment.
     * @param dstOffset offset in {@code dst}.
     * @param length    bytes, not negative.
     * @throws CapabilityFault if refused.
     */
    public void loadBytes(final Capability c, final long offset, final MemorySegment dst, final long dstOffset,
        final long length)
    {
        requireLength(length);
        Objects.checkFromIndexSize(dstOffset, length, dst.byteSize());
        loadBytesAt(c, checkLoad(c, offset, length), dst, dstOffset, length);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Data stores.

    /** @param c authority. @param offset from c's address. @param v value. @throws CapabilityFault if refused. */
    public void storeByte(final Capability c, final long offset, final byte v)
    {
        final long address = checkStore(c, offset, Byte.BYTES);
        if (barrier != null)
        {
            beforeStore(c, address, Byte.BYTES);
        }
        memory.storeByte(address, v);
    }

    /** @param c authority. @param offset from c's address. @param v value. @throws CapabilityFault if refused. */
    public void storeShort(final Capability c, final long offset, final short v)
    {
        final long address = checkStore(c, offset, Short.BYTES);
        if (barrier != null)
        {
            beforeStore(c, address, Short.BYTES);
        }
        memory.storeShort(address, v);
    }

    /** @param c authority. @param offset from c's address. @param v value. @throws CapabilityFault if refused. */
    public void storeChar(final Capability c, final long offset, final char v)
    {
        final long address = checkStore(c, offset, Character.BYTES);
        if (barrier != null)
        {
            beforeStore(c, address, Character.BYTES);
        }
        memory.storeChar(address, v);
    }

    /** @param c authority. @param offset from c's address. @param v value. @throws CapabilityFault if refused. */
    public void storeInt(final Capability c, final long offset, final int v)
    {
        final long address = checkStore(c, offset, Integer.BYTES);
        if (barrier != null)
        {
            beforeStore(c, address, Integer.BYTES);
        }
        memory.storeInt(address, v);
    }

    /** @param c authority. @param offset from c's address. @param v value. @throws CapabilityFault if refused. */
    public void storeLong(final Capability c, final long offset, final long v)
    {
        final long address = checkStore(c, offset, Long.BYTES);
        if (barrier != null)
        {
            beforeStore(c, address, Long.BYTES);
        }
        memory.storeLong(address, v);
    }

    /** @param c authority. @param offset from c's address. @param v value. @throws CapabilityFault if refused. */
    public void storeFloat(final Capability c, final long offset, final float v)
    {
        final long address = checkStore(c, offset, Float.BYTES);
        if (barrier != null)
        {
            beforeStore(c, address, Float.BYTES);
        }
        memory.storeFloat(address, v);
    }

    /** @param c authority. @param offset from c's address. @param v value. @throws CapabilityFault if refused. */
    public void storeDouble(final Capability c, final long offset, final double v)
    {
        final long address = checkStore(c, offset, Double.BYTES);
        if (barrier != null)
        {
            beforeStore(c, address, Double.BYTES);
        }
        memory.storeDouble(address, v);
    }

    /**
     * Copies bytes in through a capability, as data: overlapped tags clear.
     *
     * @param c         authority.
     * @param offset    from c's address.
     * @param src       source array.
     * @param srcOffset first index in {@code src}.
     * @param length    bytes.
     * @throws CapabilityFault if refused.
     */
    public void storeBytes(final Capability c, final long offset, final byte[] src, final int srcOffset,
        final int length)
    {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        final long address = checkStore(c, offset, length);
        beforeStore(c, address, length);
        memory.storeBytes(address, src, srcOffset, length);
    }

    /**
     * Copies bytes in from a segment outside the space, as data: overlapped tags clear.
     *
     * @param c         authority.
     * @param offset    from c's address.
     * @param src       source segment.
     * @param srcOffset offset in {@code src}.
     * @param length    bytes, not negative.
     * @throws CapabilityFault if refused.
     */
    public void storeBytes(final Capability c, final long offset, final MemorySegment src, final long srcOffset,
        final long length)
    {
        requireLength(length);
        Objects.checkFromIndexSize(srcOffset, length, src.byteSize());
        final long address = checkStore(c, offset, length);
        beforeStore(c, address, length);
        memory.storeBytes(address, src, srcOffset, length);
    }

    /**
     * Sets bytes to one value, as data: overlapped tags clear.
     *
     * @param c      authority.
     * @param offset from c's address.
     * @param length bytes, not negative.
     * @param value  the byte.
     * @throws CapabilityFault if refused.
     */
    public void fill(final Capability c, final long offset, final long length, final byte value)
    {
        requireLength(length);
        final long address = checkStore(c, offset, length);
        beforeStore(c, address, length);
        memory.fill(address, length, value);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Capabilities.

    /**
     * Loads the capability in the 16-byte granule at {@code c.address() + offset}.
     *
     * @param c      authority: needs LOAD; without LOAD_CAP the result is untagged.
     * @param offset from c's address; the address must be 16-byte aligned.
     * @return the capability, tagged iff the granule was tagged and {@code c} has LOAD_CAP.
     * @throws CapabilityFault if refused (TAG, SEAL, PERMIT_LOAD, LENGTH, then ALIGNMENT).
     */
    public Capability loadCapability(final Capability c, final long offset)
    {
        final long address = checkCapabilityLoad(c, offset);
        if (barrier != null)
        {
            barrier.beforeCapabilityLoad(c, address);
        }
        // Straight-line, with the retry out of line: this whole method must inline into its caller for a loaded
        // capability that does not escape (a pointer chase) to be scalar-replaced rather than allocated.
        final long stamp = memory.beginCapabilityLoad(address);
        final long addressWord = memory.loadLong(address);
        final long metadataWord = memory.loadLong(address + Long.BYTES);
        final boolean tag = memory.isTagged(address) & (c.accessPermissions & LOAD_CAP) != 0;
        if (!memory.validateCapabilityLoad(address, stamp))
        {
            return loadCapabilityAgain(c, address);
        }
        return Capability.fromMemory(addressWord, metadataWord, tag);
    }

    /** A capability load that raced with a store into its page: retries until it reads one store's whole value. */
    private Capability loadCapabilityAgain(final Capability c, final long address)
    {
        final boolean keepTag = (c.accessPermissions & LOAD_CAP) != 0;
        while (true)
        {
            final long stamp = memory.beginCapabilityLoad(address);
            final long addressWord = memory.loadLong(address);
            final long metadataWord = memory.loadLong(address + Long.BYTES);
            final boolean tag = keepTag && memory.isTagged(address);
            if (memory.validateCapabilityLoad(address, stamp))
            {
                return Capability.fromMemory(addressWord, metadataWord, tag);
            }
        }
    }

    /**
     * The checks of a capability load: LOAD, bounds, then 16-byte alignment.
     *
     * @return the granule's address.
     */
    private static long checkCapabilityLoad(final Capability c, final long offset)
    {
        final long address = c.address() + offset;
        if ((c.accessPermissions & LOAD) == 0 || outOfBounds(c, address, CAP_SIZE) || (address & (CAP_SIZE - 1)) != 0)
        {
            throw fault(capabilityLoadFaultCause(c, address), c, address, CAP_SIZE);
        }
        return address;
    }

    /**
     * Whether the granule at {@code c.address() + offset} holds exactly {@code expected} (tag, address word and
     * metadata word), as {@code loadCapability(c, offset).equals(expected)} would say, with the same checks and
     * faults, but without making a {@link Capability}: for a kernel checking what a caller presents, on every call.
     *
     * @param c        authority: needs LOAD; without LOAD_CAP the granule is seen untagged.
     * @param offset   from c's address; the address must be 16-byte aligned.
     * @param expected the capability to compare with.
     * @return whether they are equal.
     * @throws CapabilityFault if the load would be refused.
     */
    public boolean holdsCapability(final Capability c, final long offset, final Capability expected)
    {
        final long address = checkCapabilityLoad(c, offset);
        if (barrier != null)
        {
            barrier.beforeCapabilityLoad(c, address);
        }
        final boolean keepTag = (c.permissions() & LOAD_CAP) != 0;
        while (true)
        {
            final long stamp = memory.beginCapabilityLoad(address);
            final boolean same = memory.loadLong(address) == expected.addressBits()
                && memory.loadLong(address + Long.BYTES) == expected.metadataBits()
                && (keepTag && memory.isTagged(address)) == expected.isTagged();
            if (memory.validateCapabilityLoad(address, stamp))
            {
                return same;
            }
        }
    }

    private static FaultCause capabilityLoadFaultCause(final Capability c, final long address)
    {
        if (!c.isTagged() || c.isSealed() || (c.permissions() & LOAD) == 0 || outOfBounds(c, address, CAP_SIZE))
        {
            return dataFaultCause(c, address, CAP_SIZE, LOAD, FaultCause.PERMIT_LOAD);
        }
        return FaultCause.ALIGNMENT;
    }

    /**
     * Stores {@code value} into the 16-byte granule at {@code c.address() + offset}, with its tag.
     *
     * @param c      authority: needs STORE; STORE_CAP if {@code value} is tagged; STORE_LOCAL_CAP as well if
     *               {@code value} is tagged and lacks GLOBAL.
     * @param offset from c's address; the address must be 16-byte aligned.
     * @param value  the capability to store; its bits are stored exactly.
     * @throws CapabilityFault if refused (TAG, SEAL, PERMIT_STORE, PERMIT_STORE_CAP, PERMIT_STORE_LOCAL_CAP,
     *                         LENGTH, then ALIGNMENT).
     */
    public void storeCapability(final Capability c, final long offset, final Capability value)
    {
        final long address = c.address() + offset;
        final boolean tagged = value.isTagged();
        final int needed = STORE | (tagged ? STORE_CAP : 0)
            | (tagged && (value.permissions() & GLOBAL) == 0 ? STORE_LOCAL_CAP : 0);
        if ((c.accessPermissions & needed) != needed || outOfBounds(c, address, CAP_SIZE)
            || (address & (CAP_SIZE - 1)) != 0)
        {
            throw fault(capabilityStoreFaultCause(c, address, needed), c, address, CAP_SIZE);
        }
        beforeStore(c, address, CAP_SIZE);
        memory.storeCapability(address, value.address(), value.metadataBits(), tagged);
    }

    private static FaultCause capabilityStoreFaultCause(final Capability c, final long address, final int needed)
    {
        final int perms = c.permissions();
        if (!c.isTagged())
        {
            return FaultCause.TAG;
        }
        if (c.isSealed())
        {
            return FaultCause.SEAL;
        }
        if ((perms & STORE) == 0)
        {
            return FaultCause.PERMIT_STORE;
        }
        if ((needed & STORE_CAP) != 0 && (perms & STORE_CAP) == 0)
        {
            return FaultCause.PERMIT_STORE_CAP;
        }
        if ((needed & STORE_LOCAL_CAP) != 0 && (perms & STORE_LOCAL_CAP) == 0)
        {
            return FaultCause.PERMIT_STORE_LOCAL_CAP;
        }
        if (outOfBounds(c, address, CAP_SIZE))
        {
            return FaultCause.LENGTH;
        }
        return FaultCause.ALIGNMENT;
    }

    // ----------------------------------------------------------------------------------------------------------
    // Copies.

    /**
     * Copies {@code length} bytes from {@code src.address() + srcOffset} to {@code dst.address() + dstOffset}, with
     * {@code memmove} semantics for overlap and CHERI tag rules: the tags of fully covered granules travel when the
     * two addresses agree mod 16 and {@code src} has LOAD_CAP; every other overlapped destination tag clears.
     * Before anything is copied, the source range is checked for tags that would travel: if there are any,
     * {@code dst} needs STORE_CAP, and STORE_LOCAL_CAP too if any of them lacks GLOBAL, else nothing is copied and
     * the access faults. Atomic per page, not as a whole; a local capability stored into the source by another
     * thread after that check may still travel to a destination without STORE_LOCAL_CAP.
     *
     * @param dst       destination authority: needs STORE.
     * @param dstOffset from dst's address.
     * @param src       source authority: needs LOAD.
     * @param srcOffset from src's address.
     * @param length    bytes, not negative.
     * @throws CapabilityFault if refused. The source is checked first; then the destination's tag, seal and STORE,
     *                         the permissions a travelling tag needs, and last the destination's bounds.
     */
    public void copy(final Capability dst, final long dstOffset, final Capability src, final long srcOffset,
        final long length)
    {
        requireLength(length);
        final long from = checkLoad(src, srcOffset, length);
        final long to = dst.address() + dstOffset;
        // Destination checks in ISAv9 priority order: tag, seal and STORE, then the permissions any travelling tag
        // needs (STORE_CAP, STORE_LOCAL_CAP), and only then bounds.
        if ((dst.accessPermissions & STORE) == 0)
        {
            throw fault(dataFaultCause(dst, to, length, STORE, FaultCause.PERMIT_STORE), dst, to, length);
        }
        if (barrier != null && length > 0)
        {
            // A copy may carry capabilities, so it makes the source pages private like a capability load would; and
            // it must, before the tags that would travel are read below.
            beforeCapabilityLoads(src, from, length);
        }
        final boolean tagsCanMove = (src.permissions() & LOAD_CAP) != 0 && ((from ^ to) & (CAP_SIZE - 1)) == 0;
        if (tagsCanMove)
        {
            checkTagsMayLand(dst, to, from, length);
        }
        checkStore(dst, dstOffset, length);
        if (barrier != null && length > 0)
        {
            beforeStore(dst, to, length);
        }
        // Without STORE_CAP no tag may land, even one stored into the source after the check above.
        memory.copy(from, to, length, tagsCanMove && (dst.permissions() & STORE_CAP) != 0);
    }

    /** Faults if a tag in the source range would land through an authority not allowed to store it. */
    private void checkTagsMayLand(final Capability dst, final long to, final long from, final long length)
    {
        final int perms = dst.permissions();
        if ((perms & STORE_CAP) != 0 && (perms & STORE_LOCAL_CAP) != 0)
        {
            return;
        }
        final long firstFull = Geometry.alignUp(from, CAP_SIZE);
        final long endFull = (from + length) & -CAP_SIZE;
        long at = firstFull < endFull ? memory.tags().nextTagged(firstFull, endFull) : -1;
        while (at >= 0)
        {
            if ((perms & STORE_CAP) == 0)
            {
                throw fault(FaultCause.PERMIT_STORE_CAP, dst, to + (at - from), CAP_SIZE);
            }
            final Capability value = Capability.fromMemory(memory.loadLong(at), memory.loadLong(at + Long.BYTES),
                true);
            if ((value.permissions() & GLOBAL) == 0)
            {
                throw fault(FaultCause.PERMIT_STORE_LOCAL_CAP, dst, to + (at - from), CAP_SIZE);
            }
            at = memory.tags().nextTagged(at + CAP_SIZE, endFull);
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // The barrier paths: apart from AccessBarrier.loadsInPlace and storesInPlace, every call to the barrier is for one
    // page.

    private void beforeStore(final Capability authority, final long address, final long length)
    {
        final AccessBarrier b = barrier;
        if (b == null || length <= 0 || b.storesInPlace(authority, address, length))
        {
            return;
        }
        beforeStorePages(authority, address, length);
    }

    private void beforeStorePages(final Capability authority, final long address, final long length)
    {
        final long last = (address + length - 1) & -Geometry.PAGE_SIZE;
        for (long page = address & -Geometry.PAGE_SIZE; page <= last; page += Geometry.PAGE_SIZE)
        {
            barrier.beforeStore(authority, Math.max(page, address));
        }
    }

    private void beforeCapabilityLoads(final Capability authority, final long address, final long length)
    {
        final long last = (address + length - 1) & -Geometry.PAGE_SIZE;
        for (long page = address & -Geometry.PAGE_SIZE; page <= last; page += Geometry.PAGE_SIZE)
        {
            barrier.beforeCapabilityLoad(authority, Math.max(page, address));
        }
    }

    /**
     * Whether a data load reads its bytes in place: there is no barrier, or the barrier says so. The one test on the
     * path of every load; anything it declines goes the long way through {@link AccessBarrier#beginLoad}.
     */
    private boolean inPlace(final Capability authority, final long address, final long length)
    {
        final AccessBarrier b = barrier;
        return b == null || b.loadsInPlace(authority, address, length);
    }

    /** Loads 1, 2, 4 or 8 little-endian bytes through the barrier; byte by byte if they straddle two pages. */
    private long loadThroughBarrier(final Capability authority, final long address, final int size)
    {
        if (((address ^ (address + size - 1)) & -Geometry.PAGE_SIZE) != 0)
        {
            long value = 0;
            for (int i = 0; i < size; i++)
            {
                value |= (loadThroughBarrier(authority, address + i, 1) & 0xFF) << (8 * i);
            }
            return value;
        }
        while (true)
        {
            final long at = barrier.beginLoad(authority, address, size);
            final long value = switch (size)
            {
                case 1 -> memory.loadByte(at);
                case 2 -> memory.loadShort(at);
                case 4 -> memory.loadInt(at);
                default -> memory.loadLong(at);
            };
            if (barrier.endLoad())
            {
                return value;
            }
        }
    }

    private void loadBytesAt(final Capability authority, final long address, final MemorySegment dst,
        final long dstOffset, final long length)
    {
        if (length == 0 || inPlace(authority, address, length))
        {
            memory.loadBytes(address, dst, dstOffset, length);
            return;
        }
        long done = 0;
        while (done < length)
        {
            final long at = address + done;
            final long chunk = Math.min(length - done, Geometry.PAGE_SIZE - (at & (Geometry.PAGE_SIZE - 1)));
            while (true)
            {
                memory.loadBytes(barrier.beginLoad(authority, at, chunk), dst, dstOffset + done, chunk);
                if (barrier.endLoad())
                {
                    break;
                }
            }
            done += chunk;
        }
    }

    private static void requireLength(final long length)
    {
        if (length < 0)
        {
            throw new IllegalArgumentException("negative length: " + length);
        }
    }
}
