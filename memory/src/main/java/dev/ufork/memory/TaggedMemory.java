package dev.ufork.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

import static dev.ufork.memory.Geometry.GRANULE_SHIFT;
import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SHIFT;
import static dev.ufork.memory.Geometry.PAGE_SIZE;

/**
 * The physical memory of an address space: bytes plus tags, with the CHERI tag rules built in but no capability
 * checks. This is what the capability layer and the kernel stand on; programs never see it.
 * <ul>
 *   <li>Every data store clears the tag of each granule it overlaps, under the page lock, before its bytes land:
 *   see {@link PageLocks} for why no thread can then load a tagged capability over mixed bytes.</li>
 *   <li>Only {@link #storeCapability(long, long, long, boolean)} sets a tag, together with all 16 bytes.</li>
 *   <li>{@link #copy(long, long, long, boolean)} moves the tags of fully covered granules with the bytes when
 *   source and destination agree mod 16, and otherwise clears every destination tag in the range.</li>
 * </ul>
 * Addresses are byte offsets in the space; multi-byte values are little-endian and may be unaligned. An access
 * outside the space throws {@link IndexOutOfBoundsException} and changes nothing.
 * <p>
 * Thread safety: every method may be called from any thread. Stores into shared areas lock the pages they touch;
 * stores into an area confined to the current thread ({@link Area#confineTo(Thread)}) skip the lock, and stores or
 * capability loads into an area confined to another thread throw {@link WrongThreadException} and change nothing.
 * Lifetime: that of the owning {@link AddressSpace}; after it is closed, every access throws
 * {@link IllegalStateException}.
 */
public final class TaggedMemory
{
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfChar CHAR = ValueLayout.JAVA_CHAR_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    /** Stamp of a load from memory the current thread owns: nobody else stores there, so it is always valid. */
    private static final long OWNED_STAMP = -1;

    private final MemorySegment data;
    private final TagBitmap tags;
    private final PageLocks locks;
    private final AreaOwnership ownership;
    private final long size;

    TaggedMemory(final MemorySegment data, final TagBitmap tags, final PageLocks locks, final AreaOwnership ownership)
    {
        this.data = data;
        this.tags = tags;
        this.locks = locks;
        this.ownership = ownership;
        this.size = data.byteSize();
    }

    /**
     * @return bytes in the space.
     */
    public long size()
    {
        return size;
    }

    /**
     * @return the tag bitmap, for scanners (fork relocation) that read tags in bulk.
     */
    public TagBitmap tags()
    {
        return tags;
    }

    /**
     * @return the page locks, for code that must hold a page stable across several operations (page copies).
     */
    public PageLocks locks()
    {
        return locks;
    }

    /**
     * The raw segment of the whole space. Writes through it bypass the tag rules: only for code that holds the
     * page locks and maintains the tags itself, such as a page copier.
     *
     * @return the segment of the whole space.
     */
    public MemorySegment segment()
    {
        return data;
    }

    // ----------------------------------------------------------------------------------------------------------
    // Data loads: bytes are not secret, so loads take no lock.

    /** @param address address. @return the byte there. */
    public byte loadByte(final long address)
    {
        return data.get(BYTE, address);
    }

    /** @param address address. @return the little-endian short there. */
    public short loadShort(final long address)
    {
        return data.get(SHORT, address);
    }

    /** @param address address. @return the little-endian char there. */
    public char loadChar(final long address)
    {
        return data.get(CHAR, address);
    }

    /** @param address address. @return the little-endian int there. */
    public int loadInt(final long address)
    {
        return data.get(INT, address);
    }

    /** @param address address. @return the little-endian long there. */
    public long loadLong(final long address)
    {
        return data.get(LONG, address);
    }

    /** @param address address. @return the little-endian float there. */
    public float loadFloat(final long address)
    {
        return data.get(FLOAT, address);
    }

    /** @param address address. @return the little-endian double there. */
    public double loadDouble(final long address)
    {
        return data.get(DOUBLE, address);
    }

    /**
     * Copies bytes out of the space; tags are not transferred.
     *
     * @param address first byte.
     * @param dst     destination array.
     * @param offset  first index in {@code dst}.
     * @param length  bytes.
     */
    public void loadBytes(final long address, final byte[] dst, final int offset, final int length)
    {
        MemorySegment.copy(data, BYTE, address, dst, offset, length);
    }

    /**
     * Copies bytes out of the space into any segment; tags are not transferred.
     *
     * @param address   first byte.
     * @param dst       destination segment (not this space's).
     * @param dstOffset offset in {@code dst}.
     * @param length    bytes.
     */
    public void loadBytes(final long address, final MemorySegment dst, final long dstOffset, final long length)
    {
        MemorySegment.copy(data, address, dst, dstOffset, length);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Data stores: lock the page(s), clear the overlapped tags, write.

    /** @param address address. @param value byte to store; clears the granule's tag. */
    public void storeByte(final long address, final byte value)
    {
        if (ownedStore(address, Byte.BYTES))
        {
            data.set(BYTE, address, value);
            return;
        }
        final long first = lockForStore(address, Byte.BYTES);
        try
        {
            data.set(BYTE, address, value);
        }
        finally
        {
            unlockAfterStore(first, address, Byte.BYTES);
        }
    }

    /** @param address address. @param value short to store; clears the overlapped tags. */
    public void storeShort(final long address, final short value)
    {
        if (ownedStore(address, Short.BYTES))
        {
            data.set(SHORT, address, value);
            return;
        }
        final long first = lockForStore(address, Short.BYTES);
        try
        {
            data.set(SHORT, address, value);
        }
        finally
        {
            unlockAfterStore(first, address, Short.BYTES);
        }
    }

    /** @param address address. @param value char to store; clears the overlapped tags. */
    public void storeChar(final long address, final char value)
    {
        if (ownedStore(address, Character.BYTES))
        {
            data.set(CHAR, address, value);
            return;
        }
        final long first = lockForStore(address, Character.BYTES);
        try
        {
            data.set(CHAR, address, value);
        }
        finally
        {
            unlockAfterStore(first, address, Character.BYTES);
        }
    }

    /** @param address address. @param value int to store; clears the overlapped tags. */
    public void storeInt(final long address, final int value)
    {
        if (ownedStore(address, Integer.BYTES))
        {
            data.set(INT, address, value);
            return;
        }
        final long first = lockForStore(address, Integer.BYTES);
        try
        {
            data.set(INT, address, value);
        }
        finally
        {
            unlockAfterStore(first, address, Integer.BYTES);
        }
    }

    /** @param address address. @param value long to store; clears the overlapped tags. */
    public void storeLong(final long address, final long value)
    {
        if (ownedStore(address, Long.BYTES))
        {
            data.set(LONG, address, value);
            return;
        }
        final long first = lockForStore(address, Long.BYTES);
        try
        {
            data.set(LONG, address, value);
        }
        finally
        {
            unlockAfterStore(first, address, Long.BYTES);
        }
    }

    /** @param address address. @param value float to store; clears the overlapped tags. */
    public void storeFloat(final long address, final float value)
    {
        if (ownedStore(address, Float.BYTES))
        {
            data.set(FLOAT, address, value);
            return;
        }
        final long first = lockForStore(address, Float.BYTES);
        try
        {
            data.set(FLOAT, address, value);
        }
        finally
        {
            unlockAfterStore(first, address, Float.BYTES);
        }
    }

    /** @param address address. @param value double to store; clears the overlapped tags. */
    public void storeDouble(final long address, final double value)
    {
        if (ownedStore(address, Double.BYTES))
        {
            data.set(DOUBLE, address, value);
            return;
        }
        final long first = lockForStore(address, Double.BYTES);
        try
        {
            data.set(DOUBLE, address, value);
        }
        finally
        {
            unlockAfterStore(first, address, Double.BYTES);
        }
    }

    /**
     * The fast path of a small store: if the store lies in one 64 KiB chunk confined to the current thread, clears
     * the overlapped tags without locking (no other thread may write or capability-load there) and returns
     * {@code true}; the caller then writes.
     */
    private boolean ownedStore(final long address, final int length)
    {
        Objects.checkFromIndexSize(address, length, size);
        if (((address ^ (address + length - 1)) >>> AreaOwnership.CHUNK_SHIFT) == 0
            && ownership.ownedByCurrentThread(address))
        {
            tags.clearOverlapped(address, length);
            return true;
        }
        return false;
    }

    /**
     * Locks the one or two pages a small store touches and clears the tags it overlaps.
     *
     * @return the first page.
     * @throws WrongThreadException if a touched area is confined to another thread.
     */
    private long lockForStore(final long address, final int length)
    {
        ownership.mustLock(address);
        ownership.mustLock(address + length - 1);
        final long first = address >>> PAGE_SHIFT;
        final long last = (address + length - 1) >>> PAGE_SHIFT;
        locks.lockPair(first, last);
        tags.clearOverlapped(address, length);
        return first;
    }

    private void unlockAfterStore(final long first, final long address, final int length)
    {
        locks.unlockPair(first, (address + length - 1) >>> PAGE_SHIFT);
    }

    /**
     * Copies bytes into the space as data: every overlapped tag is cleared. Atomic per page, not as a whole.
     *
     * @param address first byte.
     * @param src     source array.
     * @param offset  first index in {@code src}.
     * @param length  bytes.
     */
    public void storeBytes(final long address, final byte[] src, final int offset, final int length)
    {
        Objects.checkFromIndexSize(address, length, size);
        Objects.checkFromIndexSize(offset, length, src.length);
        storeBytes(address, MemorySegment.ofArray(src), offset, length);
    }

    /**
     * Copies bytes from any segment into the space as data: every overlapped tag is cleared. Atomic per page.
     *
     * @param address   first byte in the space.
     * @param src       source segment (not this space's; use {@link #copy} within the space).
     * @param srcOffset offset in {@code src}.
     * @param length    bytes.
     */
    public void storeBytes(final long address, final MemorySegment src, final long srcOffset, final long length)
    {
        Objects.checkFromIndexSize(address, length, size);
        Objects.checkFromIndexSize(srcOffset, length, src.byteSize());
        long done = 0;
        while (done < length)
        {
            final long at = address + done;
            final long chunk = Math.min(length - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
            final boolean locked = lockPageForStore(at);
            try
            {
                tags.clearOverlapped(at, chunk);
                MemorySegment.copy(src, srcOffset + done, data, at, chunk);
            }
            finally
            {
                unlockPage(at, locked);
            }
            done += chunk;
        }
    }

    /**
     * Sets {@code length} bytes to {@code value}, clearing every overlapped tag. Atomic per page.
     *
     * @param address first byte.
     * @param length  bytes.
     * @param value   the byte to write.
     */
    public void fill(final long address, final long length, final byte value)
    {
        Objects.checkFromIndexSize(address, length, size);
        long done = 0;
        while (done < length)
        {
            final long at = address + done;
            final long chunk = Math.min(length - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
            final boolean locked = lockPageForStore(at);
            try
            {
                tags.clearOverlapped(at, chunk);
                data.asSlice(at, chunk).fill(value);
            }
            finally
            {
                unlockPage(at, locked);
            }
            done += chunk;
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Capabilities: 16 bytes and a tag, written and read as one.

    /**
     * Stores a capability's two words and its tag as one indivisible step.
     *
     * @param address      granule-aligned address.
     * @param addressWord  the capability's address (low 8 bytes).
     * @param metadataWord the encoded bounds, permissions and type (high 8 bytes).
     * @param tag          whether the stored value is a valid capability.
     * @throws IllegalArgumentException if {@code address} is not 16-byte aligned.
     */
    public void storeCapability(final long address, final long addressWord, final long metadataWord,
        final boolean tag)
    {
        requireGranuleAligned(address);
        Objects.checkFromIndexSize(address, GRANULE_SIZE, size);
        final boolean locked = lockPageForStore(address);
        try
        {
            data.set(LONG, address, addressWord);
            data.set(LONG, address + Long.BYTES, metadataWord);
            if (tag)
            {
                tags.set(address);
            }
            else
            {
                tags.clear(address);
            }
        }
        finally
        {
            unlockPage(address, locked);
        }
    }

    /**
     * Before a store into one page: locks it if it is shared; does nothing if the current thread owns it.
     *
     * @return whether the page was locked.
     * @throws WrongThreadException if the page is confined to another thread.
     */
    private boolean lockPageForStore(final long address)
    {
        if (ownership.mustLock(address))
        {
            locks.lockStripe(locks.stripeOf(address >>> PAGE_SHIFT));
            return true;
        }
        return false;
    }

    private void unlockPage(final long address, final boolean locked)
    {
        if (locked)
        {
            locks.unlockStripe(locks.stripeOf(address >>> PAGE_SHIFT));
        }
    }

    /**
     * Starts an optimistic capability load. Read the words with {@link #loadLong(long)} and the tag with
     * {@link #isTagged(long)}, then call {@link #validateCapabilityLoad(long, long)}; repeat if it fails.
     *
     * @param address granule-aligned address.
     * @return the stamp for {@link #validateCapabilityLoad(long, long)}.
     * @throws WrongThreadException if the address is in an area confined to another thread, whose unlocked
     *                              stores could otherwise be seen half done.
     */
    public long beginCapabilityLoad(final long address)
    {
        if (!ownership.mustLock(address))
        {
            return OWNED_STAMP;
        }
        return locks.readStamp(address >>> PAGE_SHIFT);
    }

    /**
     * @param address the address given to {@link #beginCapabilityLoad(long)}.
     * @param stamp   what it returned.
     * @return whether the words and tag read since form one consistent capability.
     */
    public boolean validateCapabilityLoad(final long address, final long stamp)
    {
        return stamp == OWNED_STAMP || locks.validate(address >>> PAGE_SHIFT, stamp);
    }

    /**
     * Loads a granule's two words and tag as one consistent value, without allocating.
     *
     * @param address granule-aligned address.
     * @param out     receives the words and the tag.
     * @throws IllegalArgumentException if {@code address} is not 16-byte aligned.
     */
    public void loadCapability(final long address, final CapabilityBits out)
    {
        requireGranuleAligned(address);
        Objects.checkFromIndexSize(address, GRANULE_SIZE, size);
        if (!ownership.mustLock(address))
        {
            // Only this thread stores here, so what it reads is whole.
            out.set(data.get(LONG, address), data.get(LONG, address + Long.BYTES), tags.isTagged(address));
            return;
        }
        final long page = address >>> PAGE_SHIFT;
        while (true)
        {
            final long stamp = locks.readStamp(page);
            final long addressWord = data.get(LONG, address);
            final long metadataWord = data.get(LONG, address + Long.BYTES);
            final boolean tag = tags.isTagged(address);
            if (locks.validate(page, stamp))
            {
                out.set(addressWord, metadataWord, tag);
                return;
            }
        }
    }

    /**
     * @param address an address in the space.
     * @return whether the granule holding it is tagged (a racy snapshot; see {@link #loadCapability}).
     */
    public boolean isTagged(final long address)
    {
        return tags.isTagged(address);
    }

    private static void requireGranuleAligned(final long address)
    {
        if ((address & (GRANULE_SIZE - 1)) != 0)
        {
            throw new IllegalArgumentException("capability address not 16-byte aligned: 0x"
                + Long.toHexString(address));
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Copies.

    /**
     * Copies {@code length} bytes from {@code src} to {@code dst} within the space, correctly when the ranges
     * overlap (memmove). With {@code preserveTags} and {@code src ≡ dst (mod 16)}, the tag of every destination
     * granule fully covered by the copy becomes its source granule's tag; every other destination granule that the
     * copy overlaps (partly covered ones, or all of them when the alignments differ or tags are not preserved) has
     * its tag cleared. Atomic per page pair, not as a whole.
     *
     * @param src          first source byte.
     * @param dst          first destination byte.
     * @param length       bytes.
     * @param preserveTags whether tags may move with the bytes.
     */
    public void copy(final long src, final long dst, final long length, final boolean preserveTags)
    {
        Objects.checkFromIndexSize(src, length, size);
        Objects.checkFromIndexSize(dst, length, size);
        if (length == 0)
        {
            return;
        }
        final boolean tagsMove = preserveTags && ((src ^ dst) & (GRANULE_SIZE - 1)) == 0;
        if (dst <= src || dst >= src + length)
        {
            long done = 0;
            while (done < length)
            {
                final long chunk = chunkFrom(src + done, dst + done, length - done);
                copyChunk(src + done, dst + done, chunk, tagsMove);
                done += chunk;
            }
        }
        else
        {
            long left = length;
            while (left > 0)
            {
                final long chunk = chunkTo(src + left, dst + left, left);
                left -= chunk;
                copyChunk(src + left, dst + left, chunk, tagsMove);
            }
        }
    }

    private static long chunkFrom(final long src, final long dst, final long remaining)
    {
        final long srcRoom = PAGE_SIZE - (src & (PAGE_SIZE - 1));
        final long dstRoom = PAGE_SIZE - (dst & (PAGE_SIZE - 1));
        return Math.min(remaining, Math.min(srcRoom, dstRoom));
    }

    private static long chunkTo(final long srcEnd, final long dstEnd, final long remaining)
    {
        final long srcRoom = ((srcEnd - 1) & (PAGE_SIZE - 1)) + 1;
        final long dstRoom = ((dstEnd - 1) & (PAGE_SIZE - 1)) + 1;
        return Math.min(remaining, Math.min(srcRoom, dstRoom));
    }

    /** Copies a chunk that lies within one source page and one destination page. */
    private void copyChunk(final long src, final long dst, final long length, final boolean tagsMove)
    {
        final long srcPage = src >>> PAGE_SHIFT;
        final long dstPage = dst >>> PAGE_SHIFT;
        // Tags may only be read from memory whose writers lock, or that this thread owns.
        final boolean srcShared = tagsMove && ownership.mustLock(src);
        final boolean dstShared = ownership.mustLock(dst);
        lockForCopy(srcPage, srcShared, dstPage, dstShared);
        try
        {
            MemorySegment.copy(data, src, data, dst, length);
            if (!tagsMove || !tags.pageMayHoldTags(srcPage))
            {
                tags.clearOverlapped(dst, length);
                return;
            }
            final long firstFull = Geometry.alignUp(dst, GRANULE_SIZE);
            final long endFull = (dst + length) & -GRANULE_SIZE;
            // Tags first: with overlapping ranges a partly covered destination granule can be a source granule.
            if (endFull > firstFull)
            {
                tags.copyTags((firstFull - dst + src) >>> GRANULE_SHIFT, firstFull >>> GRANULE_SHIFT,
                    (endFull - firstFull) >>> GRANULE_SHIFT);
            }
            if (firstFull > dst)
            {
                tags.clear(dst);
            }
            if (endFull < dst + length && endFull >= firstFull)
            {
                tags.clear(endFull);
            }
        }
        finally
        {
            unlockForCopy(srcPage, srcShared, dstPage, dstShared);
        }
    }

    private void lockForCopy(final long srcPage, final boolean srcShared, final long dstPage, final boolean dstShared)
    {
        if (srcShared && dstShared)
        {
            locks.lockPair(srcPage, dstPage);
        }
        else if (srcShared)
        {
            locks.lockStripe(locks.stripeOf(srcPage));
        }
        else if (dstShared)
        {
            locks.lockStripe(locks.stripeOf(dstPage));
        }
    }

    private void unlockForCopy(final long srcPage, final boolean srcShared, final long dstPage,
        final boolean dstShared)
    {
        if (srcShared && dstShared)
        {
            locks.unlockPair(srcPage, dstPage);
        }
        else if (srcShared)
        {
            locks.unlockStripe(locks.stripeOf(srcPage));
        }
        else if (dstShared)
        {
            locks.unlockStripe(locks.stripeOf(dstPage));
        }
    }
}
