package dev.ufork.kernel;

import dev.ufork.capability.Capability;
import dev.ufork.memory.Geometry;
import jdk.jfr.Configuration;
import jdk.jfr.EventType;
import jdk.jfr.Recording;
import jdk.jfr.SettingDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ufork.kernel.ProcessSync.await;
import static dev.ufork.kernel.ProcessSync.page;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's JFR events, recorded in-process with {@link Recording} and read back from the dump:
 * {@code dev.ufork.Fork} with the fork's numbers, {@code dev.ufork.Exit} with the wait status, and
 * {@code dev.ufork.PageCopy}, which is off unless enabled and then matches the page-copy counters cause by cause.
 */
class KernelEventsTest extends KernelTestBase
{
    private static final String FORK = "dev.ufork.Fork";
    private static final String EXIT = "dev.ufork.Exit";
    private static final String PAGE_COPY = "dev.ufork.PageCopy";
    private static final int PAGES = (int)(AREA >>> Geometry.PAGE_SHIFT);
    /** Capabilities in the register file that point into the area: AREA and ENTRIES. */
    private static final int REGISTER_FILE_CAPABILITIES = 2;
    /** Capabilities the parent stores on page 1. */
    private static final int K = 16;


    @TempDir
    Path dir;

    private List<RecordedEvent> stopAndRead(final Recording recording, final String name) throws IOException
    {
        recording.stop();
        final Path file = dir.resolve(name + ".jfr");
        recording.dump(file);
        return RecordingFile.readAllEvents(file);
    }

    private static List<RecordedEvent> named(final List<RecordedEvent> events, final String name)
    {
        final List<RecordedEvent> out = new ArrayList<>();
        for (final RecordedEvent e : events)
        {
            if (e.getEventType().getName().equals(name))
            {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * The parent stores {@link #K} capabilities on page 1 and forks twice; each child at once loads one of them and
     * writes every page, so that anything counted after the child starts would show in the fork's event. The first
     * child exits with 5, the second is killed with SIGKILL.
     *
     * @return the pids: parent, first child, second child.
     */
    private int[] forkTwice(final CopyMode mode)
    {
        final int[] pids = new int[3];
        final int parent = kernel.spawn(AREA, child(ctx ->
        {
            final Capability target = page(ctx, 2);
            for (int i = 0; i < K; i++)
            {
                ctx.memory().storeCapability(page(ctx, 1), 16L * i, target);
            }
            final TestPrograms.Body busy = c ->
            {
                c.memory().loadCapability(page(c, 1), 0);
                for (int p = 1; p < PAGES; p++)
                {
                    c.memory().storeLong(page(c, p), 1024, p);
                }
            };
            pids[1] = ctx.fork(child(c ->
            {
                busy.run(c);
                c.exit(5);
            }), mode);
            assertEquals(new WaitResult(pids[1], WaitStatus.exited(5)), ctx.waitpid(pids[1], 0));
            ProcessSync.armWakeUp(ctx);
            pids[2] = ctx.fork(child(c ->
            {
                busy.run(c);
                while (true)
                {
                    ProcessSync.awaitWakeUp(c);
                }
            }), mode);
            ctx.kill(pids[2], Signal.SIGKILL);
            assertEquals(new WaitResult(pids[2], WaitStatus.signaled(Signal.SIGKILL)), ctx.waitpid(pids[2], 0));
        }));
        pids[0] = parent;
        ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, parent, mode + " forks"), failure, mode + " forks");
        ProcessSync.rethrow(failure, mode + " forks");
        return pids;
    }

    /**
     * Each fork records its parent, child, mode, area size, pages copied at the fork and left shared, capabilities
     * relocated at the fork, and a duration; each exit its pid and wait status. A fork's numbers are the fork's own,
     * whatever the child does as soon as it runs. Regression test: they were read after the child had started.
     */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldRecordEachForkAndExitWithItsNumbers(final CopyMode mode) throws IOException
    {
        final int[] pids;
        final List<RecordedEvent> events;
        try (Recording recording = new Recording())
        {
            recording.enable(FORK);
            recording.enable(EXIT);
            recording.start();
            pids = forkTwice(mode);
            events = stopAndRead(recording, "forks-" + mode);
        }
        final Map<Integer, RecordedEvent> forks = new HashMap<>();
        for (final RecordedEvent e : named(events, FORK))
        {
            forks.put(e.getInt("child"), e);
        }
        assertEquals(2, named(events, FORK).size(), mode + ": fork events " + forks);
        // Under COA and COPA the fork copies nothing: the child copies its own register page before its program
        // runs, on its own thread, and that copy is not the fork's.
        final long copied = mode == CopyMode.COPY ? PAGES : 0;
        final long relocated = mode == CopyMode.COPY ? REGISTER_FILE_CAPABILITIES + K : 0;
        for (int i = 1; i <= 2; i++)
        {
            final RecordedEvent e = forks.get(pids[i]);
            final String what = mode + " fork of " + pids[i] + ": " + e;
            assertTrue(e != null, mode + ": no fork event for child " + pids[i] + " in " + forks);
            assertEquals(pids[0], e.getInt("pid"), what);
            assertEquals(mode.name(), e.getString("mode"), what);
            assertEquals(AREA, e.getLong("areaBytes"), what);
            assertEquals(copied, e.getLong("pagesCopied"), what);
            assertEquals(PAGES - copied, e.getLong("pagesShared"), what);
            assertEquals(relocated, e.getLong("capabilitiesRelocated"), what);
            assertFalse(e.getDuration().isNegative() || e.getDuration().isZero(), what + ": the fork is timed");
        }
        final Map<Integer, Integer> exits = new HashMap<>();
        for (final RecordedEvent e : named(events, EXIT))
        {
            exits.put(e.getInt("pid"), e.getInt("waitStatus"));
        }
        assertEquals(Map.of(pids[0], WaitStatus.exited(0), pids[1], WaitStatus.exited(5), pids[2],
            WaitStatus.signaled(Signal.SIGKILL)), exits, mode + ": exit events");
    }

    /**
     * A fork's event counts the capabilities the fork relocated, not those other µprocesses relocated meanwhile:
     * while one µprocess keeps copying pages full of capabilities, every COPA fork of another reports none (its
     * child relocates its own registers). Regression test: the count was the difference of the kernel-wide total
     * across the fork.
     */
    @Test
    void shouldCountOnlyTheForksOwnRelocationsWhileOthersCopy() throws IOException
    {
        final int rounds = 40;
        final int capabilityPages = 16;
        final AtomicBoolean stop = new AtomicBoolean();
        final CompletableFuture<Void> copying = new CompletableFuture<>();
        final List<RecordedEvent> events;
        final int forker;
        try (Recording recording = new Recording())
        {
            recording.enable(FORK);
            recording.start();
            final int copier = kernel.spawn(AREA, child(ctx ->
            {
                final Capability target = page(ctx, capabilityPages + 1);
                for (int p = 1; p <= capabilityPages; p++)
                {
                    for (int g = 0; g < Geometry.GRANULES_PER_PAGE; g++)
                    {
                        ctx.memory().storeCapability(page(ctx, p), 16L * g, target);
                    }
                }
                ProcessSync.armWakeUp(ctx);
                while (!stop.get())
                {
                    final int c = ctx.fork(child(ProcessSync::awaitWakeUp), CopyMode.COPA);
                    // Each write gives the child its copy of a page of capabilities, relocating all of them.
                    for (int p = 1; p <= capabilityPages; p++)
                    {
                        ctx.memory().storeLong(page(ctx, p), 8, p);
                    }
                    ctx.kill(c, Signal.SIGKILL);
                    ctx.waitpid(c, 0);
                    copying.complete(null);
                }
            }));
            // The forker starts once the copier is in its loop, and the copier goes on until the forker is done.
            await(copying, "the copier's first round");
            forker = kernel.spawn(AREA, child(ctx ->
            {
                for (int i = 0; i < rounds; i++)
                {
                    final int c = ctx.fork(child(g -> g.exit(0)), CopyMode.COPA);
                    ctx.waitpid(c, 0);
                }
            }));
            ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, forker, "forker"), failure, "forker");
            stop.set(true);
            ProcessSync.assertExited(0, TestPrograms.awaitExit(kernel, copier, "copier"), failure, "copier");
            events = stopAndRead(recording, "concurrent");
        }
        ProcessSync.rethrow(failure, "concurrent forks");
        int forkerEvents = 0;
        for (final RecordedEvent e : named(events, FORK))
        {
            // A COPA fork itself copies and relocates nothing (the child copies its register page); a count taken
            // kernel-wide would include the copier's.
            assertEquals(0, e.getLong("capabilitiesRelocated"), "relocations of " + e);
            assertEquals(0, e.getLong("pagesCopied"), "pages copied by " + e);
            forkerEvents += e.getInt("pid") == forker ? 1 : 0;
        }
        assertEquals(rounds, forkerEvents, "fork events of the forker");
        assertTrue(kernel.metrics().pageCopies(PageCopyCause.PARENT_WRITE) > 0, "the copier copied pages");
    }

    /** PageCopy is off by default: in its metadata, and in recordings with the JDK's own configurations. */
    @Test
    void shouldNotRecordPageCopiesUnlessEnabled() throws IOException, ParseException
    {
        final EventType type = EventType.getEventType(PageCopyEvent.class);
        assertEquals(PAGE_COPY, type.getName());
        String enabledByDefault = null;
        for (final SettingDescriptor setting : type.getSettingDescriptors())
        {
            if (setting.getName().equals("enabled"))
            {
                enabledByDefault = setting.getDefaultValue();
            }
        }
        assertEquals("false", enabledByDefault, "the default of PageCopy's enabled setting");
        assertEquals("true", settingDefault(EventType.getEventType(ForkEvent.class), "enabled"), "Fork is on");

        for (final String configuration : new String[] {"default", "profile"})
        {
            final long copiesBefore = totalCopies();
            final List<RecordedEvent> events;
            try (Recording recording = new Recording(Configuration.getConfiguration(configuration)))
            {
                recording.start();
                forkTwice(CopyMode.COPA);
                events = stopAndRead(recording, "default-" + configuration);
            }
            assertTrue(totalCopies() > copiesBefore, "the scenario copies pages");
            assertEquals(List.of(), named(events, PAGE_COPY), configuration + ": PageCopy events");
            assertEquals(2, named(events, FORK).size(), configuration + ": the recording works (fork events)");
        }
    }

    private static String settingDefault(final EventType type, final String name)
    {
        for (final SettingDescriptor setting : type.getSettingDescriptors())
        {
            if (setting.getName().equals(name))
            {
                return setting.getDefaultValue();
            }
        }
        return null;
    }

    private long totalCopies()
    {
        long total = 0;
        for (final PageCopyCause cause : PageCopyCause.values())
        {
            total += kernel.metrics().pageCopies(cause);
        }
        return total;
    }

    /** Enabled, PageCopy records one event per page copy, with the cause the counters count it under. */
    @ParameterizedTest
    @EnumSource(CopyMode.class)
    void shouldRecordEveryPageCopyWithItsCauseWhenEnabled(final CopyMode mode) throws IOException
    {
        final Map<PageCopyCause, Long> before = new EnumMap<>(PageCopyCause.class);
        for (final PageCopyCause cause : PageCopyCause.values())
        {
            before.put(cause, kernel.metrics().pageCopies(cause));
        }
        final List<RecordedEvent> events;
        try (Recording recording = new Recording())
        {
            recording.enable(PAGE_COPY);
            recording.start();
            forkTwice(mode);
            events = stopAndRead(recording, "copies-" + mode);
        }
        final Map<PageCopyCause, AtomicInteger> recorded = new EnumMap<>(PageCopyCause.class);
        for (final RecordedEvent e : named(events, PAGE_COPY))
        {
            recorded.computeIfAbsent(PageCopyCause.valueOf(e.getString("cause")), c -> new AtomicInteger())
                .incrementAndGet();
        }
        long total = 0;
        for (final PageCopyCause cause : PageCopyCause.values())
        {
            final long counted = kernel.metrics().pageCopies(cause) - before.get(cause);
            final AtomicInteger seen = recorded.get(cause);
            assertEquals(counted, seen == null ? 0 : seen.get(), mode + ": PageCopy events for " + cause);
            total += counted;
        }
        assertTrue(total >= 2, mode + ": the scenario copies pages");
    }
}
