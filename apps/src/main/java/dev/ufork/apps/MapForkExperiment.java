package dev.ufork.apps;

import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.KernelMetrics;
import dev.ufork.kernel.PageCopyCause;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixProgram;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The demo's first part: a parent µprocess builds the {@link MapWorkload} map, then forks in each copy mode. Per
 * mode, a few children that exit at once time the fork as the parent sees it; then one more child walks its whole
 * copy of the map and checks it, and while that child waits (it tells the parent through a pipe and blocks on
 * another for the go-ahead) the parent reads how many pages were copied for it and how much memory it holds.
 * <p>
 * Page copies are the kernel's counters ({@link KernelMetrics#pageCopies}) summed over causes, read before and after
 * the fork and after the walk. Only the parent and that child are alive, and the parent touches no page of its area
 * meanwhile (it talks to the child through Java arrays, not its memory), so every copy counted is one made for the
 * child.
 * <p>
 * Thread safety: stateless; {@link #run} runs on the parent µprocess's thread. Lifetime: static.
 */
public final class MapForkExperiment
{
    /** Bytes of the child's report: entries visited, bad entries, walk nanoseconds. */
    private static final int REPORT = 3 * Long.BYTES;

    /** Entries in the map of the warm-up. */
    static final long WARMUP_ENTRIES = 4096;

    /** A child that exits at once, for the latency forks. */
    private static final PosixProgram EXIT_AT_ONCE = posix -> 0;
    /** A child that checks its copy of the warm-up's map. */
    private static final PosixProgram CHECK_SMALL_MAP = posix ->
        MapWorkload.walk(posix).verified(WARMUP_ENTRIES) ? 0 : 3;

    /**
     * One copy mode's figures.
     *
     * @param mode                   the copy mode.
     * @param forkMicros             median fork latency as the parent sees it, µs, over every fork in this mode.
     * @param pagesCopiedAtFork      pages copied by the walking child's fork call.
     * @param pagesCopiedByWalk      pages copied between the fork's return and the end of the walk.
     * @param childPrivateBytes      the child's own resident pages after the walk.
     * @param childProportionalBytes its proportional set size after the walk.
     * @param walkSeconds            how long the walk took in the child.
     * @param verifiedEntries        entries the child found intact.
     * @param verified               whether the child found exactly the map its parent built.
     */
    public record ModeResult(CopyMode mode, double forkMicros, long pagesCopiedAtFork, long pagesCopiedByWalk,
        long childPrivateBytes, long childProportionalBytes, double walkSeconds, long verifiedEntries,
        boolean verified)
    {
    }

    /**
     * The whole experiment.
     *
     * @param entries            entries in the map.
     * @param areaBytes          the parent's area.
     * @param bucketCount        the map's buckets.
     * @param buildSeconds       how long the parent took to build the map.
     * @param parentPrivateBytes the parent's resident memory once the map is built.
     * @param modes              one result per copy mode, in the order run.
     */
    public record Report(long entries, long areaBytes, long bucketCount, double buildSeconds,
        long parentPrivateBytes, List<ModeResult> modes)
    {
        /** Copies the list. */
        public Report
        {
            modes = List.copyOf(modes);
        }
    }

    private MapForkExperiment()
    {
    }

    /**
     * Runs the experiment in a new µprocess.
     *
     * @param session      the booted ufork.
     * @param entries      entries in the map.
     * @param latencyForks forks per mode, besides the walking child's, whose latency is timed.
     * @param modes        the copy modes, in the order to run them. Put COPY last: its eager copy reads every page of
     *                     the parent's area, a read of a never-written page maps the zero page there, and
     *                     {@code mincore} counts such pages as resident, so the proportional sizes of the children
     *                     forked after it would count the parent's untouched pages.
     * @return the report.
     * @throws InterruptedException if interrupted.
     */
    public static Report run(final UforkSession session, final long entries, final int latencyForks,
        final List<CopyMode> modes) throws InterruptedException
    {
        final long area = MapWorkload.areaFor(entries);
        final KernelMetrics metrics = session.system().kernel().metrics();
        return session.call(area, posix ->
        {
            final long start = System.nanoTime();
            final CapabilityHashMap map = MapWorkload.build(posix, allocatorOf(posix), entries);
            final double buildSeconds = (System.nanoTime() - start) / 1e9;
            final long parentPrivate = metrics.privateBytes(posix.getpid());
            final List<ModeResult> results = new ArrayList<>();
            for (final CopyMode mode : modes)
            {
                results.add(measureMode(posix, metrics, entries, latencyForks, mode));
            }
            return new Report(entries, area, map.bucketCount(), buildSeconds, parentPrivate, results);
        });
    }

    /**
     * The allocator the map is built with.
     *
     * @param posix the µprocess's libc.
     * @return its allocator.
     */
    static Allocator allocatorOf(final Posix posix)
    {
        return posix::malloc;
    }

    /**
     * Warms the JIT up on the experiment's code paths (building a small map, forking in every mode, children
     * walking it), so that the first measured fork is not the first compiled one: an unwarmed COPY fork of a few
     * MiB takes tens of milliseconds in the interpreter and one in compiled code.
     *
     * @param session the booted ufork.
     * @param seconds how long at least (longer while the JIT is still compiling, see {@link WarmUp}); nothing is
     *                done for 0.
     * @param modes   the copy modes to fork in.
     * @throws InterruptedException if interrupted.
     */
    public static void warmUp(final UforkSession session, final double seconds, final List<CopyMode> modes)
        throws InterruptedException
    {
        if (seconds <= 0)
        {
            return;
        }
        session.call(MapWorkload.areaFor(WARMUP_ENTRIES), posix ->
        {
            MapWorkload.build(posix, allocatorOf(posix), WARMUP_ENTRIES);
            final int[] status = new int[1];
            final WarmUp warmUp = new WarmUp(seconds);
            while (!warmUp.done())
            {
                for (final CopyMode mode : modes)
                {
                    final int child = check(posix, posix.fork(CHECK_SMALL_MAP, mode), "fork");
                    if (reap(posix, child, status) != 0)
                    {
                        throw new IllegalStateException("a " + mode + " child found its copy of the map damaged");
                    }
                }
            }
            return null;
        });
    }

    private static ModeResult measureMode(final Posix posix, final KernelMetrics metrics, final long entries,
        final int latencyForks, final CopyMode mode)
    {
        final double[] latencies = new double[latencyForks + 1];
        final int[] status = new int[1];
        for (int i = 0; i < latencyForks; i++)
        {
            final long t0 = System.nanoTime();
            final int child = posix.fork(EXIT_AT_ONCE, mode);
            latencies[i] = (System.nanoTime() - t0) / 1e3;
            reap(posix, check(posix, child, "fork"), status);
        }
        final int[] up = new int[2];
        final int[] down = new int[2];
        check(posix, posix.pipe(up), "pipe");
        check(posix, posix.pipe(down), "pipe");
        final long before = copies(metrics);
        final long t0 = System.nanoTime();
        final int child = posix.fork(walker(entries, up[0], up[1], down[0], down[1]), mode);
        latencies[latencyForks] = (System.nanoTime() - t0) / 1e3;
        check(posix, child, "fork");
        check(posix, posix.close(up[1]), "close");
        check(posix, posix.close(down[0]), "close");
        final byte[] ready = new byte[1];
        final byte[] report = new byte[REPORT];
        // The child walks only once told to, so the copies counted once it is ready are the fork's and its start's.
        final boolean started = readFully(posix, up[0], ready);
        final long atFork = copies(metrics);
        if (started)
        {
            release(posix, down[1], mode);
        }
        if (!started || !readFully(posix, up[0], report))
        {
            // The child ended before reporting: its wait status says how.
            reap(posix, child, status);
            throw new IllegalStateException("the " + mode + " child ended without reporting");
        }
        final long afterWalk = copies(metrics);
        final long childPrivate = metrics.privateBytes(child);
        final long childProportional = metrics.proportionalBytes(child);
        final ByteBuffer reader = ByteBuffer.wrap(report);
        final long visited = reader.getLong();
        final long bad = reader.getLong();
        final long walkNanos = reader.getLong();
        release(posix, down[1], mode);
        final int exit = reap(posix, child, status);
        check(posix, posix.close(up[0]), "close");
        check(posix, posix.close(down[1]), "close");
        Arrays.sort(latencies);
        final int n = latencies.length;
        final double median = n % 2 == 1 ? latencies[n / 2] : (latencies[n / 2 - 1] + latencies[n / 2]) / 2;
        return new ModeResult(mode, median, atFork - before, afterWalk - atFork, childPrivate, childProportional,
            walkNanos / 1e9, visited - bad, exit == 0 && bad == 0 && visited == entries);
    }

    /**
     * The walking child: waits for a byte on {@code downRead}, checks its copy of the map, reports (entries visited,
     * bad entries, nanoseconds) on {@code upWrite}, waits for another byte, and exits with 0 if the map was intact, 3
     * if not. It talks through Java arrays, so the only pages it touches are the map's.
     * Captures only numbers, as a forked program must.
     */
    private static PosixProgram walker(final long entries, final int upRead, final int upWrite, final int downRead,
        final int downWrite)
    {
        return posix ->
        {
            check(posix, posix.close(upRead), "close");
            check(posix, posix.close(downWrite), "close");
            final byte[] go = {1};
            // Ready: the child copied its register page as it started, and copies nothing more until told to walk.
            if (posix.write(upWrite, go, 0, 1) != 1 || posix.read(downRead, go, 0, 1) != 1)
            {
                return 5;
            }
            final long t0 = System.nanoTime();
            final MapWorkload.Walk walk = MapWorkload.walk(posix);
            final long nanos = System.nanoTime() - t0;
            final byte[] report = ByteBuffer.allocate(REPORT).putLong(walk.visited()).putLong(walk.bad())
                .putLong(nanos).array();
            if (posix.write(upWrite, report, 0, REPORT) != REPORT)
            {
                return 4;
            }
            // Stay alive, holding the copied pages, until the parent has measured them (or has gone).
            posix.read(downRead, go, 0, 1);
            return walk.verified(entries) ? 0 : 3;
        };
    }

    /** Writes the byte a waiting walker child reads to go on. */
    private static void release(final Posix posix, final int fd, final CopyMode mode)
    {
        if (posix.write(fd, new byte[] {1}, 0, 1) != 1)
        {
            throw new IllegalStateException("write to the " + mode + " child failed: " + posix.lastError());
        }
    }

    private static long copies(final KernelMetrics metrics)
    {
        long total = 0;
        for (final PageCopyCause cause : PageCopyCause.values())
        {
            total += metrics.pageCopies(cause);
        }
        return total;
    }

    /** @return the child's exit status. */
    private static int reap(final Posix posix, final int child, final int[] status)
    {
        if (posix.waitpid(child, status, 0) != child)
        {
            throw new IllegalStateException("waitpid(" + child + ") failed: " + posix.lastError());
        }
        if (!Posix.WIFEXITED(status[0]))
        {
            throw new IllegalStateException("child " + child + " ended with " + UforkSession.describe(status[0]));
        }
        return Posix.WEXITSTATUS(status[0]);
    }

    private static boolean readFully(final Posix posix, final int fd, final byte[] into)
    {
        int got = 0;
        while (got < into.length)
        {
            final long n = posix.read(fd, into, got, into.length - got);
            if (n < 0)
            {
                throw new IllegalStateException("read failed: " + posix.lastError());
            }
            if (n == 0)
            {
                return false;
            }
            got += (int)n;
        }
        return true;
    }

    private static int check(final Posix posix, final int result, final String call)
    {
        if (result < 0)
        {
            throw new IllegalStateException(call + " failed: " + posix.lastError());
        }
        return result;
    }
}
