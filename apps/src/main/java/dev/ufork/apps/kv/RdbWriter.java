package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Writes the keyspace as an RDB file that Redis 7.0 loads and {@code redis-check-rdb} accepts: version 10, the
 * usual AUX fields, db 0 with its RESIZEDB hint, then every key that has not expired with its expiry
 * ({@code EXPIRETIME_MS}) and value in the plain encodings every Redis version since 4 loads (string, list, set,
 * hash, zset2 with binary scores), then EOF and the CRC-64 of everything before it.
 * <p>
 * Thread safety: confined to the thread that writes (the snapshot child's).
 */
final class RdbWriter
{
    /** Where the bytes go. */
    @FunctionalInterface
    interface Sink
    {
        void write(byte[] bytes, int from, int length) throws IOException;
    }

    static final int VERSION = 10;
    static final int TYPE_STRING = 0;
    static final int TYPE_LIST = 1;
    static final int TYPE_SET = 2;
    static final int TYPE_HASH = 4;
    static final int TYPE_ZSET_2 = 5;
    static final int OP_AUX = 250;
    static final int OP_RESIZEDB = 251;
    static final int OP_EXPIRETIME_MS = 252;
    static final int OP_SELECTDB = 254;
    static final int OP_EOF = 255;

    private final Sink sink;
    private final byte[] buffer = new byte[64 * 1024];
    private int used;
    private long crc;
    private long written;

    RdbWriter(final Sink sink)
    {
        this.sink = sink;
    }

    /** @return bytes written so far. */
    long written()
    {
        return written + used;
    }

    /**
     * Writes the whole file.
     *
     * @param now keys that expired by this time (ms) are left out, as Redis does.
     * @throws IOException if the sink fails.
     */
    void writeAll(final Database db, final long now, final long usedMemory) throws IOException
    {
        final Mem mem = db.mem();
        final CapabilityMemory memory = mem.memory;
        final Values values = db.values();
        raw(("REDIS" + String.format("%04d", VERSION)).getBytes(StandardCharsets.US_ASCII));
        aux("redis-ver", "7.0.15");
        aux("redis-bits", "64");
        aux("ctime", Long.toString(now / 1000));
        aux("used-mem", Long.toString(usedMemory));
        aux("aof-base", "0");
        raw(OP_SELECTDB);
        length(0);
        raw(OP_RESIZEDB);
        length(db.size());
        length(db.volatileKeys());
        final IOException[] failure = new IOException[1];
        // In memory order: entries lie in their slab in the order they were made, and their keys and values lie in
        // the heap mostly in that same order, so the walk streams through both (and the child copies the entry pages
        // one after another) where the hash order of the table would miss the cache at every key.
        db.keys().forEachInMemoryOrder(entry ->
        {
            if (failure[0] != null)
            {
                return;
            }
            try
            {
                final long expiry = memory.loadLong(entry, Dict.EXTRA);
                if (expiry != 0 && expiry <= now)
                {
                    return;
                }
                if (expiry != 0)
                {
                    raw(OP_EXPIRETIME_MS);
                    longLittleEndian(expiry);
                }
                writeValue(mem, memory, values, memory.loadCapability(entry, Dict.KEY),
                    memory.loadCapability(entry, Dict.VALUE));
            }
            catch (final IOException e)
            {
                failure[0] = e;
            }
        });
        if (failure[0] != null)
        {
            throw failure[0];
        }
        raw(OP_EOF);
        flush();
        final long checksum = crc;
        final byte[] tail = new byte[8];
        for (int i = 0; i < 8; i++)
        {
            tail[i] = (byte)(checksum >>> (8 * i));
        }
        sink.write(tail, 0, 8);
        written += 8;
    }

    private void writeValue(final Mem mem, final CapabilityMemory memory, final Values values, final Capability key,
        final Capability value) throws IOException
    {
        final long type = values.type(value);
        if (type == Values.STRING)
        {
            raw(TYPE_STRING);
            sdsString(memory, key, Mem.SDS_HEADER);
            sdsString(memory, value, Values.BYTES);
        }
        else if (type == Values.LIST)
        {
            raw(TYPE_LIST);
            sdsString(memory, key, Mem.SDS_HEADER);
            length(values.listLength(value));
            for (Capability node = memory.loadCapability(value, Values.HEAD); node.isTagged();
                node = values.nextNode(node))
            {
                sdsString(memory, node, Values.NODE_BYTES);
            }
        }
        else if (type == Values.SET || type == Values.HASH)
        {
            raw(type == Values.SET ? TYPE_SET : TYPE_HASH);
            sdsString(memory, key, Mem.SDS_HEADER);
            final Dict dict = values.dict(value);
            length(dict.size());
            final IOException[] failure = new IOException[1];
            dict.forEach(entry ->
            {
                try
                {
                    sdsString(memory, memory.loadCapability(entry, Dict.KEY), Mem.SDS_HEADER);
                    if (type == Values.HASH)
                    {
                        sdsString(memory, memory.loadCapability(entry, Dict.VALUE), Mem.SDS_HEADER);
                    }
                }
                catch (final IOException e)
                {
                    failure[0] = e;
                }
            });
            if (failure[0] != null)
            {
                throw failure[0];
            }
        }
        else if (type == Values.ZSET)
        {
            raw(TYPE_ZSET_2);
            sdsString(memory, key, Mem.SDS_HEADER);
            final SkipList list = values.skipList(value);
            length(list.length());
            for (Capability node = list.first(); node != null && node.isTagged(); node = list.next(node))
            {
                sdsString(memory, list.member(node), Mem.SDS_HEADER);
                longLittleEndian(Double.doubleToRawLongBits(list.score(node)));
            }
        }
        else
        {
            throw new IOException("unknown value type " + type + " for key "
                + new String(mem.sds(key), StandardCharsets.UTF_8));
        }
    }

    private void aux(final String name, final String value) throws IOException
    {
        raw(OP_AUX);
        string(name.getBytes(StandardCharsets.US_ASCII));
        string(value.getBytes(StandardCharsets.US_ASCII));
    }

    /** RDB length encoding: 6-bit, 14-bit, 32-bit or 64-bit. */
    private void length(final long value) throws IOException
    {
        if (value < 1 << 6)
        {
            raw((int)value);
        }
        else if (value < 1 << 14)
        {
            raw((int)(0x40 | (value >>> 8)));
            raw((int)(value & 0xFF));
        }
        else if (value <= 0xFFFFFFFFL)
        {
            raw(0x80);
            for (int i = 3; i >= 0; i--)
            {
                raw((int)(value >>> (8 * i)) & 0xFF);
            }
        }
        else
        {
            raw(0x81);
            for (int i = 7; i >= 0; i--)
            {
                raw((int)(value >>> (8 * i)) & 0xFF);
            }
        }
    }

    /**
     * Writes a length-prefixed string whose length is the 8 bytes before {@code bytesOffset} in {@code block} and
     * whose bytes follow, copied from µprocess memory straight into the write buffer (no intermediate array).
     */
    private void sdsString(final CapabilityMemory memory, final Capability block, final long bytesOffset)
        throws IOException
    {
        final long length = memory.loadLong(block, bytesOffset - Long.BYTES);
        length(length);
        long done = 0;
        while (done < length)
        {
            final int n = (int)Math.min(length - done, room());
            memory.loadBytes(block, bytesOffset + done, buffer, used, n);
            used += n;
            done += n;
        }
    }

    private void string(final byte[] bytes) throws IOException
    {
        length(bytes.length);
        raw(bytes);
    }

    private void longLittleEndian(final long value) throws IOException
    {
        for (int i = 0; i < 8; i++)
        {
            raw((int)(value >>> (8 * i)) & 0xFF);
        }
    }

    private void raw(final int b) throws IOException
    {
        if (used == buffer.length)
        {
            flush();
        }
        buffer[used++] = (byte)b;
    }

    private void raw(final byte[] bytes) throws IOException
    {
        int from = 0;
        while (from < bytes.length)
        {
            final int n = Math.min(bytes.length - from, room());
            System.arraycopy(bytes, from, buffer, used, n);
            used += n;
            from += n;
        }
    }

    /** @return the bytes free in the buffer, flushing it first if it is full (so at least one). */
    private int room() throws IOException
    {
        if (used == buffer.length)
        {
            flush();
        }
        return buffer.length - used;
    }

    private void flush() throws IOException
    {
        if (used > 0)
        {
            crc = Crc64.update(crc, buffer, 0, used);
            sink.write(buffer, 0, used);
            written += used;
            used = 0;
        }
    }
}
