package dev.ufork.capability;

/**
 * One CHERI ISAv9 capability permission, numbered as {@code CGetPerm} / {@code CAndPerm} see it.
 *
 * <p>Bits 0..11 are the architectural ("hardware") permissions. Bits 15..18 are the four
 * software-defined permissions, stored in the {@code uperms} field of the 128-bit format.
 * Bits 12..14 do not exist in the 128-bit format and are always zero.
 *
 * <p>Immutable and thread-safe, like every enum.
 */
public enum Permission
{
    /** May be stored through an authority without {@link #STORE_LOCAL_CAP}; absent means "local". */
    GLOBAL(0),
    /** May be used for instruction fetch (inert in this library, kept so masks round-trip). */
    EXECUTE(1),
    /** Data loads; together with {@link #LOAD_CAP}, loads that keep a capability's tag. */
    LOAD(2),
    /** Data stores; together with {@link #STORE_CAP}, stores of tagged capabilities. */
    STORE(3),
    /** A capability loaded through this authority keeps its tag. */
    LOAD_CAP(4),
    /** A tagged capability may be stored through this authority. */
    STORE_CAP(5),
    /** A tagged capability without {@link #GLOBAL} may be stored through this authority. */
    STORE_LOCAL_CAP(6),
    /** Authorises sealing with the object type equal to this capability's address. */
    SEAL(7),
    /** A sealed capability carrying it may be used with CInvoke (inert here). */
    CINVOKE(8),
    /** Authorises unsealing a capability whose object type equals this capability's address. */
    UNSEAL(9),
    /** Access to privileged system registers (inert here). */
    ACCESS_SYSTEM_REGISTERS(10),
    /** Authorises setting the compartment ID to this capability's address (inert here). */
    SET_CID(11),
    /** Software-defined permission 0 ({@code uperms[0]}). */
    USER0(15),
    /** Software-defined permission 1 ({@code uperms[1]}). */
    USER1(16),
    /** Software-defined permission 2 ({@code uperms[2]}). */
    USER2(17),
    /** Software-defined permission 3 ({@code uperms[3]}). */
    USER3(18);

    private final int bit;

    Permission(final int bit)
    {
        this.bit = bit;
    }

    /** @return the bit number of this permission in the {@code CGetPerm} view */
    public int bit()
    {
        return bit;
    }

    /** @return {@code 1 << bit()} */
    public int mask()
    {
        return 1 << bit;
    }

    /**
     * @param mask a permission mask
     * @return whether {@code mask} includes this permission
     */
    public boolean isIn(final int mask)
    {
        return (mask & (1 << bit)) != 0;
    }
}
