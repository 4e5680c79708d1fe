package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityRoots;

/**
 * What the reference model expects in a tagged granule: a capability into the µprocess's own area, described
 * relative to the area's base (so a fork, which moves the area, does not change it), or a capability that points
 * elsewhere (a kernel entry), which relocation must leave bit for bit as it is.
 */
sealed interface ModelCap
{
    /**
     * @param areaBase the base of the area the granule is in.
     * @param root     the memory root, to rebuild the expected capability at that base.
     * @return the capability the granule must hold, tag included.
     */
    Capability expected(long areaBase, Capability root);

    /**
     * Describes a tagged capability found in (or about to be stored into) an area.
     *
     * @param value    the capability, tagged.
     * @param areaBase the area's base.
     * @param areaSize the area's size.
     * @return {@link Relative} if its bounds lie in the area, else {@link Absolute}.
     */
    static ModelCap of(final Capability value, final long areaBase, final long areaSize)
    {
        if (!value.isTagged())
        {
            throw new IllegalArgumentException("the model keeps untagged values as bytes: " + value);
        }
        final long base = value.base() - areaBase;
        if (Long.compareUnsigned(base, areaSize) < 0 && !value.isTopMax() && value.top() - areaBase <= areaSize)
        {
            return new Relative(value.address() - areaBase, base, value.length(), value.permissions(),
                value.objectType());
        }
        return new Absolute(value);
    }

    /**
     * A capability whose bounds lie in the µprocess's area, in area-relative terms. Its address may lie outside the
     * bounds (and even outside the area) as far as the encoding can represent it.
     *
     * @param address    address − area base.
     * @param base       base − area base.
     * @param length     bytes.
     * @param permissions the permission mask.
     * @param objectType the object type ({@code -1} unsealed).
     */
    record Relative(long address, long base, long length, int permissions, int objectType) implements ModelCap
    {
        @Override
        public Capability expected(final long areaBase, final Capability root)
        {
            Capability c = root.withAddress(areaBase + base).setBoundsExact(length).andPermissions(permissions)
                .withAddress(areaBase + address);
            if (objectType != -1)
            {
                c = c.seal(CapabilityRoots.sealingRoot().withAddress(objectType));
            }
            if (!c.isTagged())
            {
                throw new IllegalStateException("model capability " + this + " is not derivable at base 0x"
                    + Long.toHexString(areaBase));
            }
            return c;
        }
    }

    /**
     * A capability that points outside the area: it must stay exactly as it is in every copy.
     *
     * @param value the capability.
     */
    record Absolute(Capability value) implements ModelCap
    {
        @Override
        public Capability expected(final long areaBase, final Capability root)
        {
            return value;
        }
    }
}
