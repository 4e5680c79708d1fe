package dev.ufork.apps.kv;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real redis-server on a free loopback port, for differential tests: the same commands go to it and to ufork's
 * store, and the replies must be the same bytes. The tests need Debian's redis-server (.ci/run installs it); without
 * it they fail and say so. Each server runs in a temporary directory of its own, deleted when it is closed (or fails to
 * start) once the process has exited.
 */
final class RealRedis implements AutoCloseable
{
    private final Process process;
    private final Path dir;
    private final Socket socket;
    private final OutputStream out;
    private final RespReader reader;
    final int port;

    private RealRedis(final Process process, final Path dir, final int port, final Socket socket) throws IOException
    {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.reader = new RespReader(new BufferedInputStream(socket.getInputStream()));
    }

    /** @return the path of redis-server, or a failure that says how to get it. */
    static String executable(final String name)
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":"))
        {
            final Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate))
            {
                return candidate.toString();
            }
        }
        for (final String dir : List.of("/usr/bin", "/usr/local/bin"))
        {
            final Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate))
            {
                return candidate.toString();
            }
        }
        throw new AssertionError(name + " not found: these tests compare with the real Redis tools; install them "
            + "with apt-get install redis-server redis-tools (.ci/run does)");
    }

    static int freePort() throws IOException
    {
        try (ServerSocket s = new ServerSocket(0))
        {
            return s.getLocalPort();
        }
    }

    static RealRedis start() throws IOException, InterruptedException
    {
        return startWith(null);
    }

    /**
     * @param dump an RDB file to load at start, or null for an empty server.
     * @return a running server.
     */
    static RealRedis startWith(final Path dump) throws IOException, InterruptedException
    {
        final Path dir = Files.createTempDirectory("ufork-real-redis");
        Process process = null;
        try
        {
            if (dump != null)
            {
                Files.copy(dump, dir.resolve("dump.rdb"));
            }
            final int port = freePort();
            process = new ProcessBuilder(executable("redis-server"), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--databases", "1",
                "--enable-debug-command", "yes").redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile())
                .start();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true)
            {
                try
                {
                    final Socket socket = new Socket("127.0.0.1", port);
                    final RealRedis redis = new RealRedis(process, dir, port, socket);
                    // PING answers -LOADING while a dump is being read; wait until it is ready.
                    while (new String(redis.call(java.util.List.of("PING".getBytes(StandardCharsets.US_ASCII))),
                        StandardCharsets.US_ASCII).startsWith("-LOADING"))
                    {
                        Thread.sleep(20);
                    }
                    return redis;
                }
                catch (final IOException e)
                {
                    if (System.nanoTime() > deadline || !process.isAlive())
                    {
                        throw new IOException("redis-server did not start on port " + port + ": "
                            + Files.readString(dir.resolve("log")), e);
                    }
                    Thread.sleep(20);
                }
            }
        }
        catch (final Throwable e)
        {
            try
            {
                stop(process, dir);
            }
            catch (final IOException | RuntimeException cleanup)
            {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Sends one command as multibulk and returns the reply's bytes. */
    byte[] call(final List<byte[]> args) throws IOException
    {
        out.write(encode(args));
        out.flush();
        return reader.reply();
    }

    static byte[] encode(final List<byte[]> args)
    {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(("*" + args.size() + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (final byte[] arg : args)
        {
            b.writeBytes(("$" + arg.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            b.writeBytes(arg);
            b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return b.toByteArray();
    }

    Path dir()
    {
        return dir;
    }

    @Override
    public void close() throws IOException
    {
        try
        {
            socket.close();
        }
        finally
        {
            stop(process, dir);
        }
    }

    /**
     * Ends redis-server (if it was started), waits until it has exited (killing it if it does not within 10 s) and
     * then deletes its directory.
     */
    private static void stop(final Process process, final Path dir) throws IOException
    {
        boolean interrupted = false;
        if (process != null)
        {
            process.destroy();
            try
            {
                if (!process.waitFor(10, TimeUnit.SECONDS))
                {
                    process.destroyForcibly();
                }
            }
            catch (final InterruptedException e)
            {
                interrupted = true;
                process.destroyForcibly();
            }
            // Killed at the latest: it exits promptly.
            process.onExit().join();
        }
        try (Stream<Path> paths = Files.walk(dir))
        {
            for (final Path p : paths.sorted(Comparator.reverseOrder()).toList())
            {
                Files.deleteIfExists(p);
            }
        }
        finally
        {
            if (interrupted)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
