package dev.ufork.kernel.relocation;

import dev.ufork.capability.CheriConcentrate;
import dev.ufork.kernel.relocation.CapabilityImages.Granule;

/**
 * A plain reference for one granule, written from the semantics rather than from the relocators: decode the bounds,
 * clamp them to the parent's area, shift by delta, and ask the codec whether the result is exactly representable
 * with the new address. It compares decoded fields (address, base, top, permissions, object type, flag, reserved
 * bits, tag), not metadata bits, since a fast-path relocation keeps the original word while the slow path re-encodes.
 */
final class RelocationReference
{
    /** What the reference expects for a granule. */
    enum Outcome
    {
        /** Untagged, or a capability whose address and bounds lie outside the parent's area: left alone. */
        UNTOUCHED,
        /** Moved by delta with its bounds unchanged in size. */
        MOVED,
        /** Moved, with its bounds clamped to the child's area. */
        CLAMPED,
        /** Tag cleared: the clamped bounds are empty or not exactly representable with the new address. */
        INVALIDATED
    }

    private RelocationReference()
    {
    }

    /**
     * Checks what a relocator left in one granule.
     *
     * @param original the granule before relocation.
     * @param actual   the granule after.
     * @param window   the window used.
     * @param where    context for failure messages (seed, case, address).
     * @return what the reference expected; {@link Outcome#MOVED} and {@link Outcome#CLAMPED} count as relocated.
     * @throws AssertionError on any difference.
     */
    static Outcome check(final Granule original, final Granule actual, final RelocationWindow window,
        final String where)
    {
        final long address = original.address();
        final long metadata = original.metadata();
        final long base = CheriConcentrate.decodeBase(metadata, address);
        final long top = CheriConcentrate.decodeTop(metadata, address);
        final boolean topHigh = CheriConcentrate.decodeTopHigh(metadata, address);
        if (!moves(original, window))
        {
            // Data, or a capability that neither points nor reaches into the parent's area: untouched, bit for bit.
            expectSame(original, actual, where, original.tag() ? "out-of-range capability" : "untagged granule");
            return Outcome.UNTOUCHED;
        }
        final long clampedBase = Long.compareUnsigned(base, window.fromBase()) < 0 ? window.fromBase() : base;
        final long clampedTop = topHigh || Long.compareUnsigned(top, window.fromTop()) > 0 ? window.fromTop() : top;
        if (Long.compareUnsigned(clampedBase, clampedTop) > 0)
        {
            expectInvalidated(original, actual, where, "bounds outside the parent's area");
            return Outcome.INVALIDATED;
        }
        final long newBase = clampedBase + window.delta();
        final long newTop = clampedTop + window.delta();
        final long newAddress = address + window.delta();
        final CheriConcentrate.BoundsEncoding encoding =
            CheriConcentrate.setBounds(metadata, newBase, newTop, false, new CheriConcentrate.BoundsEncoding());
        if (!encoding.exact()
            || !CheriConcentrate.decodesTo(encoding.metadata(), newAddress, newBase, newTop, false))
        {
            expectInvalidated(original, actual, where, "clamped bounds not exactly representable");
            return Outcome.INVALIDATED;
        }
        final String context = where + " original=" + describe(original) + " actual=" + describe(actual)
            + " expected address 0x" + Long.toHexString(newAddress) + " bounds [0x" + Long.toHexString(newBase)
            + ", 0x" + Long.toHexString(newTop) + ")";
        require(actual.tag(), "relocated capability lost its tag", context);
        require(actual.address() == newAddress, "address", context);
        final long actualBase = CheriConcentrate.decodeBase(actual.metadata(), actual.address());
        final long actualTop = CheriConcentrate.decodeTop(actual.metadata(), actual.address());
        require(actualBase == newBase, "base", context);
        require(actualTop == newTop, "top", context);
        require(!CheriConcentrate.decodeTopHigh(actual.metadata(), actual.address()), "top bit 64", context);
        require(CheriConcentrate.permissions(actual.metadata()) == CheriConcentrate.permissions(metadata),
            "permissions", context);
        require(CheriConcentrate.objectType(actual.metadata()) == CheriConcentrate.objectType(metadata),
            "object type", context);
        require(CheriConcentrate.flags(actual.metadata()) == CheriConcentrate.flags(metadata), "flags", context);
        require(CheriConcentrate.reserved(actual.metadata()) == CheriConcentrate.reserved(metadata), "reserved",
            context);
        // The child's capability must not reach outside the child's area.
        require(actualBase >= window.toBase() && actualTop <= window.toTop(), "bounds inside the child's area",
            context);
        return clampedBase == base && clampedTop == top && !topHigh ? Outcome.MOVED : Outcome.CLAMPED;
    }

    /**
     * @param g      a granule.
     * @param window a window.
     * @return whether relocation through {@code window} must move it: tagged, and its address or its bounds in the
     *         parent's area.
     */
    static boolean moves(final Granule g, final RelocationWindow window)
    {
        return g.tag() && (window.inSource(g.address())
            || window.boundsInSource(CheriConcentrate.decodeBase(g.metadata(), g.address()),
                CheriConcentrate.decodeTop(g.metadata(), g.address()),
                CheriConcentrate.decodeTopHigh(g.metadata(), g.address())));
    }

    /**
     * @param outcome a reference outcome.
     * @return 1 if the relocator must count the granule as relocated, else 0.
     */
    static int counted(final Outcome outcome)
    {
        return outcome == Outcome.MOVED || outcome == Outcome.CLAMPED ? 1 : 0;
    }

    private static void expectSame(final Granule original, final Granule actual, final String where,
        final String what)
    {
        if (!original.equals(actual))
        {
            throw new AssertionError(what + " changed: " + where + " original=" + describe(original) + " actual="
                + describe(actual));
        }
    }

    private static void expectInvalidated(final Granule original, final Granule actual, final String where,
        final String why)
    {
        // Fail safe: the tag is cleared and the bytes are left as they were.
        expectSame(new Granule(original.address(), original.metadata(), false), actual, where,
            "capability that must be invalidated (" + why + ")");
    }

    private static void require(final boolean condition, final String what, final String context)
    {
        if (!condition)
        {
            throw new AssertionError("wrong " + what + ": " + context);
        }
    }

    static String describe(final Granule g)
    {
        return "{" + (g.tag() ? "tagged" : "untagged") + " address=0x" + Long.toHexString(g.address())
            + " metadata=0x" + Long.toHexString(g.metadata()) + "}";
    }
}
