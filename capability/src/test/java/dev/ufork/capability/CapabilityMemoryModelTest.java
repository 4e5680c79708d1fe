package dev.ufork.capability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ufork.memory.AddressSpace;
import dev.ufork.memory.TaggedMemory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Long random sequences of checked accesses and capability derivations, each predicted by {@link ModelMemory}:
 * for every operation the model names either the exact {@link CapabilityFault} (cause, authority, address, size)
 * or the result, and after every operation the whole window of memory (bytes and tags) must equal the model's.
 * After a fault that means nothing changed.
 * <p>
 * Authorities are random derivations (withAddress, add, setBounds, setBoundsExact, andPermissions, seal, unseal,
 * sealEntry, withTagCleared) of a capability over the window, plus capabilities loaded back from memory and
 * untagged values with random bits. Offsets aim in bounds, one byte or a whole access outside, at a misaligned
 * granule, and at addresses that wrap below zero or past 2^63.
 * <p>
 * Default: 20,000 operations for each of four seeds over a 32 KiB window, and 20,000 copy-heavy operations for each
 * seed over an 8 KiB window. {@code -Dufork.seed=N} replays one seed.
 */
class CapabilityMemoryModelTest
{
    private static final long SPACE_SIZE = 16L << 20;
    private static final int OPS = 20_000;

    private static final int LOAD = 0;
    private static final int STORE = 1;
    private static final int LOAD_BYTES = 2;
    private static final int STORE_BYTES = 3;
    private static final int FILL = 4;
    private static final int STORE_CAP = 5;
    private static final int LOAD_CAP = 6;
    private static final int COPY = 7;
    private static final int DERIVE = 8;
    private static final int KINDS = 9;

    /** Weights per operation kind, in the order of the constants above. */
    private static final int[] MIXED = {14, 14, 6, 6, 5, 16, 14, 12, 13};
    private static final int[] COPY_HEAVY = {5, 5, 3, 3, 3, 25, 12, 34, 10};

    static LongStream seeds()
    {
        return ModelSeeds.seeds(0x5EED_0001L, 0x5EED_0002L, 0xC0FF_EE03L, 0x0BAD_F00DL);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shouldMatchReferenceModelWhenRunningRandomOperationSequences(final long seed)
    {
        try (Run run = new Run(seed, 1L << 20, 32 << 10, MIXED))
        {
            run.run(OPS);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shouldMatchReferenceModelWhenCopiesAndCapabilityStoresDominate(final long seed)
    {
        try (Run run = new Run(seed, 3L << 20, 8 << 10, COPY_HEAVY))
        {
            run.run(OPS);
        }
    }

    /** One random run: a fresh space, a model of one window, and a pool of authorities over that window. */
    private static final class Run implements AutoCloseable
    {
        private static final int POOL_SIZE = 64;
        private static final String[] LOAD_NAMES = {"loadByte", "loadShort", "loadChar", "loadInt", "loadFloat",
            "loadLong", "loadDouble"};
        private static final String[] STORE_NAMES = {"storeByte", "storeShort", "storeChar", "storeInt",
            "storeFloat", "storeLong", "storeDouble"};
        private static final int[] SIZES = {1, 2, 2, 4, 4, 8, 8};
        private static final int MEMORY_PERMISSIONS = Permission.LOAD.mask() | Permission.STORE.mask()
            | Permission.LOAD_CAP.mask() | Permission.STORE_CAP.mask() | Permission.STORE_LOCAL_CAP.mask()
            | Permission.GLOBAL.mask() | Permission.EXECUTE.mask();

        private final long seed;
        private final SplittableRandom rnd;
        private final AddressSpace space;
        private final CapabilityMemory mem;
        private final TaggedMemory raw;
        private final ModelMemory model;
        private final long windowBase;
        private final long windowEnd;
        private final int[] weights;
        private final Capability root;
        private final Capability window;
        private final List<Capability> pool = new ArrayList<>();
        private final int pinned;
        private final List<Capability> sealers = new ArrayList<>();
        private final List<Capability> foreign = new ArrayList<>();
        private final ArrayDeque<String> recent = new ArrayDeque<>();
        private final Map<FaultCause, Integer> faults = new EnumMap<>(FaultCause.class);

        private int op;
        private String current = "setup";
        private int successes;
        private int taggedLoads;
        private int strippedLoads;
        private int travelledTags;
        private int localStores;
        private final long[] hot = new long[32];
        private int hotCount;

        Run(final long seed, final long windowBase, final int windowSize, final int[] weights)
        {
            this.seed = seed;
            this.rnd = new SplittableRandom(seed);
            this.space = AddressSpace.reserve(SPACE_SIZE);
            this.mem = new CapabilityMemory(space);
            this.raw = space.memory();
            this.model = new ModelMemory(windowBase, windowSize);
            this.windowBase = windowBase;
            this.windowEnd = windowBase + windowSize;
            this.weights = weights.clone();
            this.root = CapabilityRoots.memoryRoot(space);
            this.window = root.withAddress(windowBase).setBoundsExact(windowSize);
            check(window.isTagged() && window.base() == windowBase && window.top() == windowEnd,
                "window capability not exact: " + window);

            final Capability sealing = CapabilityRoots.sealingRoot();
            sealers.add(sealing.withAddress(5));
            sealers.add(sealing.withAddress(77));
            sealers.add(sealing.withAddress(5).andPermissions(~Permission.SEAL.mask()));
            sealers.add(sealing.withAddress(ObjectType.MAX_USER + 1));
            sealers.add(sealing.withAddress(77).withTagCleared());

            for (int i = 0; i < 8; i++)
            {
                final Capability f = root.withAddress(0x40_0000L + 4096L * i).setBounds(64L << i);
                foreign.add(i % 2 == 0 ? f : f.andPermissions(~Permission.GLOBAL.mask()));
            }

            // Pinned authorities: every single missing permission, some sub-windows, sealed, sentry, untagged.
            pool.add(window);
            for (final Permission p : List.of(Permission.LOAD, Permission.STORE, Permission.LOAD_CAP,
                Permission.STORE_CAP, Permission.STORE_LOCAL_CAP, Permission.GLOBAL))
            {
                pool.add(window.andPermissions(~p.mask()));
            }
            pool.add(window.andPermissions(MEMORY_PERMISSIONS & ~Permission.GLOBAL.mask()));
            pool.add(window.withAddress(windowBase + windowSize / 4).setBounds(windowSize / 2));
            pool.add(window.withAddress(windowBase + 48).setBoundsExact(200).add(100));
            pool.add(window.seal(sealers.get(0)));
            pool.add(window.sealEntry());
            pool.add(window.withTagCleared());
            pool.add(Capability.NULL);
            pinned = pool.size();
        }

        void run(final int ops)
        {
            for (op = 0; op < ops; op++)
            {
                step();
                if (recent.size() == 8)
                {
                    recent.removeFirst();
                }
                recent.addLast("#" + op + " " + current);
            }
            op = ops;
            current = "end of run";
            compareWindow();
            check(raw.tags().countTags(0, windowBase) == 0
                && raw.tags().countTags(windowEnd, SPACE_SIZE - windowEnd) == 0, "a tag appeared outside the window");
            System.out.println(ModelSeeds.replay(seed) + ": " + ops + " ops, " + successes + " succeeded, faults "
                + faults + ", tagged loads " + taggedLoads + ", stripped loads " + strippedLoads
                + ", tags moved by copy " + travelledTags + ", local stores " + localStores);
            // The generator must have reached every corner, or the run proves little. ISOLATION comes only from a
            // kernel's access barrier, which this model has none of (the kernel's tests cover it).
            for (final FaultCause cause : FaultCause.values())
            {
                if (cause == FaultCause.ISOLATION)
                {
                    continue;
                }
                check(faults.getOrDefault(cause, 0) > 0, "no " + cause + " fault was generated; faults " + faults);
            }
            check(successes > ops / 4, "too few successful operations: " + successes);
            check(taggedLoads > 0, "no tagged capability load");
            check(strippedLoads > 0, "no load stripped a tag for want of LOAD_CAP");
            check(travelledTags > 0, "no copy moved a tag");
            check(localStores > 0, "no local capability was stored");
        }

        private void step()
        {
            int pick = rnd.nextInt(Arrays.stream(weights).sum());
            int kind = 0;
            while (pick >= weights[kind])
            {
                pick -= weights[kind];
                kind++;
            }
            switch (kind)
            {
                case LOAD -> dataLoad();
                case STORE -> dataStore();
                case LOAD_BYTES -> loadBytes();
                case STORE_BYTES -> storeBytes();
                case FILL -> fill();
                case STORE_CAP -> storeCapability();
                case LOAD_CAP -> loadCapability();
                case COPY -> copy();
                case DERIVE -> derive();
                default -> throw new AssertionError(kind + " of " + KINDS);
            }
        }

        // ------------------------------------------------------------------------------------------------------
        // Operations.

        private void dataLoad()
        {
            final Capability c = authority();
            final int type = rnd.nextInt(SIZES.length);
            final int size = SIZES[type];
            final long offset = offset(c, size, false);
            final long address = c.address() + offset;
            current = LOAD_NAMES[type] + "(+" + offset + ") through " + c;
            final ModelMemory.Fault expected = ModelMemory.loadFault(c, offset, size);
            final long actual;
            try
            {
                actual = switch (type)
                {
                    case 0 -> mem.loadByte(c, offset) & 0xFFL;
                    case 1 -> mem.loadShort(c, offset) & 0xFFFFL;
                    case 2 -> mem.loadChar(c, offset);
                    case 3 -> mem.loadInt(c, offset) & 0xFFFF_FFFFL;
                    case 4 -> floatBits(mem.loadFloat(c, offset));
                    case 5 -> mem.loadLong(c, offset);
                    default -> doubleBits(mem.loadDouble(c, offset));
                };
            }
            catch (final CapabilityFault f)
            {
                faulted(expected, f);
                return;
            }
            succeeded(expected);
            long want = model.readUnsigned(address, size);
            if (type == 4 && Float.isNaN(Float.intBitsToFloat((int)want)))
            {
                want = floatBits(Float.NaN);
            }
            else if (type == 6 && Double.isNaN(Double.longBitsToDouble(want)))
            {
                want = doubleBits(Double.NaN);
            }
            check(actual == want, "loaded 0x" + Long.toHexString(actual) + ", model says 0x" + Long.toHexString(want));
        }

        private static long floatBits(final float f)
        {
            return Float.floatToIntBits(f) & 0xFFFF_FFFFL;
        }

        private static long doubleBits(final double d)
        {
            return Double.doubleToLongBits(d);
        }

        private void dataStore()
        {
            final Capability c = authority();
            final int type = rnd.nextInt(SIZES.length);
            final int size = SIZES[type];
            final long offset = offset(c, size, false);
            final long address = c.address() + offset;
            long value = rnd.nextLong();
            if (type == 4 && Float.isNaN(Float.intBitsToFloat((int)value)))
            {
                value = Float.floatToRawIntBits(Float.NaN);
            }
            if (type == 6 && Double.isNaN(Double.longBitsToDouble(value)))
            {
                value = Double.doubleToRawLongBits(Double.NaN);
            }
            current = STORE_NAMES[type] + "(+" + offset + ", 0x" + Long.toHexString(value) + ") through " + c;
            final ModelMemory.Fault expected = ModelMemory.storeFault(c, offset, size);
            try
            {
                switch (type)
                {
                    case 0 -> mem.storeByte(c, offset, (byte)value);
                    case 1 -> mem.storeShort(c, offset, (short)value);
                    case 2 -> mem.storeChar(c, offset, (char)value);
                    case 3 -> mem.storeInt(c, offset, (int)value);
                    case 4 -> mem.storeFloat(c, offset, Float.intBitsToFloat((int)value));
                    case 5 -> mem.storeLong(c, offset, value);
                    default -> mem.storeDouble(c, offset, Double.longBitsToDouble(value));
                }
            }
            catch (final CapabilityFault f)
            {
                faulted(expected, f);
                return;
            }
            succeeded(expected);
            final byte[] le = new byte[size];
            for (int i = 0; i < size; i++)
            {
                le[i] = (byte)(value >>> (8 * i));
            }
            model.store(address, le);
            compareWindow();
        }

        private void loadBytes()
        {
            final Capability c = authority();
            if (rnd.nextInt(100) == 0)
            {
                negativeLength(c);
                return;
            }
            final int length = length();
            final long offset = offset(c, length, false);
            final long address = c.address() + offset;
            final int pad = rnd.nextInt(4);
            final byte[] dst = new byte[length + 2 * pad];
            rnd.nextBytes(dst);
            final byte[] before = dst.clone();
            final boolean segment = rnd.nextBoolean();
            current = "loadBytes(+" + offset + ", " + length + (segment ? ", segment" : ", array") + ") through " + c;
            final ModelMemory.Fault expected = ModelMemory.loadFault(c, offset, length);
            try
            {
                if (segment)
                {
                    mem.loadBytes(c, offset, MemorySegment.ofArray(dst), pad, length);
                }
                else
                {
                    mem.loadBytes(c, offset, dst, pad, length);
                }
            }
            catch (final CapabilityFault f)
            {
                faulted(expected, f);
                check(Arrays.equals(before, dst), "a refused loadBytes wrote into the destination");
                return;
            }
            succeeded(expected);
            final byte[] want = before.clone();
            System.arraycopy(model.read(address, length), 0, want, pad, length);
            check(Arrays.equals(want, dst), "loadBytes returned other bytes than the model; first difference at "
                + Arrays.mismatch(want, dst));
        }

        private void storeBytes()
        {
            final Capability c = authority();
            if (rnd.nextInt(100) == 0)
            {
                negativeLength(c);
                return;
            }
            final int length = length();
            final long offset = offset(c, length, false);
            final long address = c.address() + offset;
            final int pad = rnd.nextInt(4);
            final byte[] src = new byte[length + 2 * pad];
            rnd.nextBytes(src);
            final boolean segment = rnd.nextBoolean();
            current = "storeBytes(+" + offset + ", " + length + (segment ? ", segment" : ", array") + ") through " + c;
            final ModelMemory.Fault expected = ModelMemory.storeFault(c, offset, length);
            try
            {
                if (segment)
                {
                    mem.storeBytes(c, offset, MemorySegment.ofArray(src), pad, length);
                }
                else
                {
                    mem.storeBytes(c, offset, src, pad, length);
                }
            }
            catch (final CapabilityFault f)
            {
                faulted(expected, f);
                return;
            }
            succeeded(expected);
            model.store(address, Arrays.copyOfRange(src, pad, pad + length));
            compareWindow();
        }

        private void fill()
        {
            final Capability c = authority();
            if (rnd.nextInt(100) == 0)
            {
                negativeLength(c);
                return;
            }
            final int length = length();
            final long offset = offset(c, length, false);
            final long address = c.address() + offset;
            final byte value = (byte)rnd.nextInt();
            current = "fill(+" + offset + ", " + length + ", " + value + ") through " + c;
            final ModelMemory.Fault expected = ModelMemory.storeFault(c, offset, length);
            try
            {
                mem.fill(c, offset, length, value);
            }
            catch (final CapabilityFault f)
            {
                faulted(expected, f);
                return;
            }
            succeeded(expected);
            model.fill(address, length, value);
            compareWindow();
        }

        /** A negative length is a programming error, refused before any capability check, with no effect. */
        private void negativeLength(final Capability c)
        {
            final long length = -1 - rnd.nextInt(64);
            final long offset = offset(c, 1, false);
            final int which = rnd.nextInt(5);
            current = "negative length " + length + " (api " + which + ") through " + c;
            try
            {
                switch (which)
                {
                    case 0 -> mem.fill(c, offset, length, (byte)1);
                    case 1 -> mem.loadBytes(c, offset, MemorySegment.ofArray(new byte[8]), 0, length);
                    case 2 -> mem.storeBytes(c, offset, MemorySegment.ofArray(new byte[8]), 0, length);
                    case 3 -> mem.copy(c, offset, window, 0, length);
                    default -> mem.copy(window, 0, c, offset, length);
                }
            }
            catch (final IllegalArgumentException expected)
            {
                successes++;
                compareWindow();
                return;
            }
            catch (final RuntimeException e)
            {
                throw failure("expected IllegalArgumentException, got " + e, e);
            }
            throw failure("a negative length was accepted", null);
        }

        private void storeCapability()
        {
            final Capability c = authority();
            final Capability value = value();
            final long offset = offset(c, ModelMemory.GRANULE, true);
            final long address = c.address() + offset;
            current = "storeCapability(+" + offset + ", " + value + ") through " + c;
            final ModelMemory.Fault expected = ModelMemory.capabilityStoreFault(c, offset, value);
            try
            {
                mem.storeCapability(c, offset, value);
            }
            catch (final CapabilityFault f)
            {
                faulted(expected, f);
                return;
            }
            succeeded(expected);
            if (value.isTagged() && !ModelMemory.isGlobal(value))
            {
                localStores++;
            }
            model.storeCapability(address, value);
            if (value.isTagged())
            {
                hot[hotCount++ % hot.length] = address;
            }
            compareWindow();
        }

        private void loadCapability()
        {
            final Capability c = authority();
            final long offset = rnd.nextBoolean() ? hotOffset(c, ModelMemory.GRANULE, 0)
                : offset(c, ModelMemory.GRANULE, true);
            final long address = c.address() + offset;
            current = "loadCapability(+" + offset + ") through " + c;
            final ModelMemory.Fault expected = ModelMemory.capabilityLoadFault(c, offset);
            final Capability got;
            try
            {
                got = mem.loadCapability(c, offset);
            }
            catch (final CapabilityFault f)
            {
                faulted(expected, f);
                return;
            }
            succeeded(expected);
            final boolean inMemory = model.tag(address);
            final boolean wantTag = inMemory && ModelMemory.has(c, Permission.LOAD_CAP);
            final long wantAddress = model.readUnsigned(address, 8);
            final long wantMetadata = model.readUnsigned(address + 8, 8);
            check(got.isTagged() == wantTag && got.address() == wantAddress && got.metadataBits() == wantMetadata,
                "loaded " + got + " (tag " + got.isTagged() + ", words 0x" + Long.toHexString(got.address()) + " 0x"
                    + Long.toHexString(got.metadataBits()) + "), model says tag " + wantTag + ", words 0x"
                    + Long.toHexString(wantAddress) + " 0x" + Long.toHexString(wantMetadata));
            if (wantTag)
            {
                taggedLoads++;
                check(got.equals(model.capability(address)), "loaded " + got + " but stored "
                    + model.capability(address));
                addToPool(got);
            }
            else if (inMemory)
            {
                strippedLoads++;
            }
            // A load changes nothing, not even the tag it strips from its result.
            check(raw.isTagged(address) == inMemory, "a capability load changed the tag in memory");
        }

        private void copy()
        {
            final Capability src = authority();
            final Capability dst = rnd.nextInt(4) == 0 ? src : authority();
            if (rnd.nextInt(100) == 0)
            {
                negativeLength(rnd.nextBoolean() ? src : dst);
                return;
            }
            final int length = length();
            final long srcOffset = rnd.nextInt(3) == 0 ? hotOffset(src, length, rnd.nextInt(-48, 1))
                : offset(src, length, false);
            final long from = src.address() + srcOffset;
            final long dstOffset;
            switch (rnd.nextInt(4))
            {
                case 0 ->
                {
                    // Overlapping, by a granule multiple half of the time.
                    final long delta = rnd.nextBoolean() ? 16L * rnd.nextInt(-4, 5) : rnd.nextInt(-40, 41);
                    dstOffset = from + delta - dst.address();
                }
                case 1 ->
                {
                    // Same alignment mod 16 as the source.
                    final long to = dst.address() + offset(dst, length, false);
                    dstOffset = to + Math.floorMod(from - to, ModelMemory.GRANULE) - dst.address();
                }
                default -> dstOffset = offset(dst, length, false);
            }
            final long to = dst.address() + dstOffset;
            current = "copy(dst +" + dstOffset + " = 0x" + Long.toHexString(to) + ", src +" + srcOffset + " = 0x"
                + Long.toHexString(from) + ", " + length + ") dst " + dst + ", src " + src;
            final ModelMemory.Fault expected = model.copyFault(dst, dstOffset, src, srcOffset, length);
            try
            {
                mem.copy(dst, dstOffset, src, srcOffset, length);
            }
            catch (final CapabilityFault f)
            {
                faulted(expected, f);
                return;
            }
            succeeded(expected);
            final boolean travel = ModelMemory.tagsTravel(src, from, to);
            if (travel)
            {
                for (long g = ModelMemory.alignUp(from); g + ModelMemory.GRANULE <= from + length; g += 16)
                {
                    travelledTags += model.tag(g) ? 1 : 0;
                }
            }
            model.copy(from, to, length, travel);
            compareWindow();
        }

        private void derive()
        {
            final Capability p = authority();
            final int kind = rnd.nextInt(10);
            final Capability r;
            switch (kind)
            {
                case 0 ->
                {
                    final long a = near(p);
                    current = "withAddress(0x" + Long.toHexString(a) + ") of " + p;
                    r = p.withAddress(a);
                }
                case 1 ->
                {
                    final long delta = rnd.nextInt(8) == 0 ? rnd.nextLong() : rnd.nextLong(-300, 301);
                    current = "add(" + delta + ") of " + p;
                    r = p.add(delta);
                }
                case 2, 3 ->
                {
                    final long a = inside(p);
                    final long room = p.isTagged() && inWindow(p) ? Math.max(0, p.top() - a) : 256;
                    final long length = switch (rnd.nextInt(5))
                    {
                        case 0 -> room + rnd.nextInt(1, 64);
                        case 1 -> 16L * rnd.nextLong(Math.max(1, room / 16 + 1));
                        default -> rnd.nextLong(Math.min(room, 1024) + 1);
                    };
                    final boolean exact = kind == 3;
                    current = (exact ? "setBoundsExact(" : "setBounds(") + length + ") at 0x" + Long.toHexString(a)
                        + " of " + p;
                    final Capability moved = p.withAddress(a);
                    r = exact ? moved.setBoundsExact(length) : moved.setBounds(length);
                }
                case 4 ->
                {
                    int mask = ~0;
                    for (final Permission perm : List.of(Permission.LOAD, Permission.STORE, Permission.LOAD_CAP,
                        Permission.STORE_CAP, Permission.STORE_LOCAL_CAP, Permission.GLOBAL, Permission.EXECUTE))
                    {
                        if (rnd.nextInt(5) == 0)
                        {
                            mask &= ~perm.mask();
                        }
                    }
                    current = "andPermissions(" + Permissions.toString(mask & Permissions.ALL) + ") of " + p;
                    r = p.andPermissions(mask);
                }
                case 5 ->
                {
                    final Capability s = sealers.get(rnd.nextInt(sealers.size()));
                    current = "seal(" + s + ") of " + p;
                    r = p.seal(s);
                }
                case 6 ->
                {
                    final Capability s = sealers.get(rnd.nextInt(sealers.size()));
                    current = "unseal(" + s + ") of " + p;
                    r = p.unseal(s);
                }
                case 7 ->
                {
                    current = "sealEntry() of " + p;
                    r = p.sealEntry();
                }
                case 8 ->
                {
                    current = "withTagCleared() of " + p;
                    r = p.withTagCleared();
                }
                default ->
                {
                    // Wander about inside the window: keeps the pool full of useful authorities.
                    final Capability w = pool.get(rnd.nextInt(pinned));
                    final long a = inside(w);
                    current = "withAddress(0x" + Long.toHexString(a) + ") of " + w;
                    r = w.withAddress(a);
                    checkMonotone(w, r, false);
                    addToPool(r);
                    successes++;
                    return;
                }
            }
            checkMonotone(p, r, kind == 6);
            addToPool(r);
            successes++;
        }

        /** Guarded manipulation (§2.2): a tagged result comes from a tagged parent and never grows. */
        private void checkMonotone(final Capability parent, final Capability result, final boolean unsealing)
        {
            if (!result.isTagged())
            {
                return;
            }
            check(parent.isTagged(), "tagged " + result + " derived from untagged " + parent);
            check(unsealing || !parent.isSealed(), "tagged " + result + " derived from sealed " + parent);
            check(Long.compareUnsigned(result.base(), parent.base()) >= 0
                    && ModelMemory.top(result).compareTo(ModelMemory.top(parent)) <= 0,
                "bounds grew: " + result + " from " + parent);
            check((result.permissions() & ~parent.permissions()) == 0, "permissions grew: " + result + " from "
                + parent);
        }

        // ------------------------------------------------------------------------------------------------------
        // Random choices.

        private Capability authority()
        {
            final int r = rnd.nextInt(100);
            if (r < 4)
            {
                return Capability.fromMemory(rnd.nextLong(), rnd.nextLong(), false);
            }
            if (r < 30)
            {
                return pool.get(rnd.nextInt(pinned));
            }
            return pool.get(rnd.nextInt(pool.size()));
        }

        private Capability value()
        {
            final int r = rnd.nextInt(100);
            if (r < 50)
            {
                return pool.get(rnd.nextInt(pool.size()));
            }
            if (r < 65)
            {
                return pool.get(rnd.nextInt(pool.size())).andPermissions(~Permission.GLOBAL.mask());
            }
            if (r < 80)
            {
                return foreign.get(rnd.nextInt(foreign.size()));
            }
            if (r < 90)
            {
                return foreign.get(rnd.nextInt(foreign.size())).seal(sealers.get(1));
            }
            return Capability.fromMemory(rnd.nextLong(), rnd.nextLong(), false);
        }

        private void addToPool(final Capability c)
        {
            // Untagged authorities only ever take TAG faults: keep some, not most.
            if (c.isTagged() ? !inWindow(c) : rnd.nextInt(4) != 0)
            {
                return;
            }
            if (pool.size() < POOL_SIZE)
            {
                pool.add(c);
            }
            else
            {
                pool.set(pinned + rnd.nextInt(POOL_SIZE - pinned), c);
            }
        }

        /** @return whether {@code c}'s decoded bounds lie in the window (tagged authorities always do). */
        private boolean inWindow(final Capability c)
        {
            return !c.isTopMax() && c.base() >= windowBase && c.top() <= windowEnd && c.base() <= c.top();
        }

        private int length()
        {
            final int r = rnd.nextInt(100);
            if (r < 8)
            {
                return rnd.nextInt(2);
            }
            if (r < 55)
            {
                return rnd.nextInt(1, 33);
            }
            if (r < 90)
            {
                return rnd.nextInt(1, 513);
            }
            return rnd.nextInt(513, 5000);
        }

        /**
         * An offset that makes an access of {@code size} bytes start {@code shift} bytes from a granule a tagged
         * capability was recently stored to, when that is in {@code c}'s bounds; else an ordinary random offset.
         */
        private long hotOffset(final Capability c, final long size, final long shift)
        {
            if (hotCount > 0 && inWindow(c))
            {
                final long a = hot[rnd.nextInt(Math.min(hotCount, hot.length))] + shift;
                if (a >= c.base() && a + size <= c.top())
                {
                    return a - c.address();
                }
            }
            return offset(c, size, size == ModelMemory.GRANULE);
        }

        /** An address somewhere in {@code c}'s bounds, or near its address when those are not sensible. */
        private long inside(final Capability c)
        {
            if (!inWindow(c) || c.top() == c.base())
            {
                return windowBase + rnd.nextLong(windowEnd - windowBase);
            }
            return c.base() + rnd.nextLong(c.top() - c.base());
        }

        /** An address in or near {@code c}'s bounds. */
        private long near(final Capability c)
        {
            if (!inWindow(c))
            {
                return windowBase + rnd.nextLong(-256, windowEnd - windowBase + 256);
            }
            final long length = c.top() - c.base();
            return c.base() + rnd.nextLong(-length / 2 - 32, length + length / 2 + 33);
        }

        /**
         * An offset from {@code c}'s address for an access of {@code size} bytes: mostly in bounds (granule-aligned
         * for capability accesses, mostly), else just below the base, one byte or a whole access past the top,
         * misaligned, wrapping below address 0 or past 2^63, or anywhere in the window.
         */
        private long offset(final Capability c, final long size, final boolean capability)
        {
            if (!inWindow(c))
            {
                return rnd.nextLong(-64, 65);
            }
            final long base = c.base();
            final long top = c.top();
            final int mode = rnd.nextInt(100);
            final long a;
            if (mode < 70)
            {
                if (top - base < size)
                {
                    a = base;
                }
                else if (capability && rnd.nextInt(10) != 0)
                {
                    final long first = ModelMemory.alignUp(base);
                    a = first + size <= top ? first + 16 * rnd.nextLong((top - size - first) / 16 + 1) : base;
                }
                else
                {
                    a = base + rnd.nextLong(top - base - size + 1);
                }
            }
            else if (mode < 76)
            {
                a = base - (capability && rnd.nextBoolean() ? 16 : 1);
            }
            else if (mode < 82)
            {
                a = top - size + 1;
            }
            else if (mode < 86)
            {
                a = top;
            }
            else if (mode < 89)
            {
                a = top - 1;
            }
            else if (mode < 92)
            {
                return -c.address() - rnd.nextLong(1, 64);
            }
            else if (mode < 94)
            {
                return Long.MAX_VALUE - rnd.nextLong(64);
            }
            else
            {
                a = windowBase + rnd.nextLong(windowEnd - windowBase);
            }
            return a - c.address();
        }

        // ------------------------------------------------------------------------------------------------------
        // Checking.

        private static boolean matches(final ModelMemory.Fault expected, final CapabilityFault f)
        {
            return f.faultCause() == expected.cause() && f.authority().equals(expected.authority())
                && f.address() == expected.address() && f.size() == expected.size();
        }

        private void faulted(final ModelMemory.Fault expected, final CapabilityFault f)
        {
            if (expected == null)
            {
                throw failure("unexpected " + f.getMessage(), f);
            }
            check(matches(expected, f),
                "got " + f.faultCause() + " fault, " + f.size() + " bytes at 0x" + Long.toHexString(f.address())
                    + " through " + f.authority() + "; model says " + expected);
            faults.merge(f.faultCause(), 1, Integer::sum);
            compareWindow();
        }

        private void succeeded(final ModelMemory.Fault expected)
        {
            if (expected != null)
            {
                throw failure("succeeded, but the model says " + expected, null);
            }
            successes++;
        }

        private void compareWindow()
        {
            final String difference = model.firstDifference(raw);
            check(difference == null, "memory differs from the model: " + difference);
        }

        private void check(final boolean ok, final String what)
        {
            if (!ok)
            {
                throw failure(what, null);
            }
        }

        private AssertionError failure(final String what, final Throwable cause)
        {
            return new AssertionError(ModelSeeds.replay(seed) + ", op #" + op + " " + current + ": " + what
                + "\n  recent ops:\n    " + String.join("\n    ", recent), cause);
        }

        @Override
        public void close()
        {
            space.close();
        }
    }

    /**
     * memmove with dst = src + 16, not granule-aligned, same alignment mod 16: the first destination granule is only
     * partly covered, and it is the source of the next, fully covered destination granule, whose tag must travel.
     * Regression test (backward direction) for a bug found by the random runs and fixed in
     * {@code TaggedMemory.copyChunk}: the partly covered destination granules' tags were cleared before the fully
     * covered ones were copied.
     */
    @Test
    void shouldMoveTagWhenOverlappingBackwardCopyStartsInsideSourceGranule()
    {
        overlappingCopyKeepsTag(0x70, 0x6f, 0x7f, 28, 0x80);
    }

    /**
     * memmove with dst = src - 16, not granule-aligned at the end: the last destination granule is only partly
     * covered, and it is the source of the previous, fully covered destination granule, whose tag must travel.
     * Regression test (forward direction) for the same {@code TaggedMemory.copyChunk} bug.
     */
    @Test
    void shouldMoveTagWhenOverlappingForwardCopyEndsInsideSourceGranule()
    {
        overlappingCopyKeepsTag(0x60, 0x5b, 0x4b, 32, 0x50);
    }

    private static void overlappingCopyKeepsTag(final long tagged, final long from, final long to, final long length,
        final long landing)
    {
        try (AddressSpace space = AddressSpace.reserve(SPACE_SIZE))
        {
            final CapabilityMemory mem = new CapabilityMemory(space);
            final Capability root = CapabilityRoots.memoryRoot(space);
            final long region = 0x2_0000;
            final Capability authority = root.withAddress(region).setBoundsExact(256);
            final Capability value = root.withAddress(0x9_0000).setBoundsExact(64);
            mem.storeCapability(authority, tagged, value);

            mem.copy(authority, to, authority, from, length);

            final TaggedMemory raw = space.memory();
            final String what = "copy(dst +0x" + Long.toHexString(to) + ", src +0x" + Long.toHexString(from) + ", "
                + length + ") with a tagged capability at +0x" + Long.toHexString(tagged);
            assertTrue(raw.isTagged(region + landing), what + ": the tag of the fully covered destination granule +0x"
                + Long.toHexString(landing) + " was lost (was the partly covered destination granule, which is this"
                + " granule's source, cleared before the tags were copied?)");
            assertEquals(value, mem.loadCapability(authority, landing), what);
            for (long g = (to & -16L); g < to + length; g += 16)
            {
                final boolean full = g >= to && g + 16 <= to + length;
                if (!full)
                {
                    assertFalse(raw.isTagged(region + g), what + ": partly covered granule +0x" + Long.toHexString(g)
                        + " kept a tag");
                }
            }
        }
    }

    /** Sanity check of the model itself, so that a broken model cannot make the random runs vacuous. */
    @Test
    void shouldPredictFaultsInPriorityOrderWhenModelIsAskedDirectly()
    {
        try (AddressSpace space = AddressSpace.reserve(SPACE_SIZE))
        {
            final Capability root = CapabilityRoots.memoryRoot(space);
            final Capability c = root.withAddress(0x1000).setBoundsExact(64);
            assertEquals(FaultCause.TAG, ModelMemory.loadFault(c.withTagCleared(), -1, 8).cause());
            assertEquals(FaultCause.SEAL, ModelMemory.loadFault(c.sealEntry(), -1, 8).cause());
            assertEquals(FaultCause.PERMIT_LOAD,
                ModelMemory.loadFault(c.andPermissions(~Permission.LOAD.mask()), -1, 8).cause());
            assertEquals(FaultCause.LENGTH, ModelMemory.loadFault(c, -1, 8).cause());
            assertEquals(FaultCause.LENGTH, ModelMemory.loadFault(c, 57, 8).cause());
            assertNull(ModelMemory.loadFault(c, 56, 8));
            assertEquals(FaultCause.ALIGNMENT, ModelMemory.capabilityLoadFault(c, 8).cause());
            final Capability local = c.andPermissions(~Permission.GLOBAL.mask());
            assertEquals(FaultCause.PERMIT_STORE_LOCAL_CAP, ModelMemory.capabilityStoreFault(
                c.andPermissions(~Permission.STORE_LOCAL_CAP.mask()), 8, local).cause());
            assertNull(ModelMemory.capabilityStoreFault(
                c.andPermissions(~Permission.STORE_CAP.mask()), 0, local.withTagCleared()));
            assertTrue(ModelMemory.inBounds(c, 0x1040, 0));
        }
    }
}
