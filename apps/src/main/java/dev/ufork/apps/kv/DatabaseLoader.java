package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

import java.util.List;

/**
 * Puts what an RDB file holds into the keyspace, building each value in µprocess memory as the commands would.
 * <p>
 * Thread safety: confined to the server's thread.
 */
final class DatabaseLoader implements RdbReader.Loader
{
    private final Database db;
    private final Values values;
    private final Mem mem;
    private final CapabilityMemory memory;

    DatabaseLoader(final Database db)
    {
        this.db = db;
        this.values = db.values();
        this.mem = db.mem();
        this.memory = mem.memory;
    }

    private void expire(final byte[] key, final Capability entry, final long expireAt)
    {
        if (expireAt > 0)
        {
            db.setExpiry(entry, key, expireAt);
        }
    }

    @Override
    public void string(final byte[] key, final byte[] value, final long expireAt)
    {
        expire(key, db.put(key, values.newString(value), false), expireAt);
    }

    @Override
    public void list(final byte[] key, final List<byte[]> elements, final long expireAt)
    {
        if (elements.isEmpty())
        {
            return;
        }
        final Capability list = values.newList();
        for (final byte[] element : elements)
        {
            values.listPush(list, element, false);
        }
        expire(key, db.put(key, list, false), expireAt);
    }

    @Override
    public void set(final byte[] key, final List<byte[]> members, final long expireAt)
    {
        if (members.isEmpty())
        {
            return;
        }
        final Capability set = values.newSet();
        final Dict dict = values.dict(set);
        for (final byte[] member : members)
        {
            final long hash = Mem.hash(member);
            if (dict.find(member, hash) == null)
            {
                dict.insert(mem.newSds(member), hash);
            }
        }
        expire(key, db.put(key, set, false), expireAt);
    }

    @Override
    public void hash(final byte[] key, final List<byte[]> fieldsAndValues, final long expireAt)
    {
        if (fieldsAndValues.isEmpty())
        {
            return;
        }
        final Capability hash = values.newHash();
        final Dict dict = values.dict(hash);
        boolean small = fieldsAndValues.size() / 2 <= Values.HASH_MAX_LISTPACK_ENTRIES;
        for (int i = 0; i + 1 < fieldsAndValues.size(); i += 2)
        {
            final byte[] field = fieldsAndValues.get(i);
            final byte[] value = fieldsAndValues.get(i + 1);
            small &= field.length <= Values.HASH_MAX_LISTPACK_VALUE && value.length <= Values.HASH_MAX_LISTPACK_VALUE;
            final long h = Mem.hash(field);
            Capability entry = dict.find(field, h);
            if (entry == null)
            {
                entry = dict.insert(mem.newSds(field), h);
                memory.storeLong(entry, Dict.EXTRA, db.nextOrder());
            }
            else
            {
                mem.heap.free(memory.loadCapability(entry, Dict.VALUE));
            }
            memory.storeCapability(entry, Dict.VALUE, mem.newSds(value));
        }
        values.setFlags(hash, small ? Values.HASH_ORDERED : 0);
        expire(key, db.put(key, hash, false), expireAt);
    }

    @Override
    public void zset(final byte[] key, final List<byte[]> members, final List<Double> scores, final long expireAt)
    {
        if (members.isEmpty())
        {
            return;
        }
        final Capability zset = values.newZSet();
        final Dict dict = values.dict(zset);
        final SkipList list = values.skipList(zset);
        for (int i = 0; i < members.size(); i++)
        {
            final byte[] member = members.get(i);
            final double score = scores.get(i) == 0 ? 0.0 : scores.get(i);
            final long h = Mem.hash(member);
            if (dict.find(member, h) != null)
            {
                continue;
            }
            final Capability sds = mem.newSds(member);
            final Capability entry = dict.insert(sds, h);
            memory.storeLong(entry, Dict.EXTRA, Double.doubleToRawLongBits(score));
            list.insert(score, sds, member);
        }
        expire(key, db.put(key, zset, false), expireAt);
    }
}
