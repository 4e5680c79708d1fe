package dev.ufork.memory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.ufork.memory.Geometry.GRANULE_SIZE;
import static dev.ufork.memory.Geometry.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Granule tag clearing (docs/cheri.md §2.1, §4 category 6): a data store of any width at any offset of a granule
 * clears the tag of exactly the granules it overlaps (one, or two when it straddles a granule or page boundary) and
 * leaves its neighbours' tags and bytes alone.
 */
class GranuleTagClearingTest
{
    /** Tagged granules set up before each store: four before and four after the store's granule. */
    private static final int NEIGHBOURS = 4;

    private static AddressSpace space;
    private static TaggedMemory memory;

    /** A data store of a fixed width. */
    enum Store
    {
        BYTE(1), SHORT(2), CHAR(2), INT(4), FLOAT(4), LONG(8), DOUBLE(8), BYTES_16(16), FILL_16(16), BYTES_1(1),
        FILL_3(3), BYTES_17(17), BYTES_32(32), UNTAGGED_CAPABILITY(16);

        final int width;

        Store(final int width)
        {
            this.width = width;
        }

        /** Stores {@code width} bytes with value {@code 0x40 + i} at {@code address + i}. */
        void apply(final long address)
        {
            final byte[] value = new byte[width];
            for (int i = 0; i < width; i++)
            {
                value[i] = (byte)(0x40 + i);
            }
            switch (this)
            {
                case BYTE -> memory.storeByte(address, value[0]);
                case SHORT -> memory.storeShort(address, (short)0x4140);
                case CHAR -> memory.storeChar(address, (char)0x4140);
                case INT -> memory.storeInt(address, 0x43424140);
                case FLOAT -> memory.storeFloat(address, Float.intBitsToFloat(0x43424140));
                case LONG -> memory.storeLong(address, 0x4746454443424140L);
                case DOUBLE -> memory.storeDouble(address, Double.longBitsToDouble(0x4746454443424140L));
                case FILL_16, FILL_3 -> memory.fill(address, width, (byte)0x40);
                case UNTAGGED_CAPABILITY -> memory.storeCapability(address, 0x4746454443424140L,
                    0x4F4E4D4C4B4A4948L, false);
                default -> memory.storeBytes(address, value, 0, width);
            }
        }

        byte expectedByte(final int i)
        {
            return (byte)(this == FILL_16 || this == FILL_3 ? 0x40 : 0x40 + i);
        }

        boolean granuleAlignedOnly()
        {
            return this == UNTAGGED_CAPABILITY;
        }
    }

    /** Where the store's granule lies. */
    enum Place
    {
        /** Mid page: straddling stores cross into the next granule of the same page. */
        MID_PAGE(200 * PAGE_SIZE + 1024),
        /** The last granule of a page: straddling stores cross into the next page. */
        PAGE_END(210 * PAGE_SIZE - GRANULE_SIZE),
        /** The last granule of a tag word (64 granules): straddling stores cross into the next tag word. */
        TAG_WORD_END(220 * PAGE_SIZE + 64 * GRANULE_SIZE - GRANULE_SIZE);

        final long granule;

        Place(final long granule)
        {
            this.granule = granule;
        }
    }

    @BeforeAll
    static void reserve()
    {
        space = AddressSpace.reserve(16L << 20);
        memory = space.memory();
    }

    @AfterAll
    static void close()
    {
        space.close();
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void shouldClearExactlyOverlappedTagsWhenStoringAtEveryOffsetOfAGranule(final Store store)
    {
        for (final Place place : Place.values())
        {
            for (int offset = 0; offset < GRANULE_SIZE; offset++)
            {
                if (store.granuleAlignedOnly() && offset != 0)
                {
                    continue;
                }
                check(store, place, offset);
            }
        }
    }

    private static void check(final Store store, final Place place, final int offset)
    {
        final long first = place.granule - NEIGHBOURS * GRANULE_SIZE;
        final int granules = 2 * NEIGHBOURS + 1;
        for (int g = 0; g < granules; g++)
        {
            memory.storeCapability(first + g * GRANULE_SIZE, 0x1000 + g, 0x2000 + g, true);
        }
        final long address = place.granule + offset;
        store.apply(address);

        final long firstCleared = address & -GRANULE_SIZE;
        final long lastCleared = (address + store.width - 1) & -GRANULE_SIZE;
        final String what = store + " of " + store.width + " bytes at offset " + offset + " of granule 0x"
            + Long.toHexString(place.granule) + " (" + place + ")";
        for (int g = 0; g < granules; g++)
        {
            final long at = first + g * GRANULE_SIZE;
            final boolean overlapped = at >= firstCleared && at <= lastCleared;
            assertEquals(!overlapped, memory.isTagged(at), "tag of granule 0x" + Long.toHexString(at) + " ("
                + (overlapped ? "overlapped, must be cleared" : "not overlapped, must stay set") + ") after " + what);
            for (int i = 0; i < GRANULE_SIZE; i++)
            {
                final long b = at + i;
                final byte expected;
                if (b >= address && b < address + store.width)
                {
                    expected = store.expectedByte((int)(b - address));
                }
                else
                {
                    // Little-endian capability words: 0x1000 + g at +0, 0x2000 + g at +8.
                    final long word = i < 8 ? 0x1000 + g : 0x2000 + g;
                    expected = (byte)(word >>> (8 * (i & 7)));
                }
                assertEquals(expected, memory.loadByte(b), "byte at 0x" + Long.toHexString(b) + " after " + what);
            }
        }
        // Exactly one or two granules: QEMU's cheri_tag_invalidate rule for stores up to 16 bytes.
        final long cleared = (lastCleared - firstCleared) / GRANULE_SIZE + 1;
        assertEquals(granules - cleared, memory.tags().countTags(first, granules * GRANULE_SIZE),
            "tags left around " + what);
        if (store.width <= GRANULE_SIZE)
        {
            assertEquals(offset + store.width > GRANULE_SIZE ? 2 : 1, cleared, "granules cleared by " + what);
        }
    }

    @Test
    void shouldClearTagWhenCapabilityBytesAreOverwrittenByData()
    {
        // cheritest tagstore: store a capability, then data into it: the tag is gone, the other word stays.
        final long at = 230 * PAGE_SIZE + 160;
        memory.storeCapability(at, 0x1234L, 0x5678L, true);
        final CapabilityBits bits = new CapabilityBits();
        memory.loadCapability(at, bits);
        assertTrue(bits.tag(), "a tagged capability store sets the tag");

        memory.storeLong(at + 8, 0x5678L);
        memory.loadCapability(at, bits);
        assertFalse(bits.tag(), "storing the same metadata word again as data still clears the tag");
        assertEquals(0x1234L, bits.addressWord());
        assertEquals(0x5678L, bits.metadataWord());

        memory.storeCapability(at, 0x1234L, 0x5678L, true);
        memory.storeCapability(at, 0x1234L, 0x5678L, false);
        assertFalse(memory.isTagged(at), "an untagged capability store clears the tag");
    }

    @Test
    void shouldClearEveryOverlappedTagWhenStoringBytesAcrossPages()
    {
        final long base = 240 * PAGE_SIZE;
        for (long at = base; at < base + 3 * PAGE_SIZE; at += GRANULE_SIZE)
        {
            memory.storeCapability(at, at, ~at, true);
        }
        final long from = base + PAGE_SIZE - 24;
        final int length = (int)PAGE_SIZE + 40;
        memory.storeBytes(from, new byte[length], 0, length);

        final long firstCleared = from & -GRANULE_SIZE;
        final long lastCleared = (from + length - 1) & -GRANULE_SIZE;
        for (long at = base; at < base + 3 * PAGE_SIZE; at += GRANULE_SIZE)
        {
            assertEquals(at < firstCleared || at > lastCleared, memory.isTagged(at),
                "tag of granule 0x" + Long.toHexString(at));
        }
        assertEquals(3 * PAGE_SIZE / GRANULE_SIZE - ((lastCleared - firstCleared) / GRANULE_SIZE + 1),
            memory.tags().countTags(base, 3 * PAGE_SIZE));
    }
}
