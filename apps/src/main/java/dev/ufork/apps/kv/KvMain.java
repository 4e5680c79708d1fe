package dev.ufork.apps.kv;

import dev.ufork.kernel.IsolationLevel;
import dev.ufork.kernel.KernelConfig;
import dev.ufork.memory.AddressSpaceConfig;
import dev.ufork.posix.PosixConfig;
import dev.ufork.posix.PosixSystem;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;

/**
 * {@code ufork kv}: boots a kernel and the POSIX personality, runs {@link KvServer} as a µprocess until SHUTDOWN (or
 * Ctrl-C, which stops it as SHUTDOWN NOSAVE would), and exits with its status.
 * <p>
 * Thread safety: a command-line entry point.
 */
public final class KvMain
{
    private KvMain()
    {
    }

    /**
     * Gives the virtual-thread scheduler at least four carriers unless the user chose a number: the server's poll
     * may hold a carrier while it blocks, and a snapshot child computes on another, so a 2-core machine's default of
     * two leaves no spare. A margin, not a measured gain: 2, 4 and 8 carriers gave the same fork latency on the
     * project's 2-vCPU VMs (docs/performance.md). It only takes effect when no virtual thread has started yet, which
     * is so when {@code ufork kv} starts.
     */
    private static void widenVirtualThreadScheduler()
    {
        final String parallelism = "jdk.virtualThreadScheduler.parallelism";
        if (System.getProperty(parallelism) == null)
        {
            System.setProperty(parallelism,
                Integer.toString(Math.max(4, 2 * Runtime.getRuntime().availableProcessors())));
        }
    }

    /**
     * Runs the server.
     *
     * @param args the arguments after {@code kv}.
     * @param out  where the log goes.
     * @param err  where errors about the arguments go.
     * @return the exit status: 0 after SHUTDOWN, 1 on a fatal error, 2 for bad arguments.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final KvOptions options;
        try
        {
            options = KvOptions.parse(args);
        }
        catch (final IllegalArgumentException e)
        {
            err.println("ufork kv: " + e.getMessage());
            err.print(KvOptions.USAGE);
            return 2;
        }
        if (options == null)
        {
            out.print(KvOptions.USAGE);
            return 0;
        }
        try
        {
            Files.createDirectories(options.dir());
        }
        catch (final IOException e)
        {
            err.println("ufork kv: cannot use --dir " + options.dir() + ": " + e.getMessage());
            return 1;
        }
        widenVirtualThreadScheduler();
        // The keyspace µprocess and one snapshot child at a time, each in an area of --memory bytes, plus slack.
        final long space = Math.max(64L << 30, 4 * Long.highestOneBit(options.areaBytes() * 2 - 1));
        // Keep a reaped snapshot child's memory warm for the next one (up to an area's worth): its pages are then
        // already faulted in, which is what a copy costs most on a VM (see docs/performance.md).
        final KernelConfig kernel = new KernelConfig(AddressSpaceConfig.ofSize(space)
            .withWarmRetain(Math.max(AddressSpaceConfig.defaults().warmRetainBytes(), options.areaBytes())),
            options.forkMode(), options.areaBytes(), IsolationLevel.ADVERSARIAL);
        final KvServer server = new KvServer(options, out);
        final java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        // The server is trusted with the host's file system (as redis-server is): its root is "/" and --dir or
        // CONFIG SET dir name where snapshots go.
        try (PosixSystem system = PosixSystem.boot(PosixConfig.of(kernel, java.nio.file.Path.of("/"))
            .withMaxOpenFiles(10_032)))
        {
            final int pid = system.spawn(options.areaBytes(), server);
            // Ctrl-C: stop as SHUTDOWN NOSAVE does, and let the JVM go only once the server has closed its sockets.
            final Thread hook = new Thread(() ->
            {
                server.stop();
                try
                {
                    finished.await(10, java.util.concurrent.TimeUnit.SECONDS);
                }
                catch (final InterruptedException e)
                {
                    Thread.currentThread().interrupt();
                }
            }, "ufork-kv-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try
            {
                final int status = system.awaitExit(pid);
                finished.countDown();
                return dev.ufork.posix.Posix.WIFEXITED(status) ? dev.ufork.posix.Posix.WEXITSTATUS(status) : 1;
            }
            finally
            {
                try
                {
                    Runtime.getRuntime().removeShutdownHook(hook);
                }
                catch (final IllegalStateException e)
                {
                    // The JVM is already shutting down: the hook has run.
                }
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return 1;
        }
    }
}
