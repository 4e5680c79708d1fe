package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

import java.util.SplittableRandom;

/**
 * The keyspace (Redis's db 0), entirely in µprocess memory: a {@link Dict} of keys to value objects
 * ({@link Values}), with each key's expiry time in its entry's extra word, and a second dict of the keys that have
 * one, so that the active expiry sweep samples only those. A fork copies all of it.
 * <pre>
 *  header (48 B)
 *  +0   keys     capability → dict (key sds → value; extra = expiry in ms since the epoch, 0 if none)
 *  +16  expires  capability → dict (key sds copy → NULL; extra = expiry)
 *  +32  order    8 B  the last insertion number given to a hash field (hashes answer in insertion order)
 * </pre>
 * Expired keys disappear when they are looked up ({@link #lookup}) and through {@link #activeExpire}.
 * <p>
 * Thread safety: confined to the µprocess's thread.
 */
final class Database
{
    private static final int KEYS = 0;
    private static final int EXPIRES = 16;
    private static final int ORDER = 32;

    private final Mem mem;
    private final CapabilityMemory memory;
    private final Values values;
    private final Capability header;
    private final Dict keys;
    private final Dict expires;
    private long expiredKeys;

    Database(final Mem mem, final Values values, final Capability header)
    {
        this.mem = mem;
        this.memory = mem.memory;
        this.values = values;
        this.header = header;
        this.keys = new Dict(mem, memory.loadCapability(header, KEYS));
        this.expires = new Dict(mem, memory.loadCapability(header, EXPIRES));
    }

    /** @return a new, empty keyspace. */
    static Database create(final Mem mem, final Values values)
    {
        final Capability header = mem.allocateZeroed(48);
        mem.memory.storeCapability(header, KEYS, Dict.createWithOwnSlab(mem).header());
        mem.memory.storeCapability(header, EXPIRES, Dict.create(mem).header());
        return new Database(mem, values, header);
    }

    Capability header()
    {
        return header;
    }

    Dict keys()
    {
        return keys;
    }

    Values values()
    {
        return values;
    }

    Mem mem()
    {
        return mem;
    }

    /** @return the next insertion number for a hash field. */
    long nextOrder()
    {
        final long next = memory.loadLong(header, ORDER) + 1;
        memory.storeLong(header, ORDER, next);
        return next;
    }

    /** @return keys, expired ones not yet removed included (as Redis's DBSIZE counts). */
    long size()
    {
        return keys.size();
    }

    /** @return keys with an expiry. */
    long volatileKeys()
    {
        return expires.size();
    }

    /** @return keys removed because they expired. */
    long expiredKeys()
    {
        return expiredKeys;
    }

    /**
     * @param key a key.
     * @param now the time in ms.
     * @return the key's entry, or null if it is absent or expired (an expired key is removed here).
     */
    Capability lookup(final byte[] key, final long now)
    {
        return lookup(key, Mem.hash(key), now);
    }

    /** {@link #lookup(byte[], long)} with the key's hash already computed. */
    Capability lookup(final byte[] key, final long hash, final long now)
    {
        final Capability entry = keys.find(key, hash);
        if (entry == null)
        {
            return null;
        }
        final long expiry = memory.loadLong(entry, Dict.EXTRA);
        if (expiry != 0 && expiry <= now)
        {
            delete(key, hash);
            expiredKeys++;
            return null;
        }
        return entry;
    }

    /** @return the value of an entry. */
    Capability value(final Capability entry)
    {
        return memory.loadCapability(entry, Dict.VALUE);
    }

    /** @return an entry's expiry in ms, or 0 if none. */
    long expiry(final Capability entry)
    {
        return memory.loadLong(entry, Dict.EXTRA);
    }

    /**
     * Sets a key's value, replacing (and freeing) any value it had.
     *
     * @param keepTtl whether an existing expiry stays (SET KEEPTTL); otherwise it is removed.
     * @return the key's entry.
     */
    Capability put(final byte[] key, final Capability value, final boolean keepTtl)
    {
        final long hash = Mem.hash(key);
        Capability entry = keys.find(key, hash);
        if (entry == null)
        {
            entry = keys.insert(mem.newSds(key), hash);
        }
        else
        {
            values.free(memory.loadCapability(entry, Dict.VALUE));
            if (!keepTtl && memory.loadLong(entry, Dict.EXTRA) != 0)
            {
                removeExpiry(entry, key, hash);
            }
        }
        memory.storeCapability(entry, Dict.VALUE, value);
        return entry;
    }

    /**
     * SET's store: a string value for {@code key}, reusing the old value's block when it is a string with room for
     * the new bytes (no malloc or free), else as {@link #put}.
     *
     * @param entry   the key's live entry ({@link #lookup}), or null if absent.
     * @param keepTtl whether an existing expiry stays.
     * @return the key's entry.
     */
    Capability setString(final byte[] key, final long hash, final Capability entry, final byte[] bytes,
        final boolean keepTtl)
    {
        if (entry != null)
        {
            final Capability value = memory.loadCapability(entry, Dict.VALUE);
            if (values.overwriteString(value, bytes))
            {
                if (!keepTtl && memory.loadLong(entry, Dict.EXTRA) != 0)
                {
                    removeExpiry(entry, key, hash);
                }
                return entry;
            }
        }
        return put(key, values.newString(bytes), keepTtl);
    }

    /** Replaces the value in an existing entry without touching its expiry (the old value is freed). */
    void replaceValue(final Capability entry, final Capability value)
    {
        values.free(memory.loadCapability(entry, Dict.VALUE));
        memory.storeCapability(entry, Dict.VALUE, value);
    }

    /** @return whether the key was there (and is now gone, with its value). */
    boolean delete(final byte[] key)
    {
        return delete(key, Mem.hash(key));
    }

    private boolean delete(final byte[] key, final long hash)
    {
        final Capability entry = keys.unlink(key, hash);
        if (entry == null)
        {
            return false;
        }
        if (memory.loadLong(entry, Dict.EXTRA) != 0)
        {
            final Capability e = expires.unlink(key, hash);
            if (e != null)
            {
                expires.freeEntry(e);
            }
        }
        values.free(memory.loadCapability(entry, Dict.VALUE));
        keys.freeEntry(entry);
        keys.maybeShrink();
        return true;
    }

    /** Sets an entry's expiry (ms since the epoch; must be positive). */
    void setExpiry(final Capability entry, final byte[] key, final long when)
    {
        final long hash = Mem.hash(key);
        if (memory.loadLong(entry, Dict.EXTRA) == 0)
        {
            final Capability e = expires.insert(mem.newSds(key), hash);
            memory.storeLong(e, Dict.EXTRA, when);
        }
        else
        {
            memory.storeLong(expires.find(key, hash), Dict.EXTRA, when);
        }
        memory.storeLong(entry, Dict.EXTRA, when);
    }

    /** Removes an entry's expiry (PERSIST). @return whether it had one. */
    boolean persist(final Capability entry, final byte[] key)
    {
        if (memory.loadLong(entry, Dict.EXTRA) == 0)
        {
            return false;
        }
        removeExpiry(entry, key, Mem.hash(key));
        return true;
    }

    private void removeExpiry(final Capability entry, final byte[] key, final long hash)
    {
        final Capability e = expires.unlink(key, hash);
        if (e != null)
        {
            expires.freeEntry(e);
        }
        memory.storeLong(entry, Dict.EXTRA, 0);
    }

    /** Removes every key. */
    void flush()
    {
        keys.clear(entry -> values.free(memory.loadCapability(entry, Dict.VALUE)));
        expires.clear(entry ->
        {
        });
    }

    /**
     * One active expiry cycle, as Redis's: sample up to 20 keys with an expiry, remove the expired ones, and repeat
     * while more than a quarter of a sample had expired and the budget allows.
     *
     * @param now       the time in ms.
     * @param maxRounds the most samples to take.
     * @return keys removed.
     */
    long activeExpire(final long now, final SplittableRandom random, final int maxRounds)
    {
        long removed = 0;
        for (int round = 0; round < maxRounds && expires.size() > 0; round++)
        {
            int expired = 0;
            final int samples = (int)Math.min(20, expires.size());
            for (int i = 0; i < samples; i++)
            {
                final Capability e = expires.random(random);
                if (e == null)
                {
                    break;
                }
                if (memory.loadLong(e, Dict.EXTRA) <= now)
                {
                    final byte[] key = mem.sds(memory.loadCapability(e, Dict.KEY));
                    delete(key);
                    expiredKeys++;
                    expired++;
                    removed++;
                }
            }
            if (expired * 4 <= samples)
            {
                break;
            }
        }
        return removed;
    }

    /** @return a random key that is not expired, or null if there is none (RANDOMKEY). */
    byte[] randomKey(final long now, final SplittableRandom random)
    {
        for (int attempt = 0; attempt < 100 && keys.size() > 0; attempt++)
        {
            final Capability entry = keys.random(random);
            final byte[] key = mem.sds(memory.loadCapability(entry, Dict.KEY));
            final long expiry = memory.loadLong(entry, Dict.EXTRA);
            if (expiry == 0 || expiry > now)
            {
                return key;
            }
            delete(key);
            expiredKeys++;
        }
        return null;
    }
}
