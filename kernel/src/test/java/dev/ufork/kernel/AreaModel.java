package dev.ufork.kernel;

import dev.ufork.capability.Capability;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The reference model of one µprocess's area: plain bytes plus, per 16-byte granule, the capability it holds if its
 * tag is set. It copies eagerly: a fork is {@link #forkTo(long)}, a deep copy that keeps every area-relative
 * capability relative, which is exactly what "the child sees the image it would have seen had the whole area been
 * copied at fork" means. The bytes of a tagged granule are not kept: they are the capability's, rebuilt at the
 * area's current base when a data access needs them.
 * <p>
 * Thread safety: none; each model belongs to one µprocess's thread.
 */
final class AreaModel
{
    static final int GRANULE = 16;

    private final long size;
    private final Capability root;
    private final byte[] bytes;
    private final ModelCap[] caps;
    private long base;

    private AreaModel(final long size, final Capability root, final byte[] bytes, final ModelCap[] caps,
        final long base)
    {
        this.size = size;
        this.root = root;
        this.bytes = bytes;
        this.caps = caps;
        this.base = base;
    }

    /**
     * @param size bytes of the area.
     * @param root the memory root, for rebuilding relative capabilities at a base.
     * @param base the area's base.
     * @return an all-zero, untagged area.
     */
    static AreaModel zeroed(final long size, final Capability root, final long base)
    {
        return new AreaModel(size, root, new byte[Math.toIntExact(size)], new ModelCap[Math.toIntExact(size / GRANULE)],
            base);
    }

    /**
     * @param childBase where the copy lives; set later with {@link #rebase} if not yet known.
     * @return the eager copy a fork would give a child.
     */
    AreaModel forkTo(final long childBase)
    {
        return new AreaModel(size, root, bytes.clone(), caps.clone(), childBase);
    }

    /** @param newBase the base of the area this model now describes (a child's, once it knows it). */
    void rebase(final long newBase)
    {
        base = newBase;
    }

    long base()
    {
        return base;
    }

    long size()
    {
        return size;
    }

    /** @return whether the granule at {@code offset} (16-aligned) is tagged. */
    boolean isTagged(final long offset)
    {
        return caps[granule(offset)] != null;
    }

    /** @return the model capability of a tagged granule, or null. */
    ModelCap capAt(final long offset)
    {
        return caps[granule(offset)];
    }

    /**
     * @param offset a 16-aligned offset.
     * @return the capability {@code loadCapability} must return there through an authority with LOAD_CAP.
     */
    Capability expectedCapability(final long offset)
    {
        final ModelCap cap = caps[granule(offset)];
        if (cap != null)
        {
            return cap.expected(base, root);
        }
        final ByteBuffer b = ByteBuffer.wrap(bytes, Math.toIntExact(offset), GRANULE).order(ByteOrder.LITTLE_ENDIAN);
        final long addressWord = b.getLong();
        // CBuildCap under an untagged authority gives exactly the bits, untagged.
        return Capability.buildCap(Capability.NULL, addressWord, b.getLong());
    }

    /**
     * @param offset first byte.
     * @param length bytes.
     * @return the bytes a data load must see: stored data, and the in-memory image of tagged granules.
     */
    byte[] read(final long offset, final int length)
    {
        final byte[] out = Arrays.copyOfRange(bytes, Math.toIntExact(offset), Math.toIntExact(offset + length));
        final long first = offset & -GRANULE;
        for (long g = first; g < offset + length; g += GRANULE)
        {
            final ModelCap cap = caps[granule(g)];
            if (cap != null)
            {
                final byte[] image = image(cap.expected(base, root));
                for (int i = 0; i < GRANULE; i++)
                {
                    final long at = g + i;
                    if (at >= offset && at < offset + length)
                    {
                        out[(int)(at - offset)] = image[i];
                    }
                }
            }
        }
        return out;
    }

    /** @return the little-endian long at {@code offset} as a data load must see it. */
    long readLong(final long offset)
    {
        return ByteBuffer.wrap(read(offset, Long.BYTES)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /**
     * A data store: the bytes land and every granule they overlap loses its tag (its other bytes keep the
     * capability's image, as memory does).
     */
    void write(final long offset, final byte[] data)
    {
        untagOverlapped(offset, data.length);
        System.arraycopy(data, 0, bytes, Math.toIntExact(offset), data.length);
    }

    /** A data store of a little-endian long. */
    void writeLong(final long offset, final long value)
    {
        write(offset, ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    /**
     * A capability store.
     *
     * @param offset 16-aligned.
     * @param value  the stored value: tagged ones are kept as model capabilities, untagged ones as their bytes.
     */
    void storeCapability(final long offset, final Capability value)
    {
        final int g = granule(offset);
        if (value.isTagged())
        {
            caps[g] = ModelCap.of(value, base, size);
        }
        else
        {
            caps[g] = null;
            System.arraycopy(image(value), 0, bytes, Math.toIntExact(offset), GRANULE);
        }
    }

    /**
     * {@code memmove} with CHERI tag rules: tags of fully covered granules travel when source and destination agree
     * mod 16; every other destination granule the copy overlaps loses its tag.
     */
    void copy(final long dst, final long src, final int length)
    {
        if (length == 0)
        {
            return;
        }
        final byte[] data = read(src, length);
        final ModelCap[] moving = new ModelCap[length / GRANULE + 2];
        final boolean tagsMove = ((src ^ dst) & (GRANULE - 1)) == 0;
        if (tagsMove)
        {
            for (long g = alignUp(src); g + GRANULE <= src + length; g += GRANULE)
            {
                moving[(int)((g - alignUp(src)) / GRANULE)] = caps[granule(g)];
            }
        }
        write(dst, data);
        if (tagsMove)
        {
            for (long g = alignUp(dst); g + GRANULE <= dst + length; g += GRANULE)
            {
                caps[granule(g)] = moving[(int)((g - alignUp(dst)) / GRANULE)];
            }
        }
    }

    private void untagOverlapped(final long offset, final long length)
    {
        for (long g = offset & -GRANULE; g < offset + length; g += GRANULE)
        {
            final ModelCap cap = caps[granule(g)];
            if (cap != null)
            {
                System.arraycopy(image(cap.expected(base, root)), 0, bytes, Math.toIntExact(g), GRANULE);
                caps[granule(g)] = null;
            }
        }
    }

    private static long alignUp(final long offset)
    {
        return (offset + GRANULE - 1) & -GRANULE;
    }

    private static int granule(final long offset)
    {
        return (int)(offset / GRANULE);
    }

    /** @return the 16 bytes of a capability as memory holds them: address word, then metadata word. */
    static byte[] image(final Capability value)
    {
        return ByteBuffer.allocate(GRANULE).order(ByteOrder.LITTLE_ENDIAN).putLong(value.addressBits())
            .putLong(value.metadataBits()).array();
    }

    /** @return how many granules are tagged. */
    int taggedCount()
    {
        int n = 0;
        for (final ModelCap cap : caps)
        {
            n += cap == null ? 0 : 1;
        }
        return n;
    }
}
