package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The command table and every command, with Redis 7.0's arities, semantics and replies (error texts included),
 * acting on the {@link Database} in µprocess memory.
 * <p>
 * Thread safety: confined to the server's thread.
 */
final class Commands
{
    static final String WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
    static final String NOT_INTEGER = "ERR value is not an integer or out of range";
    static final String NOT_FLOAT = "ERR value is not a valid float";
    static final String SYNTAX = "ERR syntax error";
    static final String OVERFLOW = "ERR increment or decrement would overflow";
    static final String OUT_OF_RANGE_POSITIVE = "ERR value is out of range, must be positive";

    /** A command's implementation. */
    @FunctionalInterface
    interface Handler
    {
        void run(Call call);
    }

    /**
     * A command table entry.
     *
     * @param name    lower-case name.
     * @param arity   as Redis: positive is exact, negative a minimum.
     * @param write   whether it may change the keyspace.
     * @param handler the implementation.
     */
    record Command(String name, int arity, boolean write, Handler handler)
    {
    }

    /** One command being executed: its arguments, client and time. */
    final class Call
    {
        List<byte[]> args;
        Client client;
        Reply reply;
        long now;

        byte[] arg(final int i)
        {
            return args.get(i);
        }

        int argc()
        {
            return args.size();
        }

        String lower(final int i)
        {
            return new String(args.get(i), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        }
    }

    private final Database db;
    private final Values values;
    private final Mem mem;
    private final CapabilityMemory memory;
    private final ServerControl server;
    private final Map<String, Command> table = new HashMap<>();
    /** The table again, open-addressed by a case-insensitive hash of the name's bytes: lookups allocate nothing. */
    private Command[] byBytes = new Command[256];
    private final SplittableRandom random = new SplittableRandom();
    private final Call call = new Call();

    Commands(final Database db, final ServerControl server)
    {
        this.db = db;
        this.values = db.values();
        this.mem = db.mem();
        this.memory = mem.memory;
        this.server = server;
        this.freeFieldValue = (hash, entry, field) -> mem.heap.free(memory.loadCapability(entry, Dict.VALUE));
        this.unlinkScore = (zset, entry, member) ->
            values.skipList(zset).delete(Double.longBitsToDouble(memory.loadLong(entry, Dict.EXTRA)), member);
        register();
    }

    /** @return the command table, for COMMAND. */
    Map<String, Command> table()
    {
        return table;
    }

    private void add(final String name, final int arity, final boolean write, final Handler handler)
    {
        final Command command = new Command(name, arity, write, handler);
        table.put(name, command);
        final byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        int slot = lowerHash(bytes) & (byBytes.length - 1);
        while (byBytes[slot] != null)
        {
            slot = (slot + 1) & (byBytes.length - 1);
        }
        byBytes[slot] = command;
    }

    private static int lowerHash(final byte[] name)
    {
        int h = 0;
        for (final byte b : name)
        {
            h = h * 31 + (b >= 'A' && b <= 'Z' ? b + 32 : b);
        }
        return h ^ (h >>> 16);
    }

    /** @return the command whose name equals {@code name} ignoring ASCII case, or null. */
    Command lookup(final byte[] name)
    {
        int slot = lowerHash(name) & (byBytes.length - 1);
        Command command;
        while ((command = byBytes[slot]) != null)
        {
            final String candidate = command.name();
            if (candidate.length() == name.length)
            {
                boolean same = true;
                for (int i = 0; i < name.length && same; i++)
                {
                    final int b = name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i];
                    same = b == candidate.charAt(i);
                }
                if (same)
                {
                    return command;
                }
            }
            slot = (slot + 1) & (byBytes.length - 1);
        }
        return null;
    }

    /**
     * Executes one request and appends its reply to the client's output.
     *
     * @param args the arguments (name first), at least one.
     * @param now  the time in ms.
     */
    void execute(final Client client, final List<byte[]> args, final long now)
    {
        final Command command = lookup(args.get(0));
        final Reply reply = client.reply;
        if (command == null)
        {
            final StringBuilder rest = new StringBuilder();
            for (int i = 1; i < args.size() && rest.length() < 128; i++)
            {
                final String arg = new String(args.get(i), StandardCharsets.ISO_8859_1);
                final int room = 128 - rest.length();
                rest.append('\'').append(arg, 0, Math.min(arg.length(), room)).append("' ");
            }
            final String shown = new String(args.get(0), StandardCharsets.ISO_8859_1);
            reply.error("ERR unknown command '" + shown.substring(0, Math.min(shown.length(), 128))
                + "', with args beginning with: " + rest);
            return;
        }
        if (command.arity > 0 ? args.size() != command.arity : args.size() < -command.arity)
        {
            reply.error("ERR wrong number of arguments for '" + command.name + "' command");
            return;
        }
        call.args = args;
        call.client = client;
        call.reply = reply;
        call.now = now;
        client.commands++;
        try
        {
            command.handler.run(call);
        }
        catch (final KvHeap.OutOfMemoryException e)
        {
            reply.error("OOM command not allowed when used memory > 'maxmemory'.");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Argument parsing

    /** Redis's string2ll over an argument: null if it is not a canonical 64-bit integer. */
    static Long parseLong(final byte[] bytes)
    {
        if (bytes.length == 0 || bytes.length > 20)
        {
            return null;
        }
        if (bytes.length == 1 && bytes[0] == '0')
        {
            return 0L;
        }
        int i = 0;
        final boolean negative = bytes[0] == '-';
        if (negative && ++i == bytes.length)
        {
            return null;
        }
        if (bytes[i] < '1' || bytes[i] > '9')
        {
            return null;
        }
        long value = 0;
        for (; i < bytes.length; i++)
        {
            final int digit = bytes[i] - '0';
            if (digit < 0 || digit > 9 || value < (Long.MIN_VALUE + digit) / 10)
            {
                return null;
            }
            value = value * 10 - digit;
        }
        if (!negative)
        {
            return value == Long.MIN_VALUE ? null : -value;
        }
        return value;
    }

    /** Redis's strtod-based parse of a score: null if not a number (NaN included). */
    static Double parseDouble(final byte[] bytes)
    {
        if (bytes.length == 0)
        {
            return null;
        }
        final String text = new String(bytes, StandardCharsets.ISO_8859_1);
        final String lower = text.toLowerCase(Locale.ROOT);
        final String unsigned = lower.startsWith("+") || lower.startsWith("-") ? lower.substring(1) : lower;
        if (unsigned.equals("inf") || unsigned.equals("infinity"))
        {
            return lower.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (!(c >= '0' && c <= '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
            {
                return null;
            }
        }
        try
        {
            final double value = Double.parseDouble(text);
            return Double.isNaN(value) ? null : value;
        }
        catch (final NumberFormatException e)
        {
            return null;
        }
    }

    private boolean integerArg(final Call c, final int i, final long[] out)
    {
        final Long value = parseLong(c.arg(i));
        if (value == null)
        {
            c.reply.error(NOT_INTEGER);
            return false;
        }
        out[0] = value;
        return true;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Lookups

    /** @return the key's value if it is of {@code type}; null if absent; WRONGTYPE replied and null otherwise. */
    private Capability typed(final Call c, final byte[] key, final long type, final boolean[] wrongType)
    {
        wrongType[0] = false;
        final Capability entry = db.lookup(key, c.now);
        if (entry == null)
        {
            return null;
        }
        final Capability value = db.value(entry);
        if (values.type(value) != type)
        {
            c.reply.error(WRONGTYPE);
            wrongType[0] = true;
            return null;
        }
        return value;
    }

    private final boolean[] wrong = new boolean[1];

    /**
     * HGET's and ZSCORE's lookup: the entry of member {@code c.arg(2)} in the collection of {@code type} at key
     * {@code c.arg(1)}.
     *
     * @return the entry; or null once WRONGTYPE or a null bulk has been replied.
     */
    private Capability member(final Call c, final long type)
    {
        final Capability collection = typed(c, c.arg(1), type, wrong);
        if (wrong[0])
        {
            return null;
        }
        final Capability entry = collection == null ? null : values.dict(collection).find(c.arg(2));
        if (entry == null)
        {
            c.reply.nullBulk();
        }
        return entry;
    }

    /** What removing one member of a collection frees besides its dict entry. */
    @FunctionalInterface
    private interface MemberRemoval
    {
        void removing(Capability collection, Capability entry, byte[] member);
    }

    /** A set member is its entry alone. */
    private static final MemberRemoval NOTHING_ELSE = (set, entry, member) -> { };
    /** A hash field's entry holds its value (made once, in the constructor, so HDEL makes no lambda per call). */
    private final MemberRemoval freeFieldValue;
    /** A sorted-set member is also in the skip list, under its score. */
    private final MemberRemoval unlinkScore;

    /**
     * HDEL, SREM and ZREM: removes members {@code c.arg(2..)} from the collection of {@code type} at key
     * {@code c.arg(1)}, deletes the key if that empties it, and replies how many were removed (WRONGTYPE for another
     * type, 0 for no key).
     */
    private void removeMembers(final Call c, final long type, final MemberRemoval removal)
    {
        final byte[] key = c.arg(1);
        final Capability collection = typed(c, key, type, wrong);
        if (wrong[0])
        {
            return;
        }
        if (collection == null)
        {
            c.reply.integer(0);
            return;
        }
        final Dict dict = values.dict(collection);
        long removed = 0;
        for (int i = 2; i < c.argc(); i++)
        {
            final byte[] member = c.arg(i);
            final Capability entry = dict.unlink(member, Mem.hash(member));
            if (entry != null)
            {
                removal.removing(collection, entry, member);
                dict.freeEntry(entry);
                removed++;
            }
        }
        dict.maybeShrink();
        if (dict.size() == 0)
        {
            db.delete(key);
        }
        server.dirty(removed);
        c.reply.integer(removed);
    }

    // ------------------------------------------------------------------------------------------------------------

    private void register()
    {
        // Strings
        add("get", 2, false, this::get);
        add("set", -3, true, this::set);
        add("setnx", 3, true, c -> c.reply.integer(setGeneric(c, c.arg(1), c.arg(2), true, false, false, 0, false)
            ? 1 : 0));
        add("setex", 4, true, this::setex);
        add("mget", -2, false, this::mget);
        add("mset", -3, true, this::mset);
        add("incr", 2, true, c -> incrBy(c, 1));
        add("decr", 2, true, c -> incrBy(c, -1));
        add("incrby", 3, true, c -> incrByArg(c, false));
        add("decrby", 3, true, c -> incrByArg(c, true));
        add("append", 3, true, this::append);
        add("strlen", 2, false, this::strlen);
        add("getrange", 4, false, this::getrange);
        // Keys
        add("del", -2, true, this::del);
        add("exists", -2, false, this::exists);
        add("expire", -3, true, c -> expire(c, 1000, "expire"));
        add("pexpire", -3, true, c -> expire(c, 1, "pexpire"));
        add("ttl", 2, false, c -> ttl(c, true));
        add("pttl", 2, false, c -> ttl(c, false));
        add("persist", 2, true, this::persist);
        add("type", 2, false, this::type);
        add("keys", 2, false, this::keys);
        add("scan", -2, false, this::scan);
        add("rename", 3, true, this::rename);
        add("randomkey", 1, false, this::randomkey);
        add("dbsize", 1, false, c -> c.reply.integer(db.size()));
        add("flushdb", -1, true, this::flush);
        add("flushall", -1, true, this::flush);
        // Lists
        add("lpush", -3, true, c -> push(c, true));
        add("rpush", -3, true, c -> push(c, false));
        add("lpop", -2, true, c -> pop(c, true));
        add("rpop", -2, true, c -> pop(c, false));
        add("llen", 2, false, this::llen);
        add("lrange", 4, false, this::lrange);
        add("lindex", 3, false, this::lindex);
        // Hashes
        add("hset", -4, true, this::hset);
        add("hget", 3, false, this::hget);
        add("hdel", -3, true, this::hdel);
        add("hgetall", 2, false, this::hgetall);
        add("hlen", 2, false, c -> containerSize(c, Values.HASH));
        add("hexists", 3, false, this::hexists);
        add("hincrby", 4, true, this::hincrby);
        // Sets
        add("sadd", -3, true, this::sadd);
        add("srem", -3, true, this::srem);
        add("smembers", 2, false, this::smembers);
        add("sismember", 3, false, this::sismember);
        add("scard", 2, false, c -> containerSize(c, Values.SET));
        add("spop", -2, true, this::spop);
        // Sorted sets
        add("zadd", -4, true, this::zadd);
        add("zscore", 3, false, this::zscore);
        add("zcard", 2, false, c -> containerSize(c, Values.ZSET));
        add("zrange", -4, false, this::zrange);
        add("zrem", -3, true, this::zrem);
        add("zpopmin", -2, true, this::zpopmin);
        // Server
        add("ping", -1, false, this::ping);
        add("echo", 2, false, c -> c.reply.bulk(c.arg(1)));
        add("select", 2, false, this::select);
        add("info", -1, false, this::info);
        add("config", -2, false, this::config);
        add("command", -1, false, this::command);
        add("client", -2, false, this::client);
        add("debug", -2, true, this::debug);
        add("save", 1, false, this::save);
        add("bgsave", -1, false, this::bgsave);
        add("lastsave", 1, false, c -> c.reply.integer(server.lastSave()));
        add("shutdown", -1, false, this::shutdown);
        add("quit", -1, false, c ->
        {
            c.reply.ok();
            c.client.closeAfterReply = true;
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // Strings

    private void get(final Call c)
    {
        final Capability value = typed(c, c.arg(1), Values.STRING, wrong);
        if (wrong[0])
        {
            return;
        }
        if (value == null)
        {
            c.reply.nullBulk();
        }
        else
        {
            c.reply.bulk(values.stringBytes(value));
        }
    }

    /**
     * The core of SET: NX/XX conditions, expiry, GET of the old value.
     *
     * @param expireAt absolute expiry in ms, or 0.
     * @return whether the value was set.
     */
    private boolean setGeneric(final Call c, final byte[] key, final byte[] value, final boolean nx, final boolean xx,
        final boolean keepTtl, final long expireAt, final boolean get)
    {
        final long hash = Mem.hash(key);
        final Capability entry = db.lookup(key, hash, c.now);
        if (get)
        {
            if (entry != null && values.type(db.value(entry)) != Values.STRING)
            {
                c.reply.error(WRONGTYPE);
                return false;
            }
        }
        final byte[] old = get && entry != null ? values.stringBytes(db.value(entry)) : null;
        if ((nx && entry != null) || (xx && entry == null))
        {
            if (get)
            {
                if (old == null)
                {
                    c.reply.nullBulk();
                }
                else
                {
                    c.reply.bulk(old);
                }
            }
            return false;
        }
        final Capability stored = db.setString(key, hash, entry, value, keepTtl);
        if (expireAt != 0)
        {
            db.setExpiry(stored, key, expireAt);
        }
        server.dirty(1);
        if (get)
        {
            if (old == null)
            {
                c.reply.nullBulk();
            }
            else
            {
                c.reply.bulk(old);
            }
        }
        return true;
    }

    private void set(final Call c)
    {
        boolean nx = false;
        boolean xx = false;
        boolean get = false;
        boolean keepTtl = false;
        String unit = null;
        long expire = 0;
        for (int i = 3; i < c.argc(); i++)
        {
            final String option = c.lower(i);
            final boolean hasNext = i + 1 < c.argc();
            switch (option)
            {
                case "nx" ->
                {
                    if (xx)
                    {
                        c.reply.error(SYNTAX);
                        return;
                    }
                    nx = true;
                }
                case "xx" ->
                {
                    if (nx)
                    {
                        c.reply.error(SYNTAX);
                        return;
                    }
                    xx = true;
                }
                case "get" -> get = true;
                case "keepttl" ->
                {
                    if (unit != null)
                    {
                        c.reply.error(SYNTAX);
                        return;
                    }
                    keepTtl = true;
                }
                case "ex", "px", "exat", "pxat" ->
                {
                    if (unit != null || keepTtl || !hasNext)
                    {
                        c.reply.error(SYNTAX);
                        return;
                    }
                    unit = option;
                    final Long value = parseLong(c.arg(++i));
                    if (value == null)
                    {
                        c.reply.error(NOT_INTEGER);
                        return;
                    }
                    expire = value;
                }
                default ->
                {
                    c.reply.error(SYNTAX);
                    return;
                }
            }
        }
        long expireAt = 0;
        if (unit != null)
        {
            final boolean seconds = unit.equals("ex") || unit.equals("exat");
            final boolean relative = unit.equals("ex") || unit.equals("px");
            if (expire <= 0 || (seconds && expire > Long.MAX_VALUE / 1000))
            {
                c.reply.error("ERR invalid expire time in 'set' command");
                return;
            }
            expireAt = seconds ? expire * 1000 : expire;
            if (relative)
            {
                if (expireAt > Long.MAX_VALUE - c.now)
                {
                    c.reply.error("ERR invalid expire time in 'set' command");
                    return;
                }
                expireAt += c.now;
            }
        }
        final boolean done = setGeneric(c, c.arg(1), c.arg(2), nx, xx, keepTtl, expireAt, get);
        if (!get)
        {
            if (done)
            {
                c.reply.ok();
            }
            else
            {
                c.reply.nullBulk();
            }
        }
    }

    private void setex(final Call c)
    {
        final Long seconds = parseLong(c.arg(2));
        if (seconds == null)
        {
            c.reply.error(NOT_INTEGER);
            return;
        }
        if (seconds <= 0 || seconds > Long.MAX_VALUE / 1000 || seconds * 1000 > Long.MAX_VALUE - c.now)
        {
            c.reply.error("ERR invalid expire time in 'setex' command");
            return;
        }
        setGeneric(c, c.arg(1), c.arg(3), false, false, false, c.now + seconds * 1000, false);
        c.reply.ok();
    }

    private void mget(final Call c)
    {
        c.reply.array(c.argc() - 1);
        for (int i = 1; i < c.argc(); i++)
        {
            final Capability entry = db.lookup(c.arg(i), c.now);
            if (entry == null || values.type(db.value(entry)) != Values.STRING)
            {
                c.reply.nullBulk();
            }
            else
            {
                c.reply.bulk(values.stringBytes(db.value(entry)));
            }
        }
    }

    private void mset(final Call c)
    {
        if (c.argc() % 2 == 0)
        {
            c.reply.error("ERR wrong number of arguments for 'mset' command");
            return;
        }
        for (int i = 1; i < c.argc(); i += 2)
        {
            db.put(c.arg(i), values.newString(c.arg(i + 1)), false);
        }
        server.dirty(c.argc() / 2);
        c.reply.ok();
    }

    private void incrByArg(final Call c, final boolean negate)
    {
        final Long by = parseLong(c.arg(2));
        if (by == null)
        {
            c.reply.error(NOT_INTEGER);
            return;
        }
        if (negate && by == Long.MIN_VALUE)
        {
            c.reply.error("ERR decrement would overflow");
            return;
        }
        incrBy(c, negate ? -by : by);
    }

    private void incrBy(final Call c, final long by)
    {
        final byte[] key = c.arg(1);
        final Capability entry = db.lookup(key, c.now);
        long current = 0;
        if (entry != null)
        {
            final Capability value = db.value(entry);
            if (values.type(value) != Values.STRING)
            {
                c.reply.error(WRONGTYPE);
                return;
            }
            final Long parsed = parseLong(values.stringBytes(value));
            if (parsed == null)
            {
                c.reply.error(NOT_INTEGER);
                return;
            }
            current = parsed;
        }
        if ((by < 0 && current < 0 && by < Long.MIN_VALUE - current)
            || (by > 0 && current > 0 && by > Long.MAX_VALUE - current))
        {
            c.reply.error(OVERFLOW);
            return;
        }
        final long next = current + by;
        final byte[] text = Long.toString(next).getBytes(StandardCharsets.US_ASCII);
        if (entry == null)
        {
            db.put(key, values.newString(text), false);
        }
        else
        {
            db.replaceValue(entry, values.newString(text));
        }
        server.dirty(1);
        c.reply.integer(next);
    }

    private void append(final Call c)
    {
        final byte[] key = c.arg(1);
        final Capability entry = db.lookup(key, c.now);
        final byte[] extra = c.arg(2);
        if (entry == null)
        {
            db.put(key, values.newString(extra), false);
            server.dirty(1);
            c.reply.integer(extra.length);
            return;
        }
        final Capability value = db.value(entry);
        if (values.type(value) != Values.STRING)
        {
            c.reply.error(WRONGTYPE);
            return;
        }
        final byte[] old = values.stringBytes(value);
        if ((long)old.length + extra.length > RespParser.MAX_BULK)
        {
            c.reply.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
            return;
        }
        final byte[] joined = Arrays.copyOf(old, old.length + extra.length);
        System.arraycopy(extra, 0, joined, old.length, extra.length);
        db.replaceValue(entry, values.newString(joined));
        server.dirty(1);
        c.reply.integer(joined.length);
    }

    private void strlen(final Call c)
    {
        final Capability value = typed(c, c.arg(1), Values.STRING, wrong);
        if (!wrong[0])
        {
            c.reply.integer(value == null ? 0 : values.stringLength(value));
        }
    }

    private void getrange(final Call c)
    {
        final Long startArg = parseLong(c.arg(2));
        final Long endArg = parseLong(c.arg(3));
        if (startArg == null || endArg == null)
        {
            c.reply.error(NOT_INTEGER);
            return;
        }
        final Capability value = typed(c, c.arg(1), Values.STRING, wrong);
        if (wrong[0])
        {
            return;
        }
        if (value == null)
        {
            c.reply.bulk(new byte[0]);
            return;
        }
        long start = startArg;
        long end = endArg;
        final long length = values.stringLength(value);
        if (start < 0 && end < 0 && start > end)
        {
            c.reply.bulk(new byte[0]);
            return;
        }
        if (start < 0)
        {
            start = length + start;
        }
        if (end < 0)
        {
            end = length + end;
        }
        if (start < 0)
        {
            start = 0;
        }
        if (end < 0)
        {
            end = 0;
        }
        if (end >= length)
        {
            end = length - 1;
        }
        if (start > end || length == 0)
        {
            c.reply.bulk(new byte[0]);
            return;
        }
        c.reply.bulk(values.stringRange(value, start, (int)(end - start + 1)));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Keys

    private void del(final Call c)
    {
        long deleted = 0;
        for (int i = 1; i < c.argc(); i++)
        {
            if (db.lookup(c.arg(i), c.now) != null && db.delete(c.arg(i)))
            {
                deleted++;
            }
        }
        server.dirty(deleted);
        c.reply.integer(deleted);
    }

    private void exists(final Call c)
    {
        long count = 0;
        for (int i = 1; i < c.argc(); i++)
        {
            if (db.lookup(c.arg(i), c.now) != null)
            {
                count++;
            }
        }
        c.reply.integer(count);
    }

    private void expire(final Call c, final long unitMs, final String name)
    {
        final Long amount = parseLong(c.arg(2));
        if (amount == null)
        {
            c.reply.error(NOT_INTEGER);
            return;
        }
        boolean nx = false;
        boolean xx = false;
        boolean gt = false;
        boolean lt = false;
        for (int i = 3; i < c.argc(); i++)
        {
            switch (c.lower(i))
            {
                case "nx" -> nx = true;
                case "xx" -> xx = true;
                case "gt" -> gt = true;
                case "lt" -> lt = true;
                default ->
                {
                    c.reply.error("ERR Unsupported option " + new String(c.arg(i), StandardCharsets.ISO_8859_1));
                    return;
                }
            }
        }
        if (nx && (xx || gt || lt))
        {
            c.reply.error("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if (gt && lt)
        {
            c.reply.error("ERR GT and LT options at the same time are not compatible");
            return;
        }
        final long when;
        if (unitMs == 1000 && (amount > Long.MAX_VALUE / 1000 || amount < Long.MIN_VALUE / 1000))
        {
            c.reply.error("ERR invalid expire time in '" + name + "' command");
            return;
        }
        final long ms = amount * unitMs;
        if ((ms > 0 && ms > Long.MAX_VALUE - c.now) || (ms < 0 && c.now + ms < 0 && ms < Long.MIN_VALUE + c.now))
        {
            c.reply.error("ERR invalid expire time in '" + name + "' command");
            return;
        }
        when = c.now + ms;
        final byte[] key = c.arg(1);
        final Capability entry = db.lookup(key, c.now);
        if (entry == null)
        {
            c.reply.integer(0);
            return;
        }
        final long current = db.expiry(entry);
        if (nx && current != 0 || xx && current == 0)
        {
            c.reply.integer(0);
            return;
        }
        if (gt && (current == 0 || when <= current) || lt && current != 0 && when >= current)
        {
            c.reply.integer(0);
            return;
        }
        if (when <= c.now)
        {
            db.delete(key);
        }
        else
        {
            db.setExpiry(entry, key, when);
        }
        server.dirty(1);
        c.reply.integer(1);
    }

    private void ttl(final Call c, final boolean seconds)
    {
        final Capability entry = db.lookup(c.arg(1), c.now);
        if (entry == null)
        {
            c.reply.integer(-2);
            return;
        }
        final long expiry = db.expiry(entry);
        if (expiry == 0)
        {
            c.reply.integer(-1);
            return;
        }
        final long left = Math.max(0, expiry - c.now);
        c.reply.integer(seconds ? (left + 500) / 1000 : left);
    }

    private void persist(final Call c)
    {
        final Capability entry = db.lookup(c.arg(1), c.now);
        if (entry != null && db.persist(entry, c.arg(1)))
        {
            server.dirty(1);
            c.reply.integer(1);
        }
        else
        {
            c.reply.integer(0);
        }
    }

    static String typeName(final long type)
    {
        return switch ((int)type)
        {
            case 0 -> "string";
            case 1 -> "list";
            case 2 -> "hash";
            case 3 -> "set";
            case 4 -> "zset";
            default -> "none";
        };
    }

    private void type(final Call c)
    {
        final Capability entry = db.lookup(c.arg(1), c.now);
        c.reply.simple(entry == null ? "none" : typeName(values.type(db.value(entry))));
    }

    private void keys(final Call c)
    {
        final byte[] pattern = c.arg(1);
        final boolean all = pattern.length == 1 && pattern[0] == '*';
        final List<byte[]> found = new ArrayList<>();
        db.keys().forEach(entry ->
        {
            final long expiry = memory.loadLong(entry, Dict.EXTRA);
            if (expiry != 0 && expiry <= c.now)
            {
                return;
            }
            final byte[] key = mem.sds(memory.loadCapability(entry, Dict.KEY));
            if (all || Glob.matches(pattern, key))
            {
                found.add(key);
            }
        });
        c.reply.array(found.size());
        for (final byte[] key : found)
        {
            c.reply.bulk(key);
        }
    }

    private void scan(final Call c)
    {
        final byte[] cursorArg = c.arg(1);
        long cursor;
        try
        {
            cursor = Long.parseUnsignedLong(new String(cursorArg, StandardCharsets.ISO_8859_1));
        }
        catch (final NumberFormatException e)
        {
            c.reply.error("ERR invalid cursor");
            return;
        }
        long count = 10;
        byte[] pattern = null;
        String type = null;
        for (int i = 2; i < c.argc(); i += 2)
        {
            final String option = c.lower(i);
            if (i + 1 >= c.argc())
            {
                c.reply.error(SYNTAX);
                return;
            }
            switch (option)
            {
                case "count" ->
                {
                    final Long value = parseLong(c.arg(i + 1));
                    if (value == null)
                    {
                        c.reply.error(NOT_INTEGER);
                        return;
                    }
                    if (value < 1)
                    {
                        c.reply.error(SYNTAX);
                        return;
                    }
                    count = value;
                }
                case "match" -> pattern = c.arg(i + 1);
                case "type" -> type = c.lower(i + 1);
                default ->
                {
                    c.reply.error(SYNTAX);
                    return;
                }
            }
        }
        final List<byte[]> found = new ArrayList<>();
        final byte[] matchPattern = pattern;
        final String matchType = type;
        long steps = 0;
        do
        {
            cursor = db.keys().scan(cursor, entry ->
            {
                final long expiry = memory.loadLong(entry, Dict.EXTRA);
                if (expiry != 0 && expiry <= c.now)
                {
                    return;
                }
                final byte[] key = mem.sds(memory.loadCapability(entry, Dict.KEY));
                if (matchPattern != null && !Glob.matches(matchPattern, key))
                {
                    return;
                }
                if (matchType != null && !typeName(values.type(memory.loadCapability(entry, Dict.VALUE)))
                    .equals(matchType))
                {
                    return;
                }
                found.add(key);
            });
            steps++;
        }
        while (cursor != 0 && steps < count && found.size() < count);
        c.reply.array(2);
        c.reply.bulk(Long.toUnsignedString(cursor));
        c.reply.array(found.size());
        for (final byte[] key : found)
        {
            c.reply.bulk(key);
        }
    }

    private void rename(final Call c)
    {
        final byte[] from = c.arg(1);
        final byte[] to = c.arg(2);
        final Capability entry = db.lookup(from, c.now);
        if (entry == null)
        {
            c.reply.error("ERR no such key");
            return;
        }
        if (Arrays.equals(from, to))
        {
            c.reply.ok();
            return;
        }
        final long expiry = db.expiry(entry);
        // Detach the value so deleting the old key does not free it.
        final Capability value = db.value(entry);
        memory.storeCapability(entry, Dict.VALUE, values.newString(new byte[0]));
        db.delete(from);
        final Capability moved = db.put(to, value, false);
        if (expiry != 0)
        {
            db.setExpiry(moved, to, expiry);
        }
        server.dirty(1);
        c.reply.ok();
    }

    private void randomkey(final Call c)
    {
        final byte[] key = db.randomKey(c.now, random);
        if (key == null)
        {
            c.reply.nullBulk();
        }
        else
        {
            c.reply.bulk(key);
        }
    }

    private void flush(final Call c)
    {
        if (c.argc() > 2 || (c.argc() == 2 && !c.lower(1).equals("async") && !c.lower(1).equals("sync")))
        {
            c.reply.error(SYNTAX);
            return;
        }
        server.dirty(db.size());
        db.flush();
        c.reply.ok();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Lists

    private void push(final Call c, final boolean head)
    {
        final byte[] key = c.arg(1);
        Capability list = typed(c, key, Values.LIST, wrong);
        if (wrong[0])
        {
            return;
        }
        if (list == null)
        {
            list = values.newList();
            db.put(key, list, false);
        }
        for (int i = 2; i < c.argc(); i++)
        {
            values.listPush(list, c.arg(i), head);
        }
        server.dirty(c.argc() - 2);
        c.reply.integer(values.listLength(list));
    }

    private void pop(final Call c, final boolean head)
    {
        if (c.argc() > 3)
        {
            c.reply.error("ERR wrong number of arguments for '" + (head ? "lpop" : "rpop") + "' command");
            return;
        }
        long count = -1;
        if (c.argc() == 3)
        {
            final Long value = parseLong(c.arg(2));
            if (value == null || value < 0)
            {
                c.reply.error(OUT_OF_RANGE_POSITIVE);
                return;
            }
            count = value;
        }
        final byte[] key = c.arg(1);
        final Capability list = typed(c, key, Values.LIST, wrong);
        if (wrong[0])
        {
            return;
        }
        if (list == null)
        {
            if (count >= 0)
            {
                c.reply.nullArray();
            }
            else
            {
                c.reply.nullBulk();
            }
            return;
        }
        if (count < 0)
        {
            c.reply.bulk(values.listPop(list, head));
        }
        else
        {
            final long n = Math.min(count, values.listLength(list));
            c.reply.array(n);
            for (long i = 0; i < n; i++)
            {
                c.reply.bulk(values.listPop(list, head));
            }
        }
        if (values.listLength(list) == 0)
        {
            db.delete(key);
        }
        server.dirty(1);
    }

    private void llen(final Call c)
    {
        final Capability list = typed(c, c.arg(1), Values.LIST, wrong);
        if (!wrong[0])
        {
            c.reply.integer(list == null ? 0 : values.listLength(list));
        }
    }

    private void lrange(final Call c)
    {
        final Long startArg = parseLong(c.arg(2));
        final Long endArg = parseLong(c.arg(3));
        if (startArg == null || endArg == null)
        {
            c.reply.error(NOT_INTEGER);
            return;
        }
        final Capability list = typed(c, c.arg(1), Values.LIST, wrong);
        if (wrong[0])
        {
            return;
        }
        if (list == null)
        {
            c.reply.array(0);
            return;
        }
        final long length = values.listLength(list);
        long start = startArg < 0 ? length + startArg : startArg;
        long end = endArg < 0 ? length + endArg : endArg;
        if (start < 0)
        {
            start = 0;
        }
        if (start > end || start >= length)
        {
            c.reply.array(0);
            return;
        }
        if (end >= length)
        {
            end = length - 1;
        }
        final long n = end - start + 1;
        c.reply.array(n);
        Capability node = values.listNode(list, start);
        for (long i = 0; i < n; i++)
        {
            c.reply.bulk(values.nodeBytes(node));
            node = values.nextNode(node);
        }
    }

    private void lindex(final Call c)
    {
        final Long indexArg = parseLong(c.arg(2));
        if (indexArg == null)
        {
            c.reply.error(NOT_INTEGER);
            return;
        }
        final Capability list = typed(c, c.arg(1), Values.LIST, wrong);
        if (wrong[0])
        {
            return;
        }
        if (list == null)
        {
            c.reply.nullBulk();
            return;
        }
        final long length = values.listLength(list);
        final long index = indexArg < 0 ? length + indexArg : indexArg;
        if (index < 0 || index >= length)
        {
            c.reply.nullBulk();
            return;
        }
        c.reply.bulk(values.nodeBytes(values.listNode(list, index)));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Hashes

    private void containerSize(final Call c, final long type)
    {
        final Capability value = typed(c, c.arg(1), type, wrong);
        if (!wrong[0])
        {
            c.reply.integer(value == null ? 0 : values.dict(value).size());
        }
    }

    private void hset(final Call c)
    {
        if (c.argc() % 2 != 0)
        {
            c.reply.error("ERR wrong number of arguments for 'hset' command");
            return;
        }
        final byte[] key = c.arg(1);
        Capability hash = typed(c, key, Values.HASH, wrong);
        if (wrong[0])
        {
            return;
        }
        if (hash == null)
        {
            hash = values.newHash();
            db.put(key, hash, false);
        }
        final Dict dict = values.dict(hash);
        long added = 0;
        for (int i = 2; i < c.argc(); i += 2)
        {
            final byte[] field = c.arg(i);
            final byte[] value = c.arg(i + 1);
            if (hashPut(hash, dict, field, value))
            {
                added++;
            }
        }
        server.dirty(c.argc() / 2 - 1);
        c.reply.integer(added);
    }

    /** @return whether the field is new. */
    private boolean hashPut(final Capability hash, final Dict dict, final byte[] field, final byte[] value)
    {
        final long hash64 = Mem.hash(field);
        Capability entry = dict.find(field, hash64);
        final boolean added = entry == null;
        if (added)
        {
            entry = dict.insert(mem.newSds(field), hash64);
            memory.storeLong(entry, Dict.EXTRA, db.nextOrder());
        }
        else
        {
            mem.heap.free(memory.loadCapability(entry, Dict.VALUE));
        }
        memory.storeCapability(entry, Dict.VALUE, mem.newSds(value));
        if ((values.flags(hash) & Values.HASH_ORDERED) != 0 && (dict.size() > Values.HASH_MAX_LISTPACK_ENTRIES
            || field.length > Values.HASH_MAX_LISTPACK_VALUE || value.length > Values.HASH_MAX_LISTPACK_VALUE))
        {
            values.setFlags(hash, values.flags(hash) & ~Values.HASH_ORDERED);
        }
        return added;
    }

    private void hget(final Call c)
    {
        final Capability entry = member(c, Values.HASH);
        if (entry != null)
        {
            c.reply.bulk(mem.sds(memory.loadCapability(entry, Dict.VALUE)));
        }
    }

    private void hdel(final Call c)
    {
        removeMembers(c, Values.HASH, freeFieldValue);
    }

    private void hgetall(final Call c)
    {
        final Capability hash = typed(c, c.arg(1), Values.HASH, wrong);
        if (wrong[0])
        {
            return;
        }
        if (hash == null)
        {
            c.reply.array(0);
            return;
        }
        final List<long[]> order = new ArrayList<>();
        final List<byte[][]> pairs = new ArrayList<>();
        values.dict(hash).forEach(entry ->
        {
            order.add(new long[] {memory.loadLong(entry, Dict.EXTRA), pairs.size()});
            pairs.add(new byte[][] {mem.sds(memory.loadCapability(entry, Dict.KEY)),
                mem.sds(memory.loadCapability(entry, Dict.VALUE))});
        });
        if ((values.flags(hash) & Values.HASH_ORDERED) != 0)
        {
            // As small as Redis keeps a listpack: Redis answers in insertion order.
            order.sort((a, b) -> Long.compare(a[0], b[0]));
        }
        c.reply.array(2L * pairs.size());
        for (final long[] o : order)
        {
            final byte[][] pair = pairs.get((int)o[1]);
            c.reply.bulk(pair[0]);
            c.reply.bulk(pair[1]);
        }
    }

    private void hexists(final Call c)
    {
        final Capability hash = typed(c, c.arg(1), Values.HASH, wrong);
        if (!wrong[0])
        {
            c.reply.integer(hash != null && values.dict(hash).find(c.arg(2)) != null ? 1 : 0);
        }
    }

    private void hincrby(final Call c)
    {
        final Long by = parseLong(c.arg(3));
        if (by == null)
        {
            c.reply.error(NOT_INTEGER);
            return;
        }
        final byte[] key = c.arg(1);
        Capability hash = typed(c, key, Values.HASH, wrong);
        if (wrong[0])
        {
            return;
        }
        long current = 0;
        final Capability entry = hash == null ? null : values.dict(hash).find(c.arg(2));
        if (entry != null)
        {
            final Long parsed = parseLong(mem.sds(memory.loadCapability(entry, Dict.VALUE)));
            if (parsed == null)
            {
                c.reply.error("ERR hash value is not an integer");
                return;
            }
            current = parsed;
        }
        if ((by < 0 && current < 0 && by < Long.MIN_VALUE - current)
            || (by > 0 && current > 0 && by > Long.MAX_VALUE - current))
        {
            c.reply.error(OVERFLOW);
            return;
        }
        if (hash == null)
        {
            hash = values.newHash();
            db.put(key, hash, false);
        }
        final long next = current + by;
        hashPut(hash, values.dict(hash), c.arg(2), Long.toString(next).getBytes(StandardCharsets.US_ASCII));
        server.dirty(1);
        c.reply.integer(next);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Sets

    private void sadd(final Call c)
    {
        final byte[] key = c.arg(1);
        Capability set = typed(c, key, Values.SET, wrong);
        if (wrong[0])
        {
            return;
        }
        if (set == null)
        {
            set = values.newSet();
            db.put(key, set, false);
        }
        final Dict dict = values.dict(set);
        long added = 0;
        for (int i = 2; i < c.argc(); i++)
        {
            final long hash = Mem.hash(c.arg(i));
            if (dict.find(c.arg(i), hash) == null)
            {
                dict.insert(mem.newSds(c.arg(i)), hash);
                added++;
            }
        }
        server.dirty(added);
        c.reply.integer(added);
    }

    private void srem(final Call c)
    {
        removeMembers(c, Values.SET, NOTHING_ELSE);
    }

    /** @return the members of a set, ordered as Redis would answer (sorted if Redis would keep an intset). */
    private List<byte[]> setMembers(final Capability set)
    {
        final List<byte[]> members = new ArrayList<>();
        final boolean[] allIntegers = {true};
        values.dict(set).forEach(entry ->
        {
            final byte[] member = mem.sds(memory.loadCapability(entry, Dict.KEY));
            if (allIntegers[0] && parseLong(member) == null)
            {
                allIntegers[0] = false;
            }
            members.add(member);
        });
        if (allIntegers[0] && members.size() <= Values.SET_MAX_INTSET_ENTRIES)
        {
            members.sort((a, b) -> Long.compare(parseLong(a), parseLong(b)));
        }
        return members;
    }

    private void smembers(final Call c)
    {
        final Capability set = typed(c, c.arg(1), Values.SET, wrong);
        if (wrong[0])
        {
            return;
        }
        if (set == null)
        {
            c.reply.array(0);
            return;
        }
        final List<byte[]> members = setMembers(set);
        c.reply.array(members.size());
        for (final byte[] member : members)
        {
            c.reply.bulk(member);
        }
    }

    private void sismember(final Call c)
    {
        final Capability set = typed(c, c.arg(1), Values.SET, wrong);
        if (!wrong[0])
        {
            c.reply.integer(set != null && values.dict(set).find(c.arg(2)) != null ? 1 : 0);
        }
    }

    private void spop(final Call c)
    {
        if (c.argc() > 3)
        {
            c.reply.error(SYNTAX);
            return;
        }
        long count = -1;
        if (c.argc() == 3)
        {
            final Long value = parseLong(c.arg(2));
            if (value == null || value < 0)
            {
                c.reply.error(OUT_OF_RANGE_POSITIVE);
                return;
            }
            count = value;
        }
        final byte[] key = c.arg(1);
        final Capability set = typed(c, key, Values.SET, wrong);
        if (wrong[0])
        {
            return;
        }
        if (set == null)
        {
            if (count >= 0)
            {
                c.reply.array(0);
            }
            else
            {
                c.reply.nullBulk();
            }
            return;
        }
        final Dict dict = values.dict(set);
        final long n = count < 0 ? 1 : Math.min(count, dict.size());
        if (count >= 0)
        {
            c.reply.array(n);
        }
        for (long i = 0; i < n; i++)
        {
            final Capability entry = dict.random(random);
            final byte[] member = mem.sds(memory.loadCapability(entry, Dict.KEY));
            dict.freeEntry(dict.unlink(member, Mem.hash(member)));
            c.reply.bulk(member);
        }
        dict.maybeShrink();
        if (dict.size() == 0)
        {
            db.delete(key);
        }
        server.dirty(n);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Sorted sets

    private static double normalizeZero(final double score)
    {
        return score == 0 ? 0.0 : score;
    }

    private void zadd(final Call c)
    {
        boolean nx = false;
        boolean xx = false;
        boolean gt = false;
        boolean lt = false;
        boolean ch = false;
        boolean incr = false;
        int i = 2;
        for (; i < c.argc(); i++)
        {
            final String option = c.lower(i);
            switch (option)
            {
                case "nx" -> nx = true;
                case "xx" -> xx = true;
                case "gt" -> gt = true;
                case "lt" -> lt = true;
                case "ch" -> ch = true;
                case "incr" -> incr = true;
                default ->
                {
                    break;
                }
            }
            if (!option.equals("nx") && !option.equals("xx") && !option.equals("gt") && !option.equals("lt")
                && !option.equals("ch") && !option.equals("incr"))
            {
                break;
            }
        }
        final int pairs = c.argc() - i;
        if (pairs % 2 != 0 || pairs == 0)
        {
            c.reply.error(SYNTAX);
            return;
        }
        if (nx && xx)
        {
            c.reply.error("ERR XX and NX options at the same time are not compatible");
            return;
        }
        if ((gt && nx) || (lt && nx) || (gt && lt))
        {
            c.reply.error("ERR GT, LT, and/or NX options at the same time are not compatible");
            return;
        }
        if (incr && pairs > 2)
        {
            c.reply.error("ERR INCR option supports a single increment-element pair");
            return;
        }
        final double[] scores = new double[pairs / 2];
        for (int p = 0; p < scores.length; p++)
        {
            final Double score = parseDouble(c.arg(i + 2 * p));
            if (score == null)
            {
                c.reply.error(NOT_FLOAT);
                return;
            }
            scores[p] = normalizeZero(score);
        }
        final byte[] key = c.arg(1);
        Capability zset = typed(c, key, Values.ZSET, wrong);
        if (wrong[0])
        {
            return;
        }
        if (zset == null)
        {
            if (xx)
            {
                if (incr)
                {
                    c.reply.nullBulk();
                }
                else
                {
                    c.reply.integer(0);
                }
                return;
            }
            zset = values.newZSet();
            db.put(key, zset, false);
        }
        final Dict dict = values.dict(zset);
        final SkipList list = values.skipList(zset);
        long added = 0;
        long changed = 0;
        double last = Double.NaN;
        boolean processed = false;
        for (int p = 0; p < scores.length; p++)
        {
            final byte[] member = c.arg(i + 2 * p + 1);
            final long hash = Mem.hash(member);
            double score = scores[p];
            final Capability entry = dict.find(member, hash);
            if (entry != null)
            {
                if (nx)
                {
                    continue;
                }
                final double current = Double.longBitsToDouble(memory.loadLong(entry, Dict.EXTRA));
                if (incr)
                {
                    score = normalizeZero(current + score);
                    if (Double.isNaN(score))
                    {
                        c.reply.error("ERR resulting score is not a number (NaN)");
                        return;
                    }
                }
                if ((gt && score <= current) || (lt && score >= current))
                {
                    continue;
                }
                processed = true;
                last = score;
                if (score != current)
                {
                    final byte[] stored = member;
                    list.delete(current, stored);
                    list.insert(score, memory.loadCapability(entry, Dict.KEY), stored);
                    memory.storeLong(entry, Dict.EXTRA, Double.doubleToRawLongBits(score));
                    changed++;
                }
            }
            else
            {
                if (xx)
                {
                    continue;
                }
                final Capability sds = mem.newSds(member);
                final Capability inserted = dict.insert(sds, hash);
                memory.storeLong(inserted, Dict.EXTRA, Double.doubleToRawLongBits(score));
                list.insert(score, sds, member);
                added++;
                processed = true;
                last = score;
            }
        }
        if (dict.size() == 0)
        {
            db.delete(key);
        }
        server.dirty(added + changed);
        if (incr)
        {
            if (processed)
            {
                c.reply.bulkDouble(last);
            }
            else
            {
                c.reply.nullBulk();
            }
        }
        else
        {
            c.reply.integer(ch ? added + changed : added);
        }
    }

    private void zscore(final Call c)
    {
        final Capability entry = member(c, Values.ZSET);
        if (entry != null)
        {
            c.reply.bulkDouble(Double.longBitsToDouble(memory.loadLong(entry, Dict.EXTRA)));
        }
    }

    private void zrem(final Call c)
    {
        removeMembers(c, Values.ZSET, unlinkScore);
    }

    private void zpopmin(final Call c)
    {
        if (c.argc() > 3)
        {
            c.reply.error(SYNTAX);
            return;
        }
        long count = 1;
        if (c.argc() == 3)
        {
            final Long value = parseLong(c.arg(2));
            if (value == null || value < 0)
            {
                c.reply.error(OUT_OF_RANGE_POSITIVE);
                return;
            }
            count = value;
        }
        final byte[] key = c.arg(1);
        final Capability zset = typed(c, key, Values.ZSET, wrong);
        if (wrong[0])
        {
            return;
        }
        if (zset == null)
        {
            c.reply.array(0);
            return;
        }
        final Dict dict = values.dict(zset);
        final SkipList list = values.skipList(zset);
        final long n = Math.min(count, list.length());
        c.reply.array(2 * n);
        for (long i = 0; i < n; i++)
        {
            final Capability first = list.first();
            final double score = list.score(first);
            final byte[] member = mem.sds(list.member(first));
            list.delete(score, member);
            dict.freeEntry(dict.unlink(member, Mem.hash(member)));
            c.reply.bulk(member);
            c.reply.bulkDouble(score);
        }
        dict.maybeShrink();
        if (dict.size() == 0)
        {
            db.delete(key);
        }
        server.dirty(n);
    }

    /** A score bound of ZRANGE BYSCORE: {@code (x} is exclusive; {@code -inf}/{@code +inf}. */
    private record ScoreBound(double value, boolean exclusive)
    {
    }

    private static ScoreBound parseBound(final byte[] arg)
    {
        if (arg.length > 0 && arg[0] == '(')
        {
            final Double value = parseDouble(Arrays.copyOfRange(arg, 1, arg.length));
            return value == null ? null : new ScoreBound(value, true);
        }
        final Double value = parseDouble(arg);
        return value == null ? null : new ScoreBound(value, false);
    }

    private void zrange(final Call c)
    {
        boolean byScore = false;
        boolean rev = false;
        boolean withScores = false;
        boolean limit = false;
        long offset = 0;
        long limitCount = -1;
        for (int i = 4; i < c.argc(); i++)
        {
            switch (c.lower(i))
            {
                case "withscores" -> withScores = true;
                case "byscore" -> byScore = true;
                case "rev" -> rev = true;
                case "limit" ->
                {
                    if (i + 2 >= c.argc())
                    {
                        c.reply.error(SYNTAX);
                        return;
                    }
                    final Long o = parseLong(c.arg(i + 1));
                    final Long n = parseLong(c.arg(i + 2));
                    if (o == null || n == null)
                    {
                        c.reply.error(NOT_INTEGER);
                        return;
                    }
                    offset = o;
                    limitCount = n;
                    limit = true;
                    i += 2;
                }
                case "bylex" ->
                {
                    c.reply.error("ERR BYLEX is not supported by this server");
                    return;
                }
                default ->
                {
                    c.reply.error(SYNTAX);
                    return;
                }
            }
        }
        if (limit && !byScore)
        {
            c.reply.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }
        final List<Capability> nodes = new ArrayList<>();
        if (byScore)
        {
            final ScoreBound low = parseBound(c.arg(rev ? 3 : 2));
            final ScoreBound high = parseBound(c.arg(rev ? 2 : 3));
            if (low == null || high == null)
            {
                c.reply.error("ERR min or max is not a float");
                return;
            }
            final Capability zset = typed(c, c.arg(1), Values.ZSET, wrong);
            if (wrong[0])
            {
                return;
            }
            if (zset != null)
            {
                final SkipList list = values.skipList(zset);
                final List<Capability> inRange = new ArrayList<>();
                for (Capability node = list.firstInRange(low.value(), low.exclusive()); node != null && node.isTagged();
                    node = list.next(node))
                {
                    final double score = list.score(node);
                    if (high.exclusive() ? score >= high.value() : score > high.value())
                    {
                        break;
                    }
                    inRange.add(node);
                }
                if (rev)
                {
                    java.util.Collections.reverse(inRange);
                }
                long skip = offset < 0 ? inRange.size() : offset;
                for (final Capability node : inRange)
                {
                    if (skip > 0)
                    {
                        skip--;
                        continue;
                    }
                    if (limitCount >= 0 && nodes.size() >= limitCount)
                    {
                        break;
                    }
                    nodes.add(node);
                }
            }
            replyNodes(c, zset == null ? null : values.skipList(zset), nodes, withScores);
            return;
        }
        final Long startArg = parseLong(c.arg(2));
        final Long endArg = parseLong(c.arg(3));
        if (startArg == null || endArg == null)
        {
            c.reply.error(NOT_INTEGER);
            return;
        }
        final Capability zset = typed(c, c.arg(1), Values.ZSET, wrong);
        if (wrong[0])
        {
            return;
        }
        if (zset == null)
        {
            c.reply.array(0);
            return;
        }
        final SkipList list = values.skipList(zset);
        final long length = list.length();
        long start = startArg < 0 ? length + startArg : startArg;
        long end = endArg < 0 ? length + endArg : endArg;
        if (start < 0)
        {
            start = 0;
        }
        if (start > end || start >= length)
        {
            c.reply.array(0);
            return;
        }
        if (end >= length)
        {
            end = length - 1;
        }
        final long n = end - start + 1;
        Capability node = rev ? list.byRank(length - start) : list.byRank(start + 1);
        for (long i = 0; i < n && node != null && node.isTagged(); i++)
        {
            nodes.add(node);
            node = rev ? list.previous(node) : list.next(node);
        }
        replyNodes(c, list, nodes, withScores);
    }

    private void replyNodes(final Call c, final SkipList list, final List<Capability> nodes, final boolean withScores)
    {
        c.reply.array(withScores ? 2L * nodes.size() : nodes.size());
        for (final Capability node : nodes)
        {
            c.reply.bulk(mem.sds(list.member(node)));
            if (withScores)
            {
                c.reply.bulkDouble(list.score(node));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Server

    private void ping(final Call c)
    {
        if (c.argc() > 2)
        {
            c.reply.error("ERR wrong number of arguments for 'ping' command");
        }
        else if (c.argc() == 2)
        {
            c.reply.bulk(c.arg(1));
        }
        else
        {
            c.reply.simple("PONG");
        }
    }

    private void select(final Call c)
    {
        final Long index = parseLong(c.arg(1));
        if (index == null)
        {
            c.reply.error("ERR value is not an integer or out of range");
        }
        else if (index != 0)
        {
            c.reply.error("ERR DB index is out of range");
        }
        else
        {
            c.reply.ok();
        }
    }

    private void info(final Call c)
    {
        final String section = c.argc() >= 2 ? c.lower(1) : "default";
        c.reply.bulk(server.info(section));
    }

    private void config(final Call c)
    {
        final String sub = c.lower(1);
        switch (sub)
        {
            case "get" ->
            {
                if (c.argc() < 3)
                {
                    c.reply.error("ERR wrong number of arguments for 'config|get' command");
                    return;
                }
                final Map<String, String> found = new java.util.LinkedHashMap<>();
                for (int i = 2; i < c.argc(); i++)
                {
                    final byte[] pattern = c.lower(i).getBytes(StandardCharsets.ISO_8859_1);
                    for (final String name : server.configNames())
                    {
                        if (Glob.matchesIgnoreCase(pattern, name.getBytes(StandardCharsets.ISO_8859_1)))
                        {
                            found.put(name, server.configGet(name));
                        }
                    }
                }
                c.reply.array(2L * found.size());
                for (final Map.Entry<String, String> e : found.entrySet())
                {
                    c.reply.bulk(e.getKey());
                    c.reply.bulk(e.getValue());
                }
            }
            case "set" ->
            {
                if (c.argc() < 4 || c.argc() % 2 != 0)
                {
                    c.reply.error("ERR wrong number of arguments for 'config|set' command");
                    return;
                }
                for (int i = 2; i < c.argc(); i += 2)
                {
                    final String error = server.configSet(c.lower(i),
                        new String(c.arg(i + 1), StandardCharsets.ISO_8859_1));
                    if (error != null)
                    {
                        c.reply.error(error);
                        return;
                    }
                }
                c.reply.ok();
            }
            case "resetstat", "rewrite" -> c.reply.ok();
            default -> c.reply.error("ERR unknown subcommand '" + new String(c.arg(1), StandardCharsets.ISO_8859_1)
                + "'. Try CONFIG HELP.");
        }
    }

    private void command(final Call c)
    {
        if (c.argc() == 1)
        {
            c.reply.array(table.size());
            for (final Command command : table.values())
            {
                commandInfo(c.reply, command);
            }
            return;
        }
        switch (c.lower(1))
        {
            case "count" -> c.reply.integer(table.size());
            case "docs" -> c.reply.array(0);
            case "info" ->
            {
                c.reply.array(c.argc() - 2);
                for (int i = 2; i < c.argc(); i++)
                {
                    final Command command = table.get(c.lower(i));
                    if (command == null)
                    {
                        c.reply.nullArray();
                    }
                    else
                    {
                        commandInfo(c.reply, command);
                    }
                }
            }
            default -> c.reply.error("ERR unknown subcommand '" + new String(c.arg(1), StandardCharsets.ISO_8859_1)
                + "'. Try COMMAND HELP.");
        }
    }

    /** COMMAND's entry for a command: name, arity, flags, first key, last key, step, ACL categories, tips, keys. */
    private static void commandInfo(final Reply reply, final Command command)
    {
        reply.array(10);
        reply.bulk(command.name);
        reply.integer(command.arity);
        reply.array(1);
        reply.simple(command.write ? "write" : "readonly");
        reply.integer(0);
        reply.integer(0);
        reply.integer(0);
        reply.array(0);
        reply.array(0);
        reply.array(0);
        reply.array(0);
    }

    private void client(final Call c)
    {
        switch (c.lower(1))
        {
            case "setname" ->
            {
                if (c.argc() != 3)
                {
                    c.reply.error("ERR wrong number of arguments for 'client|setname' command");
                    return;
                }
                final String name = new String(c.arg(2), StandardCharsets.ISO_8859_1);
                for (int i = 0; i < name.length(); i++)
                {
                    if (name.charAt(i) < '!' || name.charAt(i) > '~')
                    {
                        c.reply.error("ERR Client names cannot contain spaces, newlines or special characters.");
                        return;
                    }
                }
                c.client.name = name.isEmpty() ? null : name;
                c.reply.ok();
            }
            case "getname" ->
            {
                if (c.client.name == null)
                {
                    c.reply.nullBulk();
                }
                else
                {
                    c.reply.bulk(c.client.name);
                }
            }
            case "id" -> c.reply.integer(c.client.id);
            default -> c.reply.error("ERR unknown subcommand '" + new String(c.arg(1), StandardCharsets.ISO_8859_1)
                + "'. Try CLIENT HELP.");
        }
    }

    private void debug(final Call c)
    {
        if (!c.lower(1).equals("populate"))
        {
            c.reply.error("ERR DEBUG subcommand not supported by this server; try DEBUG POPULATE");
            return;
        }
        if (c.argc() < 3 || c.argc() > 5)
        {
            c.reply.error("ERR wrong number of arguments for 'debug|populate' command");
            return;
        }
        final Long count = parseLong(c.arg(2));
        if (count == null || count < 0)
        {
            c.reply.error("ERR value is out of range, must be positive");
            return;
        }
        final String prefix = c.argc() >= 4 ? new String(c.arg(3), StandardCharsets.ISO_8859_1) : "key";
        long size = -1;
        if (c.argc() == 5)
        {
            final Long s = parseLong(c.arg(4));
            if (s == null || s < 0)
            {
                c.reply.error("ERR value is out of range, must be positive");
                return;
            }
            size = s;
        }
        for (long i = 0; i < count; i++)
        {
            final byte[] key = (prefix + ":" + i).getBytes(StandardCharsets.ISO_8859_1);
            if (db.lookup(key, c.now) != null)
            {
                continue;
            }
            byte[] value = ("value:" + i).getBytes(StandardCharsets.ISO_8859_1);
            if (size >= 0)
            {
                final byte[] padded = new byte[(int)size];
                System.arraycopy(value, 0, padded, 0, Math.min(value.length, padded.length));
                value = padded;
            }
            db.put(key, values.newString(value), false);
        }
        c.reply.ok();
    }

    private void save(final Call c)
    {
        final String error = server.save();
        if (error == null)
        {
            c.reply.ok();
        }
        else
        {
            c.reply.error(error);
        }
    }

    private void bgsave(final Call c)
    {
        boolean schedule = false;
        if (c.argc() == 2)
        {
            if (!c.lower(1).equals("schedule"))
            {
                c.reply.error(SYNTAX);
                return;
            }
            schedule = true;
        }
        else if (c.argc() > 2)
        {
            c.reply.error(SYNTAX);
            return;
        }
        final String[] error = new String[1];
        final String status = server.bgsave(schedule, error);
        if (status != null)
        {
            c.reply.simple(status);
        }
        else
        {
            c.reply.error(error[0]);
        }
    }

    private void shutdown(final Call c)
    {
        Boolean save = null;
        for (int i = 1; i < c.argc(); i++)
        {
            switch (c.lower(i))
            {
                case "save" -> save = Boolean.TRUE;
                case "nosave" -> save = Boolean.FALSE;
                case "now", "force", "abort" ->
                {
                }
                default ->
                {
                    c.reply.error(SYNTAX);
                    return;
                }
            }
        }
        final String error = server.shutdown(save);
        if (error != null)
        {
            c.reply.error(error);
        }
        else
        {
            c.client.closeAfterReply = true;
        }
    }
}
