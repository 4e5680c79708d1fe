package dev.ufork.capability;

/**
 * A CHERI ISAv9 capability value (the "register view"): tag, 64-bit address and the 64-bit
 * CHERI Concentrate metadata word, with its decoded bounds, permissions and object type cached.
 *
 * <p><b>Unforgeable.</b> There is no public constructor and no public way to set a tag from bits.
 * New values come only from a root ({@link #root}), from monotone derivation methods on an existing
 * value, from memory (where the tag comes from the tag bitmap, {@link #fromMemory}) and from
 * {@link #buildCap}, which re-derives a tag from an authority.
 *
 * <p><b>Guarded manipulation.</b> As in ISAv9, a derivation that would break monotonicity or the
 * sealing rules never throws: it returns the value with its tag cleared. Faults happen only when an
 * untagged or otherwise unsuitable capability is used to access memory, which is not this class's
 * concern.
 *
 * <p>The metadata word is kept bit-exact in its in-memory (NULL-XORed) form, so a store followed by a
 * load reproduces the same bits. {@link #equals(Object)} compares tag, address and metadata, which is
 * {@code CSetEqualExact}.
 *
 * <p>Instances are immutable, so they are thread-safe and may be shared and cached freely; they hold no
 * resources and live as long as any ordinary object.
 */
public final class Capability
{
    /** The NULL capability: untagged, address 0, all-zero metadata, bounds [0, 2^64), no permissions. */
    public static final Capability NULL = new Capability(false, 0L, CheriConcentrate.NULL_METADATA);

    private final boolean tag;
    private final long address;
    private final long metadata;

    // Decoded from (metadata, address); kept so field reads and bounds checks cost nothing.
    private final long base;
    private final long top;
    private final boolean topIsMax;
    private final int perms;
    private final int otype;

    // Precomputed for the access checks in CapabilityMemory, so the hot path is one mask test and two compares:
    // the permissions usable for access (none if untagged, sealed or based above 2^63, beyond any address space),
    // and the top as a signed long (Long.MAX_VALUE when it is 2^63 or more).
    final int accessPermissions;
    final long accessTop;

    private Capability(final boolean tag, final long address, final long metadata)
    {
        this.tag = tag;
        this.address = address;
        this.metadata = metadata;
        // One decode for base, top and bit 64 of top (the public decoders each redo the common steps): this
        // constructor is on the path of every capability load, which must stay small enough to inline into its
        // caller, so that a loaded capability that does not escape is never allocated.
        final long m = CheriConcentrate.toArchitectural(metadata);
        final int e = Math.min(CheriConcentrate.rawExponent(m), CheriConcentrate.MAX_EXPONENT);
        final int b = CheriConcentrate.baseMantissa(m);
        final int t = CheriConcentrate.topMantissa(m);
        final int r3 = ((b >>> 11) - 1) & 7;
        final long topRegion = CheriConcentrate.regionBase(address, e, t, r3);
        final long baseLow = CheriConcentrate.composeLow(CheriConcentrate.regionBase(address, e, b, r3), b, e);
        final long topLow = CheriConcentrate.composeLow(topRegion, t, e);
        this.base = baseLow;
        this.top = topLow;
        this.topIsMax = CheriConcentrate.topBit64(topRegion, t, e, topLow, baseLow);
        this.perms = CheriConcentrate.permissions(metadata);
        this.otype = CheriConcentrate.objectType(metadata);
        this.accessPermissions = accessPermissions(tag, otype, base, perms);
        this.accessTop = accessTop(top, topIsMax);
    }

    // For derivations that are known to keep the decoded bounds (a representable address change),
    // so the cached bounds are copied instead of decoded again.
    private Capability(final boolean tag, final long address, final long metadata, final Capability sameBounds)
    {
        this.tag = tag;
        this.address = address;
        this.metadata = metadata;
        this.base = sameBounds.base;
        this.top = sameBounds.top;
        this.topIsMax = sameBounds.topIsMax;
        this.perms = CheriConcentrate.permissions(metadata);
        this.otype = CheriConcentrate.objectType(metadata);
        this.accessPermissions = accessPermissions(tag, otype, base, perms);
        this.accessTop = sameBounds.accessTop;
    }

    private static int accessPermissions(final boolean tag, final int otype, final long base, final int perms)
    {
        return tag && otype == ObjectType.UNSEALED && base >= 0 ? perms : 0;
    }

    private static long accessTop(final long top, final boolean topIsMax)
    {
        return topIsMax || top < 0 ? Long.MAX_VALUE : top;
    }

    // ------------------------------------------------------------------------------------------
    // Package-private factories
    // ------------------------------------------------------------------------------------------

    /**
     * Decodes a capability exactly as loaded from memory. The tag is trusted because it comes from
     * the tag bitmap, which only capability stores of tagged values set.
     *
     * @param addressWord  the first (address) word of the slot
     * @param metadataWord the second (in-memory metadata) word of the slot
     * @param tag          the slot's tag bit
     * @return the capability
     */
    static Capability fromMemory(final long addressWord, final long metadataWord, final boolean tag)
    {
        // Always a fresh object, never the NULL singleton: a single allocation site lets the JIT scalar-replace
        // a loaded capability that does not escape (a pointer chase), so such loads allocate nothing.
        return new Capability(tag, addressWord, metadataWord);
    }

    /**
     * A tagged, unsealed root capability with bounds exactly [base, top) and the address at base.
     * {@code top} is unsigned, and 0 stands for 2^64 (so {@code root(0, 0, p)} is the whole address
     * space): a root with an empty range at 2^64 is never wanted.
     *
     * @param base        the base
     * @param top         the top, unsigned; 0 means 2^64
     * @param permissions permissions in CGetPerm numbering, a subset of {@link Permissions#ALL}
     * @return the root
     * @throws IllegalArgumentException if top &lt; base, the permissions are undefined, or the bounds
     *                                  are not exactly representable (see
     *                                  {@link #representableAlignmentMask(long)})
     */
    static Capability root(final long base, final long top, final int permissions)
    {
        if (!Permissions.isValid(permissions))
        {
            throw new IllegalArgumentException("undefined permission bits: 0x" + Integer.toHexString(permissions));
        }
        final boolean topHigh = top == 0L;
        if (!topHigh && Long.compareUnsigned(top, base) < 0)
        {
            throw new IllegalArgumentException("top 0x" + Long.toHexString(top) + " below base 0x"
                    + Long.toHexString(base));
        }
        final long metadata = CheriConcentrate.encode(base, top, topHigh, permissions, ObjectType.UNSEALED, 0);
        return new Capability(true, base, metadata);
    }

    // ------------------------------------------------------------------------------------------
    // Field access
    // ------------------------------------------------------------------------------------------

    /** @return the validity tag */
    public boolean isTagged()
    {
        return tag;
    }

    /** @return the address (cursor) */
    public long address()
    {
        return address;
    }

    /** @return the decoded base */
    public long base()
    {
        return base;
    }

    /**
     * @return the low 64 bits of the decoded 65-bit top; 0 together with {@link #isTopMax()} means 2^64
     */
    public long top()
    {
        return top;
    }

    /**
     * Bit 64 of the decoded top. Every tagged capability has top &le; 2^64, so for those this means
     * top == 2^64. An untagged value decoded from arbitrary bits may have a top above 2^64; then this
     * is also true and {@link #top()} holds the low bits.
     *
     * @return whether top &ge; 2^64
     */
    public boolean isTopMax()
    {
        return topIsMax;
    }

    /**
     * {@code CGetLen}: top - base, saturated at 2^64 - 1.
     *
     * @return the length as an unsigned long
     */
    public long length()
    {
        final long low = top - base;
        final boolean borrow = Long.compareUnsigned(top, base) < 0;
        // Bit 64 of the 65-bit difference decides saturation.
        return (topIsMax ^ borrow) ? -1L : low;
    }

    /** @return {@code address - base} (modulo 2^64, as {@code CGetOffset}) */
    public long offset()
    {
        return address - base;
    }

    /** @return the permissions in CGetPerm numbering (architectural bits 0..11, user bits 15..18) */
    public int permissions()
    {
        return perms;
    }

    /**
     * @param mask required permissions
     * @return whether every permission in {@code mask} is present (the tag is not considered)
     */
    public boolean hasPermissions(final int mask)
    {
        return (perms & mask) == mask;
    }

    /** @return the object type: {@link ObjectType#UNSEALED}, {@link ObjectType#SENTRY}, -3, -4 or a user type */
    public int objectType()
    {
        return otype;
    }

    /** @return whether the object type is anything but unsealed */
    public boolean isSealed()
    {
        return otype != ObjectType.UNSEALED;
    }

    /** @return whether this is a sealed entry (sentry) capability */
    public boolean isSentry()
    {
        return otype == ObjectType.SENTRY;
    }

    /** @return the architecture flag bit (0 or 1) */
    public int flags()
    {
        return CheriConcentrate.flags(metadata);
    }

    /** @return the in-memory (NULL-XORed) metadata word, as a capability store writes it */
    public long metadataBits()
    {
        return metadata;
    }

    /** @return the in-memory address word, which is the address */
    public long addressBits()
    {
        return address;
    }

    // ------------------------------------------------------------------------------------------
    // Derivations (never throw; violations clear the tag)
    // ------------------------------------------------------------------------------------------

    /**
     * {@code CSetAddr}. The address always changes. The tag is cleared if this is sealed or if the
     * bounds would decode differently at the new address (the precise representability check).
     *
     * @param newAddress the new address
     * @return the derived capability
     */
    public Capability withAddress(final long newAddress)
    {
        final boolean keepsBounds = CheriConcentrate.decodesTo(metadata, newAddress, base, top, topIsMax);
        final boolean newTag = tag && !isSealed() && keepsBounds;
        if (newAddress == address && newTag == tag)
        {
            return this;
        }
        return keepsBounds
                ? new Capability(newTag, newAddress, metadata, this)
                : new Capability(newTag, newAddress, metadata);
    }

    /**
     * {@code CIncOffset}: {@code withAddress(address() + delta)}. Uses the precise representability
     * check; hardware's fast check may clear the tag in a few more cases.
     *
     * @param delta the signed increment
     * @return the derived capability
     */
    public Capability add(final long delta)
    {
        return withAddress(address + delta);
    }

    /**
     * {@code CSetBounds}: bounds [address, address + length), rounded outward to the nearest
     * encodable bounds. The address stays where it is (it becomes the base). The tag is cleared if
     * this is sealed or the requested range is not within the current bounds.
     *
     * @param length the requested length, unsigned
     * @return the derived capability
     */
    public Capability setBounds(final long length)
    {
        return deriveBounds(length, false);
    }

    /**
     * {@code CSetBoundsExact}: as {@link #setBounds(long)}, but also clears the tag when the
     * requested bounds cannot be encoded exactly.
     *
     * @param length the requested length, unsigned
     * @return the derived capability
     */
    public Capability setBoundsExact(final long length)
    {
        return deriveBounds(length, true);
    }

    private Capability deriveBounds(final long length, final boolean requireExact)
    {
        final long newTop = address + length;
        final boolean newTopHigh = Long.compareUnsigned(newTop, address) < 0;
        final boolean inBounds = Long.compareUnsigned(address, base) >= 0
                && CheriConcentrate.compare65(newTop, newTopHigh, top, topIsMax) <= 0;
        final CheriConcentrate.BoundsEncoding enc = CheriConcentrate.setBounds(
                metadata, address, newTop, newTopHigh, new CheriConcentrate.BoundsEncoding());
        // CHERI Concentrate guarantees that rounding stays inside bounds the old encoding could
        // express; checking it again costs two compares and makes monotonicity independent of that proof.
        final boolean withinOld = Long.compareUnsigned(enc.base(), base) >= 0
                && CheriConcentrate.compare65(enc.top(), enc.topHigh(), top, topIsMax) <= 0;
        final boolean newTag = tag && !isSealed() && inBounds && withinOld && (enc.exact() || !requireExact);
        return new Capability(newTag, address, enc.metadata());
    }

    /**
     * {@code CAndPerm}: keeps only the permissions also in {@code mask} (bits 12..14 and above 18 are
     * ignored, as the format has no room for them). The tag is cleared if this is sealed.
     *
     * @param mask the permissions to keep
     * @return the derived capability
     */
    public Capability andPermissions(final int mask)
    {
        final long newMetadata = CheriConcentrate.withPermissions(metadata, perms & mask);
        final boolean newTag = tag && !isSealed();
        if (newMetadata == metadata && newTag == tag)
        {
            return this;
        }
        return new Capability(newTag, address, newMetadata, this);
    }

    /**
     * {@code CSeal}: seals this capability with object type {@code authority.address()}. The tag is
     * cleared unless the authority is tagged, unsealed, has {@link Permission#SEAL}, its address lies
     * in its bounds and is at most {@link ObjectType#MAX_USER}, and this capability is unsealed. As in
     * the Sail model the object type is written (as the address's low 18 bits) even when the result is
     * untagged.
     *
     * @param authority the sealing authority
     * @return the sealed capability
     */
    public Capability seal(final Capability authority)
    {
        final long type = authority.address;
        final boolean permitted = authority.tag
                && !authority.isSealed()
                && authority.hasPermissions(Permission.SEAL.mask())
                && authority.addressInBounds()
                && Long.compareUnsigned(type, ObjectType.MAX_USER) <= 0;
        final boolean newTag = tag && !isSealed() && permitted;
        final long newMetadata = CheriConcentrate.withObjectType(metadata, (int) (type & ObjectType.RAW_MASK));
        return new Capability(newTag, address, newMetadata, this);
    }

    /**
     * {@code CUnseal}: unseals this capability using an authority whose address equals its object
     * type. The result's GLOBAL is this GLOBAL and the authority's. The tag is cleared unless the
     * authority is tagged, unsealed, has {@link Permission#UNSEAL} and its address lies in its bounds
     * and equals this object type, and this capability is sealed with a user type (sentries and the
     * reserved types cannot be unsealed this way). As in the Sail model the result is unsealed and
     * GLOBAL is adjusted even when the tag is cleared.
     *
     * @param authority the unsealing authority
     * @return the unsealed capability
     */
    public Capability unseal(final Capability authority)
    {
        final boolean permitted = authority.tag
                && !authority.isSealed()
                && ObjectType.isUser(otype)
                && authority.address == otype
                && authority.hasPermissions(Permission.UNSEAL.mask())
                && authority.addressInBounds();
        final int global = Permission.GLOBAL.mask();
        final int newPerms = (perms & ~global) | (perms & authority.perms & global);
        long newMetadata = CheriConcentrate.withObjectType(metadata, ObjectType.UNSEALED);
        newMetadata = CheriConcentrate.withPermissions(newMetadata, newPerms);
        return new Capability(tag && permitted, address, newMetadata, this);
    }

    /**
     * {@code CSealEntry}: makes a sealed entry (sentry). The tag is cleared if this is already sealed
     * or lacks {@link Permission#EXECUTE}: the ISAv9 text requires EXECUTE, though its Sail excerpt
     * does not check it, and a sentry without it could never be jumped to. As in the Sail model the
     * object type becomes {@link ObjectType#SENTRY} even when the tag is cleared.
     *
     * @return the sentry
     */
    public Capability sealEntry()
    {
        final boolean newTag = tag && !isSealed() && hasPermissions(Permission.EXECUTE.mask());
        final long newMetadata = CheriConcentrate.withObjectType(metadata, ObjectType.SENTRY);
        return new Capability(newTag, address, newMetadata, this);
    }

    /**
     * {@code CClearTag}.
     *
     * @return this value with the tag cleared (this itself if already untagged)
     */
    public Capability withTagCleared()
    {
        return tag ? new Capability(false, address, metadata, this) : this;
    }

    // ------------------------------------------------------------------------------------------
    // Rebuilding from bits
    // ------------------------------------------------------------------------------------------

    /**
     * {@code CBuildCap}: re-derives a tag for capability bits, e.g. when importing a swapped-out or
     * exported image. The result is tagged iff the authority is tagged and unsealed, the bits'
     * decoded bounds lie within the authority's and base &le; top, their permissions are a subset
     * of the authority's, their reserved bits are zero, and their bounds field is exactly what
     * {@code CSetBounds} would produce for those bounds. A sentry stays a sentry, and must carry
     * {@link Permission#EXECUTE} because {@link #sealEntry()} never makes one without it (the Sail
     * CBuildCap does not check this). Any other sealed type comes back <em>unsealed</em>: re-sealing
     * needs an authority for that type, which only its holder has. Otherwise the result is the bits,
     * unchanged and untagged.
     *
     * @param authority    the authority to derive from
     * @param addressWord  the address word
     * @param metadataWord the in-memory metadata word
     * @return the rebuilt capability
     */
    public static Capability buildCap(final Capability authority, final long addressWord, final long metadataWord)
    {
        final Capability bits = fromMemory(addressWord, metadataWord, false);
        final boolean derivable = authority.tag
                && !authority.isSealed()
                && Long.compareUnsigned(bits.base, authority.base) >= 0
                && CheriConcentrate.compare65(bits.top, bits.topIsMax, authority.top, authority.topIsMax) <= 0
                && CheriConcentrate.compare65(bits.base, false, bits.top, bits.topIsMax) <= 0
                && (bits.perms & ~authority.perms) == 0
                && CheriConcentrate.reserved(metadataWord) == 0
                && CheriConcentrate.isDerivableEncoding(metadataWord, addressWord)
                && (!bits.isSentry() || bits.hasPermissions(Permission.EXECUTE.mask()));
        if (!derivable)
        {
            return bits;
        }
        final int newType = bits.isSentry() ? ObjectType.SENTRY : ObjectType.UNSEALED;
        final long newMetadata = CheriConcentrate.withObjectType(metadataWord, newType);
        return new Capability(true, addressWord, newMetadata, bits);
    }

    // ------------------------------------------------------------------------------------------
    // CRRL / CRAM
    // ------------------------------------------------------------------------------------------

    /**
     * {@code CRRL}: the smallest length &ge; {@code length} that {@link #setBoundsExact(long)} can
     * give from a base aligned to {@link #representableAlignmentMask(long)}.
     *
     * @param length a length, unsigned
     * @return the rounded length (0 if it would round up to 2^64)
     */
    public static long representableLength(final long length)
    {
        return CheriConcentrate.representableLength(length);
    }

    /**
     * {@code CRAM}: the mask a base must satisfy ({@code base & mask == base}) for bounds of the
     * representable length to be exact.
     *
     * @param length a length, unsigned
     * @return the alignment mask
     */
    public static long representableAlignmentMask(final long length)
    {
        return CheriConcentrate.representableAlignmentMask(length);
    }

    // ------------------------------------------------------------------------------------------
    // Comparison and printing
    // ------------------------------------------------------------------------------------------

    /**
     * Pointer comparison, as C does it on capabilities: addresses only.
     *
     * @param other another capability
     * @return whether both have the same address
     */
    public boolean addressEquals(final Capability other)
    {
        return address == other.address;
    }

    /** {@code CSetEqualExact}: equal tag, address and metadata bits. */
    @Override
    public boolean equals(final Object o)
    {
        return o instanceof Capability c && c.tag == tag && c.address == address && c.metadata == metadata;
    }

    /** A hash over tag, address and metadata, consistent with {@link #equals(Object)}. */
    @Override
    public int hashCode()
    {
        return (Long.hashCode(address) * 31 + Long.hashCode(metadata)) * 31 + Boolean.hashCode(tag);
    }

    /**
     * A CheriBSD-like rendering, e.g. {@code 0x1040 [rwRW,0x1000-0x2000] sealed(5)}, with
     * {@code sentry} for sentries and {@code (invalid)} appended when untagged.
     */
    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder(64)
                .append("0x").append(Long.toHexString(address))
                .append(" [").append(Permissions.toString(perms))
                .append(",0x").append(Long.toHexString(base))
                .append('-').append(CheriConcentrate.hex65(top, topIsMax))
                .append(']');
        if (isSentry())
        {
            sb.append(" sentry");
        }
        else if (isSealed())
        {
            sb.append(" sealed(").append(otype).append(')');
        }
        if (!tag)
        {
            sb.append(" (invalid)");
        }
        return sb.toString();
    }

    private boolean addressInBounds()
    {
        return Long.compareUnsigned(address, base) >= 0
                && CheriConcentrate.compare65(address, false, top, topIsMax) < 0;
    }
}
