package dev.ufork.capability;

/**
 * Permission masks in the ISAv9 {@code CGetPerm} numbering (see {@link Permission}), and helpers
 * to check and print them.
 *
 * <p>Stateless and thread-safe; not instantiable.
 */
public final class Permissions
{
    /** No permissions. */
    public static final int NONE = 0;

    /** The twelve architectural permissions, bits 0..11. */
    public static final int HARDWARE_ALL = 0xFFF;

    /** The four software-defined permissions, bits 15..18. */
    public static final int USER_ALL = 0xF << 15;

    /** All sixteen defined permissions, as a reset root holds them. */
    public static final int ALL = HARDWARE_ALL | USER_ALL;

    /** Read-only data: LOAD and GLOBAL. */
    public static final int DATA_READ = Permission.LOAD.mask() | Permission.GLOBAL.mask();

    /** Read-write data without capability transfer: LOAD, STORE and GLOBAL. */
    public static final int DATA_READ_WRITE = DATA_READ | Permission.STORE.mask();

    /** Read-only data and capabilities: LOAD, LOAD_CAP and GLOBAL. */
    public static final int CAP_READ = DATA_READ | Permission.LOAD_CAP.mask();

    /**
     * Read-write data and capabilities, including local ones: LOAD, STORE, LOAD_CAP, STORE_CAP,
     * STORE_LOCAL_CAP and GLOBAL.
     */
    public static final int CAP_READ_WRITE = DATA_READ_WRITE
            | Permission.LOAD_CAP.mask()
            | Permission.STORE_CAP.mask()
            | Permission.STORE_LOCAL_CAP.mask();

    /** Sealing authority: SEAL, UNSEAL and GLOBAL. */
    public static final int SEALING = Permission.SEAL.mask() | Permission.UNSEAL.mask() | Permission.GLOBAL.mask();

    /** Code: EXECUTE, LOAD, LOAD_CAP and GLOBAL. */
    public static final int CODE = Permission.EXECUTE.mask() | CAP_READ;

    // One letter per permission, indexed by bit number; '\0' marks the bits 12..14 that do not exist.
    // Lower-case letters are the data permissions, capitals the capability ones, digits the user ones.
    private static final char[] LETTERS = {
        'G', 'x', 'r', 'w', 'R', 'W', 'L', 'S', 'I', 'U', 'A', 'C', '\0', '\0', '\0', '0', '1', '2', '3',
    };

    // The order letters are printed in: the familiar CheriBSD "rwxRW" prefix first.
    private static final Permission[] PRINT_ORDER = {
        Permission.LOAD, Permission.STORE, Permission.EXECUTE, Permission.LOAD_CAP, Permission.STORE_CAP,
        Permission.STORE_LOCAL_CAP, Permission.GLOBAL, Permission.SEAL, Permission.UNSEAL, Permission.CINVOKE,
        Permission.ACCESS_SYSTEM_REGISTERS, Permission.SET_CID,
        Permission.USER0, Permission.USER1, Permission.USER2, Permission.USER3,
    };

    private Permissions()
    {
    }

    /**
     * @param mask a candidate permission mask
     * @return whether {@code mask} sets no bit outside the sixteen defined permissions
     */
    public static boolean isValid(final int mask)
    {
        return (mask & ~ALL) == 0;
    }

    /**
     * @param permissions the permissions to combine
     * @return the mask with exactly those permissions
     */
    public static int of(final Permission... permissions)
    {
        int mask = NONE;
        for (final Permission p : permissions)
        {
            mask |= p.mask();
        }
        return mask;
    }

    /**
     * @param mask    a permission mask
     * @param required the permissions that must all be present
     * @return whether every bit of {@code required} is set in {@code mask}
     */
    public static boolean containsAll(final int mask, final int required)
    {
        return (mask & required) == required;
    }

    /**
     * Prints a mask compactly: {@code r}=LOAD, {@code w}=STORE, {@code x}=EXECUTE, {@code R}=LOAD_CAP,
     * {@code W}=STORE_CAP, {@code L}=STORE_LOCAL_CAP, {@code G}=GLOBAL, {@code S}=SEAL, {@code U}=UNSEAL,
     * {@code I}=CINVOKE, {@code A}=ACCESS_SYSTEM_REGISTERS, {@code C}=SET_CID, {@code 0}..{@code 3}=USER0..3,
     * in that order. An empty mask prints as {@code -}. Undefined bits print as {@code ?<hex>} at the end.
     *
     * @param mask a permission mask
     * @return the letter form, e.g. {@code "rwRWLG"} for {@link #CAP_READ_WRITE}
     */
    public static String toString(final int mask)
    {
        final StringBuilder sb = new StringBuilder(20);
        for (final Permission p : PRINT_ORDER)
        {
            if (p.isIn(mask))
            {
                sb.append(LETTERS[p.bit()]);
            }
        }
        final int undefined = mask & ~ALL;
        if (undefined != 0)
        {
            sb.append('?').append(Integer.toHexString(undefined));
        }
        return sb.isEmpty() ? "-" : sb.toString();
    }
}
