package dev.ufork.capability;

/**
 * CHERI ISAv9 object types (otypes) and their 18-bit raw encoding.
 *
 * <p>The architectural view is a signed {@code int}: {@link #UNSEALED} (-1), {@link #SENTRY} (-2),
 * the reserved values -3 and -4, or a user type {@code 0..}{@link #MAX_USER}. The raw field is the
 * low 18 bits of that value, so -1 is {@code 0x3FFFF}. The Sail model reserves four values, which
 * is what fixes {@link #MAX_USER}; the prose table of ISAv9 reserves more, but no instruction treats
 * the values between {@code MAX_USER} and the Sail ones specially, so the Sail count is used.
 *
 * <p>Stateless and thread-safe; not instantiable.
 */
public final class ObjectType
{
    /** Width of the raw otype field in the 128-bit format. */
    public static final int WIDTH = 18;

    /** Mask of the raw 18-bit field. */
    public static final int RAW_MASK = (1 << WIDTH) - 1;

    /** An unsealed capability (raw {@code 0x3FFFF}). */
    public static final int UNSEALED = -1;

    /** A sealed entry capability made by {@code CSealEntry} (raw {@code 0x3FFFE}). */
    public static final int SENTRY = -2;

    /** Reserved (memory-type token or indirect pair in experimental extensions). */
    public static final int RESERVED_3 = -3;

    /** Reserved (indirect sentry in experimental extensions). */
    public static final int RESERVED_4 = -4;

    /** Number of otypes the architecture reserves at the top of the raw range. */
    public static final int RESERVED_COUNT = 4;

    /** The largest type {@code CSeal} can produce: 2^18 - 1 - 4 = 262139. */
    public static final int MAX_USER = RAW_MASK - RESERVED_COUNT;

    private ObjectType()
    {
    }

    /**
     * @param raw an 18-bit raw otype field (higher bits are ignored)
     * @return the signed architectural otype: negative for the reserved values, else the user type
     */
    public static int fromRaw(final int raw)
    {
        final int r = raw & RAW_MASK;
        return r > MAX_USER ? r - (1 << WIDTH) : r;
    }

    /**
     * @param otype an architectural otype, {@code -4..MAX_USER}
     * @return its 18-bit raw encoding
     */
    public static int toRaw(final int otype)
    {
        return otype & RAW_MASK;
    }

    /**
     * @param otype an architectural otype
     * @return whether {@code otype} lies in {@code -4..MAX_USER}
     */
    public static boolean isValid(final int otype)
    {
        return otype >= RESERVED_4 && otype <= MAX_USER;
    }

    /**
     * @param otype an architectural otype
     * @return whether it is a user type {@code 0..MAX_USER}, i.e. one {@code CUnseal} can remove
     */
    public static boolean isUser(final int otype)
    {
        return otype >= 0 && otype <= MAX_USER;
    }

    /**
     * @param otype an architectural otype
     * @return whether it is one of the reserved sealed kinds (sentry, -3, -4)
     */
    public static boolean isReservedSealed(final int otype)
    {
        return otype < UNSEALED && otype >= RESERVED_4;
    }

    /**
     * @param otype an architectural otype
     * @return whether a capability with this otype is sealed (anything but {@link #UNSEALED})
     */
    public static boolean isSealed(final int otype)
    {
        return otype != UNSEALED;
    }

    /**
     * @param otype an architectural otype
     * @return a short name: {@code unsealed}, {@code sentry}, {@code reserved(-3)} or the decimal type
     */
    public static String toString(final int otype)
    {
        return switch (otype)
        {
            case UNSEALED -> "unsealed";
            case SENTRY -> "sentry";
            default -> otype < 0 ? "reserved(" + otype + ")" : Integer.toString(otype);
        };
    }
}
