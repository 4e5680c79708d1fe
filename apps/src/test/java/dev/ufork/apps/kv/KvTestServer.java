package dev.ufork.apps.kv;

import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.IsolationLevel;
import dev.ufork.kernel.KernelConfig;
import dev.ufork.memory.AddressSpaceConfig;
import dev.ufork.posix.PosixConfig;
import dev.ufork.posix.PosixSystem;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A {@code ufork kv} server running in the test's JVM (a kernel, the POSIX personality and the server µprocess) on an
 * ephemeral loopback port, with its log kept for failure messages.
 */
final class KvTestServer implements AutoCloseable
{
    private static final Duration START_GUARD = Duration.ofSeconds(60);

    final PosixSystem system;
    final KvServer server;
    final int pid;
    final Path dir;
    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final java.util.concurrent.CompletableFuture<Integer> exit = new java.util.concurrent.CompletableFuture<>();

    KvTestServer(final Path dir, final CopyMode mode, final String save) throws InterruptedException
    {
        this.dir = dir;
        final KvOptions options = new KvOptions(0, "127.0.0.1", dir, "dump.rdb", mode, 256L << 20, save);
        final KernelConfig kernel = new KernelConfig(AddressSpaceConfig.ofSize(4L << 30), mode, 256L << 20,
            IsolationLevel.ADVERSARIAL);
        this.system = PosixSystem.boot(PosixConfig.of(kernel, Path.of("/")).withMaxOpenFiles(1024));
        this.server = new KvServer(options, new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        this.pid = system.spawn(options.areaBytes(), server);
        Thread.ofVirtual().start(() ->
        {
            try
            {
                exit.complete(system.awaitExit(pid));
            }
            catch (final Throwable t)
            {
                exit.completeExceptionally(t);
            }
        });
        final long deadline = System.nanoTime() + START_GUARD.toNanos();
        while (server.port() < 0)
        {
            if (System.nanoTime() > deadline || exit.isDone())
            {
                close();
                throw new AssertionError("ufork kv did not start:\n" + log());
            }
            Thread.sleep(5);
        }
    }

    int port()
    {
        return server.port();
    }

    String log()
    {
        return logBytes.toString(StandardCharsets.UTF_8);
    }

    /** @return the server's exit status once it ended (after SHUTDOWN), within the guard. */
    int awaitExit() throws InterruptedException
    {
        try
        {
            return exit.get(60, TimeUnit.SECONDS);
        }
        catch (final java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e)
        {
            throw new AssertionError("ufork kv did not exit:\n" + log(), e);
        }
    }

    /** @return whether the server µprocess has ended. */
    boolean exited()
    {
        return exit.isDone();
    }

    @Override
    public void close()
    {
        server.stop();
        system.close();
    }
}
