package dev.ufork.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.NavigableSet;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.LongStream;

import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Model-based test of {@link TaggedMemory} and {@link TagBitmap}: long random sequences of data stores, capability
 * stores, copies and loads run side by side against a plain reference model (a byte array and a tag array for a
 * three-page window of the space) that implements the CHERI tag rules of docs/cheri.md §2.1 and §3.1:
 * <ul>
 *   <li>a data store clears the tag of every granule it overlaps;</li>
 *   <li>a capability store writes 16 bytes and sets the tag to the given value;</li>
 *   <li>a copy is a memmove; with tag preservation and src ≡ dst (mod 16), each fully covered destination granule
 *   takes its source granule's tag as it was before the copy; every other overlapped destination granule is
 *   cleared.</li>
 * </ul>
 * {@code -Dufork.seed=N} replays one seed; {@code -Dufork.modelOps=N} changes the number of operations per seed.
 */
class TaggedMemoryModelTest
{
    private static final long SPACE_SIZE = 16L << 20;
    private static final int WINDOW_PAGES = 3;
    private static final int WINDOW = WINDOW_PAGES * (int)PAGE_SIZE;
    /** Page-aligned, so offsets in the window have the same residues mod 16 and mod 4096 as addresses. */
    private static final long WINDOW_BASE = 37 * PAGE_SIZE;
    private static final int OPS = Integer.getInteger("ufork.modelOps", 20_000);
    private static final int FULL_CHECK_EVERY = 64;

    private static final VarHandle LE_SHORT = MethodHandles.byteArrayViewVarHandle(short[].class,
        ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE_CHAR = MethodHandles.byteArrayViewVarHandle(char[].class,
        ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE_INT = MethodHandles.byteArrayViewVarHandle(int[].class,
        ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE_LONG = MethodHandles.byteArrayViewVarHandle(long[].class,
        ByteOrder.LITTLE_ENDIAN);

    private AddressSpace space;
    private TaggedMemory memory;

    static LongStream seeds()
    {
        return Seeds.seeds(1L, 0x5eed_cafeL, 20_240_601L, -7L);
    }

    @BeforeEach
    void reserve()
    {
        space = AddressSpace.reserve(SPACE_SIZE);
        memory = space.memory();
    }

    @AfterEach
    void close()
    {
        space.close();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shouldMatchReferenceModelWhenRunningRandomOperations(final long seed)
    {
        new Run(seed).run(OPS);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shouldFindTagsLikeModelWhenTagsAreSparseAcrossManySummaryWords(final long seed)
    {
        final SplittableRandom rnd = Seeds.random(seed);
        // 300 pages starting mid summary word: crosses several summary words (64 pages each).
        final long base = 60 * PAGE_SIZE;
        final long length = 300 * PAGE_SIZE;
        final NavigableSet<Long> model = new TreeSet<>();
        final TagBitmap tags = memory.tags();
        for (int op = 0; op < 4_000; op++)
        {
            final String where = Seeds.replay(seed) + ", op " + op;
            final int kind = rnd.nextInt(10);
            if (kind < 4)
            {
                // Clustered capability stores: a few granules in one random page.
                final long page = base + rnd.nextLong(length / PAGE_SIZE) * PAGE_SIZE;
                for (int i = rnd.nextInt(1, 4); i > 0; i--)
                {
                    final long at = page + rnd.nextLong(PAGE_SIZE / GRANULE_SIZE) * GRANULE_SIZE;
                    final boolean tag = rnd.nextInt(5) != 0;
                    memory.storeCapability(at, rnd.nextLong(), rnd.nextLong(), tag);
                    if (tag)
                    {
                        model.add(at);
                    }
                    else
                    {
                        model.remove(at);
                    }
                }
            }
            else if (kind < 6)
            {
                final long at = base + rnd.nextLong(length - Long.BYTES);
                memory.storeLong(at, rnd.nextLong());
                model.subSet(at & -GRANULE_SIZE, true, at + Long.BYTES - 1, true).clear();
            }
            else if (kind < 7 && rnd.nextInt(8) == 0)
            {
                final long at = base + rnd.nextLong(length - 1);
                final long n = 1 + rnd.nextLong(Math.min(3 * PAGE_SIZE, base + length - at));
                memory.fill(at, n, (byte)rnd.nextInt());
                model.subSet(at & -GRANULE_SIZE, true, at + n - 1, true).clear();
            }
            else
            {
                final long from = base - 64 + rnd.nextLong(length + 128);
                final long to = from + 1 + rnd.nextLong(base + length + 64 - from);
                final long firstGranule = from & -GRANULE_SIZE;
                final long end = Geometry.alignUp(to, GRANULE_SIZE);
                final Long expected = model.ceiling(firstGranule);
                final long expectedNext = expected != null && expected < end ? expected : -1;
                assertEquals(expectedNext, tags.nextTagged(from, to),
                    "nextTagged(" + from + ", " + to + "), " + where);
                assertEquals(model.subSet(firstGranule, true, end, false).size(), tags.countTags(from, to - from),
                    "countTags(" + from + ", " + (to - from) + "), " + where);
            }
            if (op % 256 == 0)
            {
                for (final long tagged : model)
                {
                    assertTrue(tags.isTagged(tagged), "tag at " + tagged + ", " + where);
                    assertTrue(tags.pageMayHoldTags(tagged / PAGE_SIZE),
                        "summary bit of a page holding a tag at " + tagged + ", " + where);
                }
                assertEquals(model.size(), tags.countTags(base, length), "tags in region, " + where);
            }
        }
    }

    @Test
    void shouldRejectAccessOutsideSpaceWithoutChangingAnythingWhenStoreLeavesSpace()
    {
        final long size = memory.size();
        final long last = size - GRANULE_SIZE;
        memory.storeCapability(last, 0x1111_2222_3333_4444L, 0x5555_6666_7777_8888L, true);
        final byte[] before = new byte[16];
        memory.loadBytes(last, before, 0, 16);

        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeLong(size - 4, -1L));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeInt(size - 2, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeShort(size - 1, (short)-1));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeByte(size, (byte)-1));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeByte(-1, (byte)-1));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeDouble(size - 7, 1.0));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeBytes(last, new byte[17], 0, 17));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeBytes(last, new byte[4], 0, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.fill(last, 17, (byte)1));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.copy(0, last, 17, true));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.copy(last, 0, 17, true));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.copy(0, 16, -1, true));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.storeCapability(size, 1, 2, true));
        assertThrows(IllegalArgumentException.class, () -> memory.storeCapability(last + 8, 1, 2, true));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.loadCapability(size, new CapabilityBits()));
        assertThrows(IllegalArgumentException.class, () -> memory.loadCapability(last + 1, new CapabilityBits()));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.loadLong(size - 4));

        final byte[] after = new byte[16];
        memory.loadBytes(last, after, 0, 16);
        assertArrayEquals(before, after, "bytes of the last granule after rejected accesses");
        assertTrue(memory.isTagged(last), "tag of the last granule after rejected accesses");
        // The rejected stores must not have left a page lock held: these would spin forever.
        memory.storeLong(last, 7L);
        assertFalse(memory.isTagged(last), "a data store clears the tag");
        final CapabilityBits bits = new CapabilityBits();
        memory.loadCapability(last, bits);
        assertEquals(7L, bits.addressWord());
    }

    @Test
    void shouldKeepSourceTagWhenOverlappingCopyClearsPartialHeadGranule()
    {
        // memmove forwards by 16 bytes, src at offset 8 of granule 1: the destination's partial head granule (1)
        // is also the source of the first fully covered destination granule (2). Granule 2 must take granule 1's
        // tag as it was before the copy.
        final long base = 41 * PAGE_SIZE;
        for (int g = 0; g < 6; g++)
        {
            memory.storeCapability(base + g * GRANULE_SIZE, 0xA0 + g, 0xB0 + g, true);
        }
        memory.copy(base + 8, base + 24, 40, true);

        assertTrue(memory.isTagged(base), "granule 0 is outside the destination");
        assertFalse(memory.isTagged(base + 16), "granule 1 is the destination's partial head");
        assertTrue(memory.isTagged(base + 32), "granule 2 takes the pre-copy tag of source granule 1");
        assertTrue(memory.isTagged(base + 48), "granule 3 takes the pre-copy tag of source granule 2");
        assertTrue(memory.isTagged(base + 64), "granule 4 is outside the destination");
        final CapabilityBits bits = new CapabilityBits();
        memory.loadCapability(base + 32, bits);
        assertEquals(0xA1, bits.addressWord(), "granule 2 holds granule 1's capability");
        assertEquals(0xB1, bits.metadataWord(), "granule 2 holds granule 1's capability");
    }

    @Test
    void shouldKeepSourceTagWhenOverlappingCopyClearsPartialTailGranule()
    {
        // memmove backwards by 16 bytes ending mid granule: the destination's partial tail granule (4) is also the
        // source of the last fully covered destination granule (3).
        final long base = 43 * PAGE_SIZE;
        for (int g = 0; g < 6; g++)
        {
            memory.storeCapability(base + g * GRANULE_SIZE, 0xA0 + g, 0xB0 + g, true);
        }
        memory.copy(base + 40, base + 24, 44, true);

        assertFalse(memory.isTagged(base + 16), "granule 1 is the destination's partial head");
        assertTrue(memory.isTagged(base + 32), "granule 2 takes the pre-copy tag of source granule 3");
        assertTrue(memory.isTagged(base + 48), "granule 3 takes the pre-copy tag of source granule 4");
        assertFalse(memory.isTagged(base + 64), "granule 4 is the destination's partial tail");
        assertTrue(memory.isTagged(base + 80), "granule 5 is outside the destination");
        final CapabilityBits bits = new CapabilityBits();
        memory.loadCapability(base + 48, bits);
        assertEquals(0xA4, bits.addressWord(), "granule 3 holds granule 4's capability");
        assertEquals(0xB4, bits.metadataWord(), "granule 3 holds granule 4's capability");
    }

    /** One seeded run: the real memory and the model side by side. */
    private final class Run
    {
        private final long seed;
        private final SplittableRandom rnd;
        private final byte[] bytes = new byte[WINDOW];
        private final boolean[] tags = new boolean[WINDOW / (int)GRANULE_SIZE];
        private final ArrayDeque<String> trace = new ArrayDeque<>();
        private final CapabilityBits bits = new CapabilityBits();
        private int op;

        Run(final long seed)
        {
            this.seed = seed;
            this.rnd = Seeds.random(seed);
        }

        void run(final int ops)
        {
            for (op = 0; op < ops; op++)
            {
                step();
                if (op % FULL_CHECK_EVERY == 0)
                {
                    checkWindow();
                }
            }
            checkWindow();
            checkOutsideWindow();
        }

        private String where()
        {
            return Seeds.replay(seed) + ", op " + op + ", last ops (oldest first): " + trace;
        }

        private void log(final String text)
        {
            if (trace.size() == 12)
            {
                trace.removeFirst();
            }
            trace.addLast(text);
        }

        private void step()
        {
            final int kind = rnd.nextInt(100);
            if (kind < 20)
            {
                smallStore();
            }
            else if (kind < 25)
            {
                storeBytes();
            }
            else if (kind < 28)
            {
                fill();
            }
            else if (kind < 48)
            {
                storeCapability();
            }
            else if (kind < 51)
            {
                tagRun();
            }
            else if (kind < 66)
            {
                copy();
            }
            else if (kind < 92)
            {
                load();
            }
            else
            {
                bitmapQuery();
            }
        }

        // ------------------------------------------------------------------------------------------------------
        // Address and length choice: often unaligned, often near a granule or page boundary.

        private int offset(final int width)
        {
            final int max = WINDOW - width;
            final int at = switch (rnd.nextInt(4))
            {
                case 0 -> rnd.nextInt(max + 1);
                case 1 -> (int)PAGE_SIZE * rnd.nextInt(1, WINDOW_PAGES) - width + rnd.nextInt(2 * width + 1);
                case 2 -> (int)GRANULE_SIZE * rnd.nextInt(WINDOW / (int)GRANULE_SIZE) - width + 1
                    + rnd.nextInt(width + (int)GRANULE_SIZE);
                default -> rnd.nextInt(max / width + 1) * width;
            };
            return Math.clamp(at, 0, max);
        }

        private int length()
        {
            return switch (rnd.nextInt(4))
            {
                case 0 -> rnd.nextInt(0, 48);
                case 1 -> rnd.nextInt(0, 300);
                case 2 -> rnd.nextInt(0, (int)PAGE_SIZE + 100);
                default -> rnd.nextInt(0, 2 * (int)PAGE_SIZE + 200);
            };
        }

        /** @return an offset in [0, max] congruent to {@code residue} mod 16 (max ≥ 15 assumed). */
        private int withResidue(final int residue, final int max)
        {
            int at = (rnd.nextInt(max + 1) & -(int)GRANULE_SIZE) + residue;
            while (at > max)
            {
                at -= (int)GRANULE_SIZE;
            }
            return at;
        }

        // ------------------------------------------------------------------------------------------------------
        // Operations.

        private void smallStore()
        {
            final int width = switch (rnd.nextInt(7))
            {
                case 0 -> 1;
                case 1, 2 -> 2;
                case 3, 4 -> 4;
                default -> 8;
            };
            final int off = offset(width);
            final long address = WINDOW_BASE + off;
            final byte[] value = new byte[width];
            switch (width)
            {
                case 1 ->
                {
                    final byte b = (byte)rnd.nextInt();
                    value[0] = b;
                    log("storeByte(+" + off + ")");
                    memory.storeByte(address, b);
                }
                case 2 ->
                {
                    final short s = (short)rnd.nextInt();
                    LE_SHORT.set(value, 0, s);
                    if (rnd.nextBoolean())
                    {
                        log("storeShort(+" + off + ")");
                        memory.storeShort(address, s);
                    }
                    else
                    {
                        log("storeChar(+" + off + ")");
                        memory.storeChar(address, (char)s);
                    }
                }
                case 4 ->
                {
                    if (rnd.nextBoolean())
                    {
                        final int i = rnd.nextInt();
                        LE_INT.set(value, 0, i);
                        log("storeInt(+" + off + ")");
                        memory.storeInt(address, i);
                    }
                    else
                    {
                        final float f = randomFloat();
                        LE_INT.set(value, 0, Float.floatToRawIntBits(f));
                        log("storeFloat(+" + off + ")");
                        memory.storeFloat(address, f);
                    }
                }
                default ->
                {
                    if (rnd.nextBoolean())
                    {
                        final long l = rnd.nextLong();
                        LE_LONG.set(value, 0, l);
                        log("storeLong(+" + off + ")");
                        memory.storeLong(address, l);
                    }
                    else
                    {
                        final double d = randomDouble();
                        LE_LONG.set(value, 0, Double.doubleToRawLongBits(d));
                        log("storeDouble(+" + off + ")");
                        memory.storeDouble(address, d);
                    }
                }
            }
            modelStore(off, value);
            checkRange(off, width);
        }

        private void storeBytes()
        {
            final int length = length();
            final int off = offset(Math.max(length, 1));
            final int pad = rnd.nextInt(4);
            final byte[] src = new byte[length + 2 * pad];
            rnd.nextBytes(src);
            if (rnd.nextBoolean())
            {
                log("storeBytes(+" + off + ", len " + length + ")");
                memory.storeBytes(WINDOW_BASE + off, src, pad, length);
            }
            else
            {
                log("storeBytes(+" + off + ", segment, len " + length + ")");
                memory.storeBytes(WINDOW_BASE + off, MemorySegment.ofArray(src), pad, length);
            }
            modelStore(off, Arrays.copyOfRange(src, pad, pad + length));
            checkRange(off, length);
        }

        private void fill()
        {
            final int length = rnd.nextInt(4) == 0 ? length() : rnd.nextInt(0, 64);
            final int off = offset(Math.max(length, 1));
            final byte value = (byte)rnd.nextInt();
            log("fill(+" + off + ", len " + length + ")");
            memory.fill(WINDOW_BASE + off, length, value);
            final byte[] v = new byte[length];
            Arrays.fill(v, value);
            modelStore(off, v);
            checkRange(off, length);
        }

        private void storeCapability()
        {
            final int off = rnd.nextInt(WINDOW / (int)GRANULE_SIZE) * (int)GRANULE_SIZE;
            final long addressWord = rnd.nextLong();
            final long metadataWord = rnd.nextLong();
            final boolean tag = rnd.nextInt(10) < 7;
            log("storeCapability(+" + off + ", " + tag + ")");
            memory.storeCapability(WINDOW_BASE + off, addressWord, metadataWord, tag);
            modelCapability(off, addressWord, metadataWord, tag);
            checkRange(off, (int)GRANULE_SIZE);
        }

        /** Many consecutive tagged capabilities, so copies have tags to move. */
        private void tagRun()
        {
            final int granules = rnd.nextInt(1, 80);
            final int first = rnd.nextInt(WINDOW / (int)GRANULE_SIZE - granules + 1);
            log("tagRun(+" + first * GRANULE_SIZE + ", " + granules + " granules)");
            for (int g = first; g < first + granules; g++)
            {
                final long addressWord = rnd.nextLong();
                final long metadataWord = rnd.nextLong();
                final boolean tag = rnd.nextInt(8) != 0;
                memory.storeCapability(WINDOW_BASE + g * GRANULE_SIZE, addressWord, metadataWord, tag);
                modelCapability(g * (int)GRANULE_SIZE, addressWord, metadataWord, tag);
            }
            checkRange(first * (int)GRANULE_SIZE, granules * (int)GRANULE_SIZE);
        }

        private void copy()
        {
            final int length = length();
            final int max = WINDOW - length;
            final int src = rnd.nextInt(max + 1);
            final int dst;
            switch (rnd.nextInt(5))
            {
                case 0 -> dst = rnd.nextInt(max + 1);
                case 1 -> dst = withResidue(src & 15, max);
                case 2 ->
                {
                    // Overlapping, same alignment: a shift by whole granules.
                    final int granules = rnd.nextInt(-(length / 16) - 2, length / 16 + 3);
                    final int shifted = src + granules * (int)GRANULE_SIZE;
                    dst = shifted >= 0 && shifted <= max ? shifted : withResidue(src & 15, max);
                }
                case 3 ->
                {
                    // Overlapping, different alignment.
                    int delta = rnd.nextInt(-length - 8, length + 9);
                    if ((delta & 15) == 0)
                    {
                        delta += 1 + rnd.nextInt(15);
                    }
                    dst = Math.clamp(src + delta, 0, max);
                }
                default ->
                {
                    // Small overlapping shifts of either kind.
                    dst = Math.clamp(src + rnd.nextInt(-40, 41), 0, max);
                }
            }
            final boolean preserve = rnd.nextInt(5) != 0;
            log("copy(+" + src + " -> +" + dst + ", len " + length + ", preserveTags " + preserve + ")");
            memory.copy(WINDOW_BASE + src, WINDOW_BASE + dst, length, preserve);
            modelCopy(src, dst, length, preserve);
            checkRange(Math.min(src, dst), Math.max(src, dst) + length - Math.min(src, dst));
        }

        private void load()
        {
            final int kind = rnd.nextInt(10);
            switch (kind)
            {
                case 0 ->
                {
                    final int off = offset(1);
                    assertEquals(bytes[off], memory.loadByte(WINDOW_BASE + off), "loadByte(+" + off + "), " + where());
                }
                case 1 ->
                {
                    final int off = offset(2);
                    assertEquals((short)LE_SHORT.get(bytes, off), memory.loadShort(WINDOW_BASE + off),
                        "loadShort(+" + off + "), " + where());
                }
                case 2 ->
                {
                    final int off = offset(2);
                    assertEquals((char)LE_CHAR.get(bytes, off), memory.loadChar(WINDOW_BASE + off),
                        "loadChar(+" + off + "), " + where());
                }
                case 3 ->
                {
                    final int off = offset(4);
                    assertEquals((int)LE_INT.get(bytes, off), memory.loadInt(WINDOW_BASE + off),
                        "loadInt(+" + off + "), " + where());
                }
                case 4 ->
                {
                    final int off = offset(4);
                    assertEquals((int)LE_INT.get(bytes, off),
                        Float.floatToRawIntBits(memory.loadFloat(WINDOW_BASE + off)),
                        "loadFloat(+" + off + ") bits, " + where());
                }
                case 5 ->
                {
                    final int off = offset(8);
                    assertEquals((long)LE_LONG.get(bytes, off), memory.loadLong(WINDOW_BASE + off),
                        "loadLong(+" + off + "), " + where());
                }
                case 6 ->
                {
                    final int off = offset(8);
                    assertEquals((long)LE_LONG.get(bytes, off),
                        Double.doubleToRawLongBits(memory.loadDouble(WINDOW_BASE + off)),
                        "loadDouble(+" + off + ") bits, " + where());
                }
                case 7, 8 ->
                {
                    final int off = rnd.nextInt(WINDOW / (int)GRANULE_SIZE) * (int)GRANULE_SIZE;
                    memory.loadCapability(WINDOW_BASE + off, bits);
                    final String context = "loadCapability(+" + off + "), " + where();
                    assertEquals((long)LE_LONG.get(bytes, off), bits.addressWord(), "address word, " + context);
                    assertEquals((long)LE_LONG.get(bytes, off + 8), bits.metadataWord(), "metadata word, " + context);
                    assertEquals(tags[off / (int)GRANULE_SIZE], bits.tag(), "tag, " + context);
                }
                default ->
                {
                    final int length = length();
                    final int off = offset(Math.max(1, length));
                    final byte[] out = new byte[length + 3];
                    if (rnd.nextBoolean())
                    {
                        memory.loadBytes(WINDOW_BASE + off, out, 3, length);
                    }
                    else
                    {
                        memory.loadBytes(WINDOW_BASE + off, MemorySegment.ofArray(out), 3, length);
                    }
                    assertArrayEquals(Arrays.copyOfRange(bytes, off, off + length),
                        Arrays.copyOfRange(out, 3, 3 + length), "loadBytes(+" + off + ", " + length + "), " + where());
                }
            }
        }

        private void bitmapQuery()
        {
            final TagBitmap bitmap = memory.tags();
            final long lo = WINDOW_BASE - 64;
            final long hi = WINDOW_BASE + WINDOW + 64;
            final long from = lo + rnd.nextLong(hi - lo - 1);
            final long to = from + 1 + rnd.nextLong(Math.min(hi - from - 1, rnd.nextBoolean() ? 200 : WINDOW) + 1);
            final long endGranule = Geometry.alignUp(to, GRANULE_SIZE) / GRANULE_SIZE;
            long expectedNext = -1;
            long expectedCount = 0;
            for (long g = from / GRANULE_SIZE; g < endGranule; g++)
            {
                if (modelTagged(g * GRANULE_SIZE))
                {
                    if (expectedNext < 0)
                    {
                        expectedNext = g * GRANULE_SIZE;
                    }
                    expectedCount++;
                }
            }
            assertEquals(expectedNext, bitmap.nextTagged(from, to),
                "nextTagged(" + from + ", " + to + "), " + where());
            assertEquals(expectedCount, bitmap.countTags(from, to - from),
                "countTags(" + from + ", " + (to - from) + "), " + where());
        }

        // ------------------------------------------------------------------------------------------------------
        // The reference model.

        private void modelStore(final int off, final byte[] value)
        {
            if (value.length == 0)
            {
                return;
            }
            System.arraycopy(value, 0, bytes, off, value.length);
            for (int g = off / 16; g <= (off + value.length - 1) / 16; g++)
            {
                tags[g] = false;
            }
        }

        private void modelCapability(final int off, final long addressWord, final long metadataWord,
            final boolean tag)
        {
            LE_LONG.set(bytes, off, addressWord);
            LE_LONG.set(bytes, off + 8, metadataWord);
            tags[off / 16] = tag;
        }

        private void modelCopy(final int src, final int dst, final int length, final boolean preserve)
        {
            if (length == 0)
            {
                return;
            }
            final byte[] moved = Arrays.copyOfRange(bytes, src, src + length);
            final boolean[] before = tags.clone();
            System.arraycopy(moved, 0, bytes, dst, length);
            final boolean move = preserve && Math.floorMod(src - dst, 16) == 0;
            for (int g = dst / 16; g <= (dst + length - 1) / 16; g++)
            {
                final boolean full = g * 16 >= dst && g * 16 + 16 <= dst + length;
                tags[g] = move && full && before[g + (src - dst) / 16];
            }
        }

        private boolean modelTagged(final long address)
        {
            final long off = address - WINDOW_BASE;
            return off >= 0 && off < WINDOW && tags[(int)(off / GRANULE_SIZE)];
        }

        // ------------------------------------------------------------------------------------------------------
        // Checks.

        /** Compares bytes and tags of {@code [off, off + length)} widened by a granule each side. */
        private void checkRange(final int off, final int length)
        {
            final int lo = Math.max(0, (off & -16) - 16);
            final int hi = Math.min(WINDOW, (int)Geometry.alignUp(off + length, GRANULE_SIZE) + 16);
            compare(lo, hi);
        }

        private void checkWindow()
        {
            compare(0, WINDOW);
            int expected = 0;
            for (final boolean t : tags)
            {
                expected += t ? 1 : 0;
            }
            assertEquals(expected, memory.tags().countTags(WINDOW_BASE, WINDOW), "tags in window, " + where());
            for (int p = 0; p < WINDOW_PAGES; p++)
            {
                boolean any = false;
                for (int g = p * 256; g < (p + 1) * 256; g++)
                {
                    any |= tags[g];
                }
                if (any)
                {
                    assertTrue(memory.tags().pageMayHoldTags(WINDOW_BASE / PAGE_SIZE + p),
                        "summary bit of window page " + p + " that holds tags, " + where());
                }
            }
        }

        private void compare(final int lo, final int hi)
        {
            final byte[] actual = new byte[hi - lo];
            memory.loadBytes(WINDOW_BASE + lo, actual, 0, hi - lo);
            if (!Arrays.equals(bytes, lo, hi, actual, 0, hi - lo))
            {
                final int at = lo + Arrays.mismatch(Arrays.copyOfRange(bytes, lo, hi), actual);
                fail("byte at +" + at + ": expected " + bytes[at] + " but was " + actual[at - lo] + ", " + where());
            }
            for (int g = lo / 16; g < (hi + 15) / 16; g++)
            {
                if (tags[g] != memory.tags().isTagged(WINDOW_BASE + g * GRANULE_SIZE))
                {
                    fail("tag of granule +" + g * 16 + ": expected " + tags[g] + ", " + where());
                }
            }
        }

        private void checkOutsideWindow()
        {
            assertEquals(0, memory.tags().countTags(WINDOW_BASE - PAGE_SIZE, PAGE_SIZE),
                "tags in the page below the window, " + where());
            assertEquals(0, memory.tags().countTags(WINDOW_BASE + WINDOW, PAGE_SIZE),
                "tags in the page above the window, " + where());
            final byte[] below = new byte[(int)PAGE_SIZE];
            final byte[] above = new byte[(int)PAGE_SIZE];
            memory.loadBytes(WINDOW_BASE - PAGE_SIZE, below, 0, below.length);
            memory.loadBytes(WINDOW_BASE + WINDOW, above, 0, above.length);
            assertArrayEquals(new byte[(int)PAGE_SIZE], below, "bytes below the window, " + where());
            assertArrayEquals(new byte[(int)PAGE_SIZE], above, "bytes above the window, " + where());
        }

        private float randomFloat()
        {
            final float f = Float.intBitsToFloat(rnd.nextInt());
            return Float.isNaN(f) ? -0.0f : f;
        }

        private double randomDouble()
        {
            final double d = Double.longBitsToDouble(rnd.nextLong());
            return Double.isNaN(d) ? Double.MIN_VALUE : d;
        }
    }
}
