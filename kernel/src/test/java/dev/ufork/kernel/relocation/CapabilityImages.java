package dev.ufork.kernel.relocation;

import dev.ufork.capability.CheriConcentrate;
import dev.ufork.capability.ObjectType;
import dev.ufork.capability.Permissions;
import dev.ufork.memory.TaggedMemory;

import java.util.SplittableRandom;

import static dev.ufork.memory.Geometry.GRANULES_PER_PAGE;
import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;

/**
 * Writes random pages of capabilities and data for the relocation tests, and snapshots them.
 * <p>
 * Every capability is made the way the architecture makes one: a root word narrowed by {@code setBounds} (so its
 * encoding is derivable), with random permissions, flag and object type (unsealed, sentry, user types, reserved) and
 * an address inside its bounds or, sometimes, outside them but representable.
 */
final class CapabilityImages
{
    /** Which capabilities a page may hold. */
    enum Mix
    {
        /** Everything, including capabilities that need clamping, are invalidated, or point into the child's area. */
        FULL,
        /**
         * Only what relocation moves without loss, so relocating by delta and back restores the page bit for bit:
         * in-area capabilities whose bounds lie inside the parent's area, and capabilities pointing outside both
         * areas.
         */
        LOSSLESS
    }

    /** One granule: its two words and its tag. */
    record Granule(long address, long metadata, boolean tag)
    {
    }

    private final RelocationWindow window;
    private final Mix mix;
    private final SplittableRandom random;
    private final CheriConcentrate.BoundsEncoding encoding = new CheriConcentrate.BoundsEncoding();

    CapabilityImages(final RelocationWindow window, final Mix mix, final SplittableRandom random)
    {
        this.window = window;
        this.mix = mix;
        this.random = random;
    }

    /**
     * Writes {@code pages} pages at {@code at}: each granule is a tagged capability with probability
     * {@code density}, else untagged data (zeros, random bytes, or the words of an in-area capability).
     */
    void write(final TaggedMemory memory, final long at, final int pages, final double density)
    {
        for (long g = 0; g < (long)pages * GRANULES_PER_PAGE; g++)
        {
            final long address = at + g * GRANULE_SIZE;
            final Granule granule = random.nextDouble() < density ? capability() : data();
            memory.storeCapability(address, granule.address(), granule.metadata(), granule.tag());
        }
    }

    /** @return a page snapshot: granule i of the range at index i. */
    static Granule[] snapshot(final TaggedMemory memory, final long at, final int pages)
    {
        final Granule[] out = new Granule[pages * GRANULES_PER_PAGE];
        for (int g = 0; g < out.length; g++)
        {
            final long address = at + (long)g * GRANULE_SIZE;
            out[g] = new Granule(memory.loadLong(address), memory.loadLong(address + Long.BYTES),
                memory.isTagged(address));
        }
        return out;
    }

    /** Untagged content. */
    Granule data()
    {
        final int kind = random.nextInt(10);
        if (kind < 4)
        {
            return new Granule(0, 0, false);
        }
        if (kind < 7)
        {
            return new Granule(random.nextLong(), random.nextLong(), false);
        }
        // Looks exactly like an in-area capability; without the tag it is data and must not move.
        final Granule lookalike = small();
        return new Granule(lookalike.address(), lookalike.metadata(), false);
    }

    /** A tagged capability of a random kind allowed by the mix. */
    Granule capability()
    {
        final int kind = random.nextInt(100);
        if (mix == Mix.LOSSLESS)
        {
            if (kind < 45)
            {
                return small();
            }
            if (kind < 65)
            {
                return insideOnly(this::medium);
            }
            if (kind < 80)
            {
                return insideOnly(this::edge);
            }
            return outside(false);
        }
        if (kind < 35)
        {
            return small();
        }
        if (kind < 50)
        {
            return medium();
        }
        if (kind < 60)
        {
            return edge();
        }
        if (kind < 68)
        {
            return straddling();
        }
        if (kind < 72)
        {
            return huge();
        }
        if (kind < 76)
        {
            return outOfOwnBounds();
        }
        if (kind < 78)
        {
            return disjoint();
        }
        return outside(true);
    }

    /** Bounds of at most 4 KiB (IE = 0, exponent 0) inside the area. */
    Granule small()
    {
        final long length = random.nextLong(PAGE_SIZE);
        final long base = window.fromBase() + random.nextLong(window.size() - length);
        return make(base, base + length, base + random.nextLong(length + 1));
    }

    /** 4 KiB to a quarter of the area: IE set, exponents 1 and up; rounding may reach past the area. */
    Granule medium()
    {
        final int maxLog = 63 - Long.numberOfLeadingZeros(window.size()) - 2;
        final long length = (1L << random.nextInt(12, maxLog + 1)) + random.nextLong(PAGE_SIZE);
        final long base = window.fromBase() + random.nextLong(window.size() - length);
        return make(base, base + length, base + random.nextLong(length + 1));
    }

    /** Small bounds within 64 KiB of either end of the area: fails the fast test's margin. */
    Granule edge()
    {
        final long length = random.nextLong(1024);
        final long near = random.nextLong(64 << 10);
        final long base = random.nextBoolean() ? window.fromBase() + near : window.fromTop() - near - length;
        return make(base, base + length, base + random.nextLong(length + 1));
    }

    /** Address in the area, bounds reaching out of it below or above: relocation clamps them. */
    Granule straddling()
    {
        final long reach = 1 + random.nextLong(256 << 10);
        final long inside = 1 + random.nextLong(Math.min(256 << 10, window.size()));
        if (random.nextBoolean())
        {
            final long base = Math.max(0, window.fromBase() - reach);
            final long top = window.fromBase() + inside;
            return make(base, top, window.fromBase() + random.nextLong(inside));
        }
        final long base = window.fromTop() - inside;
        return make(base, window.fromTop() + reach, base + random.nextLong(inside));
    }

    /** Address in the area, bounds the whole address space (or 2^46 of it): clamped to the area. */
    Granule huge()
    {
        final long address = window.fromBase() + random.nextLong(window.size());
        if (random.nextBoolean())
        {
            return makeRoot(address);
        }
        return make(0, 1L << 46, address);
    }

    /** Small bounds in the area with the address just past them (still representable). */
    Granule outOfOwnBounds()
    {
        final long length = random.nextLong(1024);
        final long base = window.fromBase() + (64 << 10) + random.nextLong(window.size() - (128 << 10));
        return make(base, base + length, base + length + random.nextLong(1, 512));
    }

    /** Address just inside the area, bounds just outside it: nothing is left after clamping, so it is invalidated. */
    Granule disjoint()
    {
        final long length = 1 + random.nextLong(1024);
        if (random.nextBoolean())
        {
            final long top = window.fromBase() - 1 - random.nextLong(1024);
            return make(top - length, top, window.fromBase() + random.nextLong(1024));
        }
        final long base = window.fromTop() + 1 + random.nextLong(1024);
        return make(base, base + length, window.fromTop() - 1 - random.nextLong(1024));
    }

    /** Address outside the parent's area (and, unless allowed, outside the child's): never relocated. */
    Granule outside(final boolean mayPointIntoChild)
    {
        while (true)
        {
            final long address;
            final int where = random.nextInt(mayPointIntoChild ? 3 : 2);
            if (where == 0)
            {
                address = (64 << 10) + random.nextLong(Math.max(1, Math.min(window.fromBase(), window.toBase())
                    - (64 << 10)));
            }
            else if (where == 1)
            {
                address = Math.max(window.fromTop(), window.toTop()) + random.nextLong(4L << 20);
            }
            else
            {
                address = window.toBase() + random.nextLong(window.size());
            }
            if (window.inSource(address) || (!mayPointIntoChild && window.inTarget(address)))
            {
                continue;
            }
            final long length = random.nextLong(2048);
            final long base = Math.max(0, address - random.nextLong(length + 1));
            return make(base, base + length, address);
        }
    }

    /** Retries a generator until its rounded bounds lie inside the parent's area. */
    private Granule insideOnly(final java.util.function.Supplier<Granule> generator)
    {
        while (true)
        {
            final Granule g = generator.get();
            final long base = CheriConcentrate.decodeBase(g.metadata(), g.address());
            final long top = CheriConcentrate.decodeTop(g.metadata(), g.address());
            final boolean topHigh = CheriConcentrate.decodeTopHigh(g.metadata(), g.address());
            if (!topHigh && base >= window.fromBase() && top <= window.fromTop() && window.inSource(g.address()))
            {
                return g;
            }
        }
    }

    private Granule make(final long base, final long top, final long address)
    {
        final long root = rootMetadata();
        final CheriConcentrate.BoundsEncoding e = CheriConcentrate.setBounds(root, base, top, false, encoding);
        final long metadata = e.metadata();
        // setBounds may round the bounds outward; an address the rounded bounds cannot represent falls back to base.
        final long at = CheriConcentrate.decodesTo(metadata, address, e.base(), e.top(), e.topHigh()) ? address
            : e.base();
        if (!CheriConcentrate.isDerivableEncoding(metadata, at))
        {
            throw new AssertionError("setBounds produced a non-derivable encoding for [0x" + Long.toHexString(base)
                + ", 0x" + Long.toHexString(top) + ")");
        }
        return new Granule(at, metadata, true);
    }

    private Granule makeRoot(final long address)
    {
        return new Granule(address, rootMetadata(), true);
    }

    /** Bounds [0, 2^64) with random permissions, flag and object type. */
    private long rootMetadata()
    {
        final int permissions = random.nextInt() & Permissions.ALL;
        return CheriConcentrate.encode(0, 0, true, permissions, objectType(), random.nextInt(2));
    }

    private int objectType()
    {
        final int kind = random.nextInt(20);
        if (kind < 14)
        {
            return ObjectType.UNSEALED;
        }
        if (kind < 16)
        {
            return ObjectType.SENTRY;
        }
        if (kind < 19)
        {
            return random.nextInt(ObjectType.MAX_USER + 1);
        }
        return random.nextBoolean() ? ObjectType.RESERVED_3 : ObjectType.RESERVED_4;
    }
}
