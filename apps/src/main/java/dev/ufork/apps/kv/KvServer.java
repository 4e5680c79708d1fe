package dev.ufork.apps.kv;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityMemory;
import dev.ufork.kernel.Errno;
import dev.ufork.posix.Fcntl;
import dev.ufork.posix.Net;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixProgram;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.invoke.MethodHandles;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The Redis-compatible server: one µprocess holding the whole keyspace in its memory, an event loop over its
 * sockets with {@code poll} (all through the POSIX layer), and snapshots by {@code fork}: the child writes the
 * keyspace as it was at the fork while this µprocess goes on serving.
 * <p>
 * Thread safety: runs on its µprocess's thread; {@link #port()} and {@link #stop()} may be called from any thread.
 */
final class KvServer implements PosixProgram, ServerControl
{
    /** Register c1 holds the keyspace header: the snapshot child finds its (relocated) keyspace there. */
    static final int KEYSPACE_REGISTER = 1;
    /** Forks at start that let the JIT compile the fork path (C2 compiles after some thousands of calls). */
    private static final int WARM_UP_FORKS = 3000;
    /** Snapshots of a scratch keyspace at start, and its size: enough for the JIT to compile the snapshot path. */
    private static final int WARM_UP_SNAPSHOTS = 12;
    private static final int WARM_UP_KEYS = 4000;

    private final KvOptions options;
    private final PrintStream log;
    private volatile int boundPort = -1;
    private volatile boolean stopping;

    private Posix posix;
    private CapabilityMemory memory;
    private Mem mem;
    private Database db;
    private Commands commands;
    private final RespParser parser = new RespParser();
    private final RespParser.Result parsed = new RespParser.Result();
    private final Map<Integer, Client> clients = new HashMap<>();
    /** The poll set, kept between polls: slot 0 is the listening socket, then one slot per client. */
    private int[] pollFds = new int[64];
    private short[] pollEvents = new short[64];
    private short[] pollRevents = new short[64];
    private Client[] pollClients = new Client[64];
    private int pollCount;
    private final SplittableRandom random = new SplittableRandom();
    private final Map<String, String> config = new java.util.LinkedHashMap<>();
    private long nextClientId = 1;
    /** The snapshot directory (CONFIG SET dir changes it); files are named by absolute paths under it. */
    private String dir;
    private int listenFd = -1;

    // Persistence state, as INFO reports it.
    private long dirty;
    private long dirtyAtFork;
    private long lastSave = System.currentTimeMillis() / 1000;
    private boolean lastBgsaveOk = true;
    private int childPid = -1;
    private int childInfoFd = -1;
    private long childStartMs;
    private long latestForkUsec;
    private long lastCowSize;
    private long lastBgsaveTimeSec = -1;
    private long totalForks;
    private long bgsaveScheduled;
    private long totalCommands;
    private long totalConnections;
    private long startMs = System.currentTimeMillis();
    private long lastCronMs;

    KvServer(final KvOptions options, final PrintStream log)
    {
        this.options = options;
        this.log = log;
        config.put("save", options.save());
        config.put("appendonly", "no");
        this.dir = options.dir().toString();
        config.put("dir", dir);
        config.put("dbfilename", options.dbFilename());
        config.put("port", Integer.toString(options.port()));
        config.put("bind", options.bind());
        config.put("databases", "1");
        config.put("maxmemory", "0");
        config.put("stop-writes-on-bgsave-error", "yes");
        config.put("rdbcompression", "no");
        config.put("rdbchecksum", "yes");
    }

    /** @return the port the server listens on, once it does; −1 before. */
    int port()
    {
        return boundPort;
    }

    /** Asks the event loop to stop (as SHUTDOWN NOSAVE) within one cron tick. */
    void stop()
    {
        stopping = true;
    }

    private void log(final String message)
    {
        log.println(posix == null ? message : posix.getpid() + ":M " + message);
        log.flush();
    }

    // ------------------------------------------------------------------------------------------------------------

    @Override
    public int main(final Posix p)
    {
        this.posix = p;
        this.memory = p.memory();
        this.mem = new Mem(memory, new PosixHeap(p));
        this.db = Database.create(mem, new Values(mem));
        this.commands = new Commands(db, this);
        p.context().setRegister(KEYSPACE_REGISTER, db.header());
        warmUpFork();
        warmUpSnapshot();
        try
        {
            load();
        }
        catch (final IOException e)
        {
            log("Fatal error loading the DB: " + e.getMessage() + ". Exiting.");
            return 1;
        }
        if (!listen())
        {
            return 1;
        }
        log("Ready to accept connections on port " + boundPort);
        final int status = loop();
        log("ufork kv is now ready to exit, bye bye...");
        return status;
    }

    /**
     * Forks and reaps trivial children until the JIT has compiled the fork path, before the keyspace is loaded (so
     * each fork is cheap in every mode). A JVM runs a rarely taken path interpreted; a BGSAVE an hour would otherwise
     * pay that on every fork.
     */
    private void warmUpFork()
    {
        final long start = System.nanoTime();
        final int forks = forkAndReap(child -> 0, WARM_UP_FORKS);
        log(String.format("Fork path warmed up: %d forks in %.0f ms", forks, (System.nanoTime() - start) / 1e6));
    }

    /**
     * Forks a child running {@code body} and waits for it, {@code times} times or until a fork fails or a child does
     * not exit with status 0.
     *
     * @return how many children ran and exited with 0.
     */
    private int forkAndReap(final PosixProgram body, final int times)
    {
        final int[] status = new int[1];
        int done = 0;
        for (; done < times; done++)
        {
            final int pid = posix.fork(body, options.forkMode());
            if (pid < 0 || posix.waitpid(pid, status, 0) != pid || status[0] != 0)
            {
                break;
            }
        }
        return done;
    }

    /**
     * Snapshots a scratch keyspace of strings a few times, each in a forked child writing to nowhere, then empties
     * the keyspace again (it is empty before {@link #load}). Without it the first BGSAVEs run the RDB writer, the
     * child's capability loads and the page copies with their vector relocation interpreted, several times slower
     * (a 10k-key BGSAVE took 250–480 ms at first and 30–60 ms once compiled).
     */
    private void warmUpSnapshot()
    {
        final long start = System.nanoTime();
        final Values values = new Values(mem);
        final byte[] value = new byte[100];
        for (int i = 0; i < WARM_UP_KEYS; i++)
        {
            db.put(("warm-up:" + i).getBytes(StandardCharsets.ISO_8859_1), values.newString(value), false);
        }
        final int snapshots = forkAndReap(child ->
        {
            try
            {
                new RdbWriter((bytes, from, length) -> { }).writeAll(snapshotView(child), 0, 0);
                return 0;
            }
            catch (final IOException e)
            {
                return 1;
            }
        }, WARM_UP_SNAPSHOTS);
        db.flush();
        try
        {
            // Loaded and linked now rather than in the first BGSAVE, where it would add to the fork's latency.
            MethodHandles.lookup().ensureInitialized(BgsaveChild.class);
        }
        catch (final IllegalAccessException e)
        {
            throw new IllegalStateException(e);
        }
        log(String.format("Snapshot path warmed up: %d snapshots of %d keys in %.0f ms", snapshots, WARM_UP_KEYS,
            (System.nanoTime() - start) / 1e6));
    }

    /** The keyspace as a forked child sees it: its relocated copy, found through the keyspace register. */
    static Database snapshotView(final Posix child)
    {
        final Mem childMem = new Mem(child.memory(), new RefusingHeap());
        return new Database(childMem, new Values(childMem), child.context().register(KEYSPACE_REGISTER));
    }

    private void load() throws IOException
    {
        final String path = dumpPath();
        final int fd = posix.open(path, Fcntl.O_RDONLY, 0);
        if (fd < 0)
        {
            if (posix.errno() == Errno.ENOENT.code())
            {
                return;
            }
            throw new IOException("cannot open " + path + ": errno " + posix.errno());
        }
        final long start = System.nanoTime();
        try
        {
            final long keys = new RdbReader((buffer, from, length) ->
            {
                final long n = posix.read(fd, buffer, from, length);
                if (n < 0)
                {
                    throw new IOException("read error on " + path + ": errno " + posix.errno());
                }
                return n == 0 ? -1 : (int)n;
            }).readAll(new DatabaseLoader(db), System.currentTimeMillis());
            log(String.format("DB loaded from disk: %.3f seconds (%d keys)", (System.nanoTime() - start) / 1e9, keys));
        }
        finally
        {
            posix.close(fd);
        }
    }

    private boolean listen()
    {
        final int fd = posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0);
        if (fd < 0)
        {
            log("socket failed: errno " + posix.errno());
            return false;
        }
        posix.setsockopt(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
        if (posix.bind(fd, new java.net.InetSocketAddress(options.bind(), options.port())) < 0
            || posix.listen(fd, 511) < 0)
        {
            log("Could not create server TCP listening socket " + options.bind() + ":" + options.port() + ": errno "
                + posix.errno());
            posix.close(fd);
            return false;
        }
        posix.fcntl(fd, Fcntl.F_SETFL, Fcntl.O_NONBLOCK);
        listenFd = fd;
        final java.net.InetSocketAddress[] local = new java.net.InetSocketAddress[1];
        posix.getsockname(fd, local);
        boundPort = local[0].getPort();
        return true;
    }

    // ------------------------------------------------------------------------------------------------------------
    // The event loop

    private int loop()
    {
        pollFds[0] = listenFd;
        pollEvents[0] = Fcntl.POLLIN;
        pollCount = 1;
        while (true)
        {
            // While a snapshot child runs, wake often enough to notice its end within milliseconds.
            final int ready = posix.poll(pollFds, pollEvents, pollRevents, pollCount, childPid > 0 ? 2 : 100);
            if (ready < 0 && posix.errno() != Errno.EINTR.code())
            {
                log("poll failed: errno " + posix.errno());
                return 1;
            }
            if (ready > 0)
            {
                // Clients first, then new connections (accepting appends to the poll set).
                for (int i = 1; i < pollCount; i++)
                {
                    final int revents = pollRevents[i] & 0xFFFF;
                    if (revents != 0 && pollClients[i] != null)
                    {
                        serve(pollClients[i], revents);
                    }
                }
                if (pollRevents[0] != 0)
                {
                    acceptAll();
                }
                compactPollSet();
            }
            if (childPid > 0)
            {
                reapChild();
            }
            final long now = System.currentTimeMillis();
            if (now - lastCronMs >= 100)
            {
                lastCronMs = now;
                cron(now);
            }
            if (stopping)
            {
                return finishShutdown();
            }
        }
    }

    /** Adds a client to the poll set. */
    private void watch(final Client client)
    {
        if (pollCount == pollFds.length)
        {
            final int size = pollFds.length * 2;
            pollFds = java.util.Arrays.copyOf(pollFds, size);
            pollEvents = java.util.Arrays.copyOf(pollEvents, size);
            pollRevents = java.util.Arrays.copyOf(pollRevents, size);
            pollClients = java.util.Arrays.copyOf(pollClients, size);
        }
        client.pollSlot = pollCount;
        pollFds[pollCount] = client.fd;
        pollEvents[pollCount] = Fcntl.POLLIN;
        pollRevents[pollCount] = 0;
        pollClients[pollCount] = client;
        pollCount++;
    }

    /** Drops the slots of closed clients, keeping the others in order. */
    private void compactPollSet()
    {
        int to = 1;
        for (int from = 1; from < pollCount; from++)
        {
            final Client client = pollClients[from];
            if (client == null)
            {
                continue;
            }
            if (to != from)
            {
                pollFds[to] = pollFds[from];
                pollEvents[to] = pollEvents[from];
                pollClients[to] = client;
                client.pollSlot = to;
            }
            to++;
        }
        for (int i = to; i < pollCount; i++)
        {
            pollClients[i] = null;
        }
        pollCount = to;
    }

    private void acceptAll()
    {
        while (true)
        {
            final int fd = posix.accept4(listenFd, (java.net.InetSocketAddress[])null, Net.SOCK_NONBLOCK);
            if (fd < 0)
            {
                if (posix.errno() != Errno.EAGAIN.code())
                {
                    log("accept failed: errno " + posix.errno());
                }
                return;
            }
            posix.setsockopt(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY, 1);
            final Client client = new Client(nextClientId++, fd);
            clients.put(fd, client);
            watch(client);
            totalConnections++;
        }
    }

    private void serve(final Client client, final int revents)
    {
        if ((revents & (Fcntl.POLLIN | Fcntl.POLLHUP | Fcntl.POLLERR)) != 0)
        {
            client.ensureQueryRoom(16 * 1024);
            final long n = posix.read(client.fd, client.query, client.queryEnd, client.query.length - client.queryEnd);
            if (n == 0 || (n < 0 && posix.errno() != Errno.EAGAIN.code()))
            {
                closeClient(client);
                return;
            }
            if (n > 0)
            {
                client.queryEnd += (int)n;
                process(client);
            }
        }
        flush(client);
    }

    /** Parses and executes every complete request in the client's buffer. */
    private void process(final Client client)
    {
        final long now = System.currentTimeMillis();
        while (!client.closeAfterReply && client.queryStart < client.queryEnd)
        {
            try
            {
                parser.parse(client.query, client.queryStart, client.queryEnd, parsed);
            }
            catch (final RespParser.ProtocolException e)
            {
                client.reply.error("ERR " + e.getMessage());
                client.closeAfterReply = true;
                client.queryStart = client.queryEnd;
                break;
            }
            if (parsed.consumed == 0)
            {
                break;
            }
            client.queryStart += parsed.consumed;
            if (parsed.args.isEmpty())
            {
                continue;
            }
            if (refusedWhileMisconfigured(client, parsed.args))
            {
                continue;
            }
            totalCommands++;
            commands.execute(client, parsed.args, now);
        }
        client.compactQuery();
    }

    /** Redis refuses writes after a failed background save while save points are set (MISCONF). */
    private boolean refusedWhileMisconfigured(final Client client, final List<byte[]> args)
    {
        if (lastBgsaveOk || options.save().isEmpty() && config.get("save").isEmpty())
        {
            return false;
        }
        final Commands.Command command = commands.lookup(args.get(0));
        if (command == null || !command.write())
        {
            return false;
        }
        client.reply.error("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
            + "to disk. Commands that may modify the data set are disabled, because this instance is configured to "
            + "report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please "
            + "check the Redis logs for details about the RDB error.");
        return true;
    }

    private void flush(final Client client)
    {
        while (client.reply.pending() > 0)
        {
            final long n = posix.write(client.fd, client.reply.buffer(), client.reply.start(), client.reply.pending());
            if (n < 0)
            {
                if (posix.errno() != Errno.EAGAIN.code())
                {
                    closeClient(client);
                }
                break;
            }
            client.reply.consumed((int)n);
        }
        if (client.closeAfterReply && client.reply.pending() == 0)
        {
            closeClient(client);
            return;
        }
        if (client.pollSlot > 0)
        {
            // Ask for POLLOUT only while replies wait for room in the socket.
            pollEvents[client.pollSlot] = (short)(Fcntl.POLLIN | (client.reply.pending() > 0 ? Fcntl.POLLOUT : 0));
        }
    }

    private void closeClient(final Client client)
    {
        if (clients.remove(client.fd) == null)
        {
            return;
        }
        if (client.pollSlot > 0)
        {
            pollClients[client.pollSlot] = null;
            client.pollSlot = 0;
        }
        posix.close(client.fd);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Cron: expiry, children, save points

    private void cron(final long now)
    {
        db.activeExpire(now, random, 16);
        if (childPid > 0)
        {
            reapChild();
        }
        if (childPid < 0 && bgsaveScheduled > 0)
        {
            bgsaveScheduled = 0;
            startBgsave(new String[1]);
        }
        if (childPid < 0 && dirty > 0)
        {
            final String[] points = config.get("save").trim().split("\\s+");
            for (int i = 0; i + 1 < points.length; i += 2)
            {
                final long seconds = Long.parseLong(points[i]);
                final long changes = Long.parseLong(points[i + 1]);
                if (dirty >= changes && now / 1000 - lastSave >= seconds)
                {
                    log(changes + " changes in " + seconds + " seconds. Saving...");
                    startBgsave(new String[1]);
                    break;
                }
            }
        }
    }

    private void reapChild()
    {
        final int[] status = new int[1];
        final int pid = posix.waitpid(childPid, status, Posix.WNOHANG);
        if (pid <= 0)
        {
            return;
        }
        final byte[] info = new byte[8];
        final long n = posix.read(childInfoFd, info, 0, 8);
        posix.close(childInfoFd);
        childInfoFd = -1;
        childPid = -1;
        lastBgsaveTimeSec = (System.currentTimeMillis() - childStartMs + 500) / 1000;
        if (Posix.WIFEXITED(status[0]) && Posix.WEXITSTATUS(status[0]) == 0)
        {
            lastBgsaveOk = true;
            lastSave = System.currentTimeMillis() / 1000;
            dirty -= dirtyAtFork;
            if (n == 8)
            {
                lastCowSize = java.nio.ByteBuffer.wrap(info).getLong();
            }
            log("Background saving terminated with success");
        }
        else
        {
            lastBgsaveOk = false;
            log("Background saving error");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Persistence

    /** Writes the keyspace to {@code temp-<pid>.rdb}, syncs it, and renames it over the snapshot. */
    private String dumpPath()
    {
        return dir + "/" + options.dbFilename();
    }

    /** Writes the keyspace to {@code temp-<pid>.rdb} in {@code directory}, syncs it, renames it over the dump. */
    static boolean writeSnapshot(final Posix p, final Database view, final String directory,
        final String dbFilename, final long now, final PrintStream log)
    {
        final String temp = directory + "/temp-" + p.getpid() + ".rdb";
        final int fd = p.open(temp, Fcntl.O_WRONLY | Fcntl.O_CREAT | Fcntl.O_TRUNC, 0644);
        if (fd < 0)
        {
            log.println(p.getpid() + ":C Failed opening the temp RDB file " + temp + " (in server root dir): errno "
                + p.errno());
            return false;
        }
        try
        {
            new RdbWriter((bytes, from, length) ->
            {
                int done = 0;
                while (done < length)
                {
                    final long n = p.write(fd, bytes, from + done, length - done);
                    if (n < 0)
                    {
                        throw new IOException("write error: errno " + p.errno());
                    }
                    done += (int)n;
                }
            }).writeAll(view, now, 0);
            if (p.fsync(fd) < 0)
            {
                throw new IOException("fsync error: errno " + p.errno());
            }
        }
        catch (final IOException e)
        {
            log.println(p.getpid() + ":C Write error saving DB on disk: " + e.getMessage());
            p.close(fd);
            p.unlink(temp);
            return false;
        }
        p.close(fd);
        if (p.rename(temp, directory + "/" + dbFilename) < 0)
        {
            log.println(p.getpid() + ":C Error moving temp DB file " + temp + " on the final destination " + dbFilename
                + ": errno " + p.errno());
            p.unlink(temp);
            return false;
        }
        return true;
    }

    @Override
    public String save()
    {
        if (childPid > 0)
        {
            return "ERR Background save already in progress";
        }
        if (!writeSnapshot(posix, db, dir, options.dbFilename(), System.currentTimeMillis(), log))
        {
            lastBgsaveOk = false;
            return "ERR";
        }
        log("DB saved on disk");
        dirty = 0;
        lastSave = System.currentTimeMillis() / 1000;
        lastBgsaveOk = true;
        return null;
    }

    @Override
    public String bgsave(final boolean schedule, final String[] error)
    {
        if (childPid > 0)
        {
            if (schedule)
            {
                bgsaveScheduled = 1;
                return "Background saving scheduled";
            }
            error[0] = "ERR Background save already in progress";
            return null;
        }
        if (!startBgsave(error))
        {
            return null;
        }
        return "Background saving started";
    }

    private boolean startBgsave(final String[] error)
    {
        final int[] pipe = new int[2];
        if (posix.pipe(pipe) < 0)
        {
            error[0] = "ERR Can't open the pipe for the child's report: errno " + posix.errno();
            return false;
        }
        final int reportFd = pipe[1];
        // The child waits for end of file on this pipe, which comes when the parent closes its write end after fork
        // has returned: the parent runs first (Linux's default too). On a small machine whose scheduler puts the new
        // child's thread on the parent's CPU (this project's VMs pack threads onto few vCPUs), a child that started
        // serialising at once would take that CPU away in the middle of the fork; see docs/performance.md.
        final int[] go = new int[2];
        if (posix.pipe(go) < 0)
        {
            posix.close(pipe[0]);
            posix.close(pipe[1]);
            error[0] = "ERR Can't open the pipe for the child's start: errno " + posix.errno();
            return false;
        }
        final long forkTime = System.currentTimeMillis();
        final BgsaveChild program = new BgsaveChild(pipe, go, dir, options.dbFilename(), forkTime, log);
        final long started = System.nanoTime();
        final int pid = posix.fork(program, options.forkMode());
        latestForkUsec = (System.nanoTime() - started) / 1000;
        posix.close(go[0]);
        posix.close(go[1]);
        posix.close(reportFd);
        if (pid < 0)
        {
            posix.close(pipe[0]);
            lastBgsaveOk = false;
            error[0] = "ERR Can't fork: errno " + posix.errno();
            return false;
        }
        posix.fcntl(pipe[0], Fcntl.F_SETFL, Fcntl.O_NONBLOCK);
        totalForks++;
        childPid = pid;
        childInfoFd = pipe[0];
        childStartMs = forkTime;
        dirtyAtFork = dirty;
        log("Background saving started by pid " + pid);
        return true;
    }

    @Override
    public long lastSave()
    {
        return lastSave;
    }

    @Override
    public String shutdown(final Boolean save)
    {
        final boolean doSave = save == null ? !config.get("save").isEmpty() : save;
        if (childPid > 0)
        {
            posix.kill(childPid, 9);
            posix.waitpid(childPid, (int[])null, 0);
            posix.unlink(dir + "/temp-" + childPid + ".rdb");
            childPid = -1;
        }
        if (doSave && save() != null)
        {
            return "ERR Errors trying to SHUTDOWN. Check logs.";
        }
        stopping = true;
        return null;
    }

    private int finishShutdown()
    {
        for (final Client client : new ArrayList<>(clients.values()))
        {
            flush(client);
            closeClient(client);
        }
        if (childPid > 0)
        {
            posix.kill(childPid, 9);
            posix.waitpid(childPid, (int[])null, 0);
        }
        posix.close(listenFd);
        return 0;
    }

    @Override
    public void dirty(final long changes)
    {
        dirty += changes;
    }

    // ------------------------------------------------------------------------------------------------------------
    // CONFIG and INFO

    @Override
    public String configGet(final String name)
    {
        return config.get(name);
    }

    @Override
    public Iterable<String> configNames()
    {
        return config.keySet();
    }

    @Override
    public String configSet(final String name, final String value)
    {
        switch (name)
        {
            case "save" ->
            {
                try
                {
                    config.put("save", KvOptions.checkSave(value));
                }
                catch (final IllegalArgumentException e)
                {
                    return "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters";
                }
                return null;
            }
            case "appendonly", "stop-writes-on-bgsave-error", "rdbcompression", "rdbchecksum", "maxmemory" ->
            {
                config.put(name, value);
                return null;
            }
            case "dir" ->
            {
                final dev.ufork.posix.Stat stat = value.startsWith("/") ? posix.stat(value) : null;
                if (stat == null || !dev.ufork.posix.Stat.S_ISDIR(stat.mode()))
                {
                    return "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory";
                }
                dir = value.length() > 1 && value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
                config.put("dir", dir);
                return null;
            }
            default ->
            {
                return "ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'";
            }
        }
    }

    @Override
    public String info(final String section)
    {
        final boolean all = section.equals("all") || section.equals("everything") || section.equals("default");
        final StringBuilder s = new StringBuilder();
        if (all || section.equals("server"))
        {
            s.append("# Server\r\n")
                .append("redis_version:7.0.15\r\n")
                .append("ufork_version:0.1.0\r\n")
                .append("redis_mode:standalone\r\n")
                .append("os:ufork µprocess on the JVM\r\n")
                .append("arch_bits:64\r\n")
                .append("process_id:").append(posix.getpid()).append("\r\n")
                .append("tcp_port:").append(boundPort).append("\r\n")
                .append("uptime_in_seconds:").append((System.currentTimeMillis() - startMs) / 1000).append("\r\n")
                .append("hz:10\r\n\r\n");
        }
        if (all || section.equals("clients"))
        {
            s.append("# Clients\r\n").append("connected_clients:").append(clients.size()).append("\r\n\r\n");
        }
        if (all || section.equals("memory"))
        {
            final long used = posix.context().privateBytes();
            s.append("# Memory\r\n").append("used_memory:").append(used).append("\r\n")
                .append("used_memory_human:").append(String.format("%.2fM", used / 1048576.0)).append("\r\n\r\n");
        }
        if (all || section.equals("persistence"))
        {
            s.append("# Persistence\r\n")
                .append("loading:0\r\n")
                .append("rdb_changes_since_last_save:").append(dirty).append("\r\n")
                .append("rdb_bgsave_in_progress:").append(childPid > 0 ? 1 : 0).append("\r\n")
                .append("rdb_last_save_time:").append(lastSave).append("\r\n")
                .append("rdb_last_bgsave_status:").append(lastBgsaveOk ? "ok" : "err").append("\r\n")
                .append("rdb_last_bgsave_time_sec:").append(lastBgsaveTimeSec).append("\r\n")
                .append("rdb_current_bgsave_time_sec:")
                .append(childPid > 0 ? (System.currentTimeMillis() - childStartMs) / 1000 : -1).append("\r\n")
                .append("rdb_last_cow_size:").append(lastCowSize).append("\r\n")
                .append("aof_enabled:0\r\n")
                .append("aof_rewrite_in_progress:0\r\n\r\n");
        }
        if (all || section.equals("stats"))
        {
            s.append("# Stats\r\n")
                .append("total_connections_received:").append(totalConnections).append("\r\n")
                .append("total_commands_processed:").append(totalCommands).append("\r\n")
                .append("expired_keys:").append(db.expiredKeys()).append("\r\n")
                .append("latest_fork_usec:").append(latestForkUsec).append("\r\n")
                .append("total_forks:").append(totalForks).append("\r\n\r\n");
        }
        if (all || section.equals("replication"))
        {
            s.append("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n");
        }
        if (all || section.equals("keyspace"))
        {
            s.append("# Keyspace\r\n");
            if (db.size() > 0)
            {
                s.append("db0:keys=").append(db.size()).append(",expires=").append(db.volatileKeys())
                    .append(",avg_ttl=0\r\n");
            }
        }
        return s.toString();
    }

    /** The snapshot child reads the keyspace and never allocates in it. */
    private static final class RefusingHeap implements KvHeap
    {
        @Override
        public Capability allocate(final long size)
        {
            throw new IllegalStateException("the snapshot child must not allocate in the keyspace");
        }

        @Override
        public void free(final Capability block)
        {
            throw new IllegalStateException("the snapshot child must not free in the keyspace");
        }
    }
}
