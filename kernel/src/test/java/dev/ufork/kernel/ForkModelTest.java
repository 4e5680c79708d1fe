package dev.ufork.kernel;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fork engine against a reference that copies eagerly: seeded random programs of data and capability stores and
 * loads, copies, pointer chases, register writes, forks, exits and waits across trees of µprocesses, where every
 * load is checked against {@link AreaModel}, a plain byte-and-capability image of the area that a fork deep-copies.
 * Whatever the copy mode, each µprocess must see exactly that image.
 * <ul>
 *   <li><b>Lockstep</b> runs one operation at a time, the µprocess chosen by the seed, so a run replays exactly.</li>
 *   <li><b>Concurrent</b> runs every µprocess freely on its own thread: parents write while children read and fault
 *   the same pages in, forks race with writes elsewhere in the tree. Each µprocess checks its own model, so the
 *   checks need no common order; the seed replays the operations, not the interleaving.</li>
 * </ul>
 * CI runs about 1.1 × 10^5 operations in all. {@code -Dufork.model.ops=N} sets the operations of every run (for
 * long soaks); {@code -Dufork.seed=S} replays a seed printed by a failure.
 */
class ForkModelTest
{
    /** System property: operations per run, instead of the CI defaults. */
    static final String OPS_PROPERTY = "ufork.model.ops";

    private static final long AREA = 64 << 10;
    private static final long SPACE = 256L << 20;
    private static final int MAX_LIVE = 10;

    /** Which copy modes a run's forks use. */
    enum Scheme
    {
        COPY(CopyMode.COPY),
        COA(CopyMode.COA),
        COPA(CopyMode.COPA),
        MIXED(CopyMode.COPY, CopyMode.COA, CopyMode.COPA);

        final CopyMode[] modes;

        Scheme(final CopyMode... modes)
        {
            this.modes = modes;
        }
    }

    private static int ops(final int fallback)
    {
        final String value = System.getProperty(OPS_PROPERTY);
        return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim());
    }

    @ParameterizedTest
    @EnumSource(Scheme.class)
    void lockstepRunsMatchTheEagerModel(final Scheme scheme) throws InterruptedException
    {
        final long seed = TestPrograms.seed(0x5EED_0F0CL + scheme.ordinal());
        try (Kernel kernel = TestPrograms.boot(SPACE, AREA, CopyMode.COPA))
        {
            new Lockstep(kernel, scheme, seed).run(ops(20_000));
        }
    }

    @ParameterizedTest
    @EnumSource(Scheme.class)
    void concurrentRunsMatchTheEagerModel(final Scheme scheme)
    {
        final long seed = TestPrograms.seed(0xC0_0F0CL + scheme.ordinal());
        try (Kernel kernel = TestPrograms.boot(SPACE, AREA, CopyMode.COPA))
        {
            new Concurrent(kernel, scheme, seed).run(ops(8_000));
        }
    }

    /** Checks that a finished run left no µprocess and no area behind. */
    private static void assertNothingLeft(final Kernel kernel, final long areasBefore, final String context)
    {
        TestPrograms.awaitLiveProcesses(kernel, 1, context);
        TestPrograms.awaitCondition(context + ": areas freed (live " + kernel.space().liveAreas() + ", before "
            + areasBefore + ")", () -> kernel.space().liveAreas() == areasBefore);
    }

    // ------------------------------------------------------------------------------------------------------------

    /** One operation at a time; the driver thread picks the µprocess and hands it a turn. */
    private static final class Lockstep
    {
        /** A turn: the seed of the operation, or the order to exit. */
        record Turn(long seed, boolean exit)
        {
        }

        private final Kernel kernel;
        private final long seed;
        private final ModelProcess.Env env;
        private final SynchronousQueue<ModelProcess.Outcome> outcomes = new SynchronousQueue<>();
        private final Map<ModelProcess, SynchronousQueue<Turn>> turns = new ConcurrentHashMap<>();
        private final Deque<String> log = new ArrayDeque<>();

        Lockstep(final Kernel kernel, final Scheme scheme, final long seed)
        {
            this.kernel = kernel;
            this.seed = seed;
            this.env = new ModelProcess.Env(kernel, scheme.modes, MAX_LIVE, true);
        }

        private Program program(final ModelProcess node)
        {
            final SynchronousQueue<Turn> queue = new SynchronousQueue<>();
            turns.put(node, queue);
            return ctx ->
            {
                boolean started = false;
                while (true)
                {
                    final Turn turn;
                    try
                    {
                        turn = queue.take();
                    }
                    catch (final InterruptedException e)
                    {
                        ctx.exit(TestPrograms.FAILED);
                        return;
                    }
                    final SplittableRandom random = new SplittableRandom(turn.seed());
                    ModelProcess.Outcome outcome;
                    try
                    {
                        if (!started)
                        {
                            node.start(ctx);
                            started = true;
                        }
                        outcome = turn.exit() ? new ModelProcess.Exiting(node.finish(random), "exit at the end")
                            : node.step(ctx, random, this::program);
                    }
                    catch (final ProcessTermination t)
                    {
                        throw t;
                    }
                    catch (final Throwable t)
                    {
                        outcome = new ModelProcess.Failed(t, "start failed: " + t);
                    }
                    hand(outcome);
                    if (outcome instanceof ModelProcess.Exiting exiting)
                    {
                        ctx.exit(exiting.status());
                    }
                    if (outcome instanceof ModelProcess.Failed)
                    {
                        ctx.exit(TestPrograms.FAILED);
                    }
                }
            };
        }

        private void hand(final ModelProcess.Outcome outcome)
        {
            try
            {
                if (!outcomes.offer(outcome, TestPrograms.HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS))
                {
                    throw new IllegalStateException("the driver stopped listening");
                }
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        void run(final int operations) throws InterruptedException
        {
            final long areasBefore = kernel.space().liveAreas();
            final SplittableRandom random = TestPrograms.random(seed);
            final ModelProcess root = new ModelProcess(env, null, null);
            env.live.set(1);
            final int rootPid = kernel.spawn(AREA, program(root));
            root.knownAs(rootPid);
            final List<ModelProcess> runnable = new ArrayList<>(List.of(root));
            final AtomicInteger done = new AtomicInteger();
            for (int i = 0; i < operations; i++)
            {
                final ModelProcess node = runnable.get(random.nextInt(runnable.size()));
                final ModelProcess.Outcome outcome = turn(node, new Turn(random.nextLong(), false), i);
                switch (outcome)
                {
                    case ModelProcess.Forked forked -> runnable.add(forked.child());
                    case ModelProcess.Exiting ignored -> runnable.remove(node);
                    default -> done.incrementAndGet();
                }
            }
            // Everyone left exits, in a random order: parents before and after their children.
            while (!runnable.isEmpty())
            {
                final ModelProcess node = runnable.remove(random.nextInt(runnable.size()));
                turn(node, new Turn(random.nextLong(), true), operations);
            }
            final int status = TestPrograms.awaitExit(kernel, rootPid, TestPrograms.replay(seed));
            assertEquals(WaitStatus.exited(root.exitStatus), status, TestPrograms.replay(seed) + ": root status");
            assertNothingLeft(kernel, areasBefore, TestPrograms.replay(seed));
            assertTrue(env.forks.get() > 0, "no fork happened: " + TestPrograms.replay(seed));
            assertEquals(env.forks.get(), kernel.metrics().forks(), TestPrograms.replay(seed));
        }

        private ModelProcess.Outcome turn(final ModelProcess node, final Turn turn, final int index)
            throws InterruptedException
        {
            if (!turns.get(node).offer(turn, TestPrograms.HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS))
            {
                throw failure("µprocess " + node.pid + " did not take its turn", null, index);
            }
            final ModelProcess.Outcome outcome = outcomes.poll(TestPrograms.HANG_GUARD.toMillis(),
                TimeUnit.MILLISECONDS);
            if (outcome == null)
            {
                throw failure("µprocess " + node.pid + " did not finish its turn", null, index);
            }
            if (log.size() == 64)
            {
                log.removeFirst();
            }
            log.addLast("#" + index + " pid " + node.pid + ": " + outcome.text());
            if (outcome instanceof ModelProcess.Failed failed)
            {
                throw failure(failed.text(), failed.cause(), index);
            }
            return outcome;
        }

        private AssertionError failure(final String what, final Throwable cause, final int index)
        {
            return new AssertionError(TestPrograms.replay(seed) + ", operation " + index + ": " + what
                + "\nlast operations:\n" + String.join("\n", log), cause);
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    /** Every µprocess runs its own operations on its own thread at once. */
    private static final class Concurrent
    {
        private final Kernel kernel;
        private final long seed;
        private final ModelProcess.Env env;
        private final AtomicInteger opsLeft = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Concurrent(final Kernel kernel, final Scheme scheme, final long seed)
        {
            this.kernel = kernel;
            this.seed = seed;
            this.env = new ModelProcess.Env(kernel, scheme.modes, MAX_LIVE, false);
        }

        private Program program(final ModelProcess node, final SplittableRandom random)
        {
            // The child's random is split off in the parent's thread, at the fork: the seed fixes every sequence.
            return ctx ->
            {
                try
                {
                    node.start(ctx);
                    final int budget = node.parent == null ? Integer.MAX_VALUE : random.nextInt(3000);
                    for (int i = 0; i < budget && opsLeft.decrementAndGet() > 0; i++)
                    {
                        final ModelProcess.Outcome outcome = node.step(ctx, random,
                            child -> program(child, random.split()));
                        if (outcome instanceof ModelProcess.Failed failed)
                        {
                            throw new AssertionError(failed.text() + "\nlast operations of " + node.pid + ":\n"
                                + node.recentLog(), failed.cause());
                        }
                        if (outcome instanceof ModelProcess.Exiting exiting)
                        {
                            ctx.exit(exiting.status());
                        }
                    }
                    if (node.parent == null || random.nextInt(3) != 0)
                    {
                        node.reapAll(ctx);
                    }
                    ctx.exit(node.finish(random));
                }
                catch (final ProcessTermination t)
                {
                    throw t;
                }
                catch (final Throwable t)
                {
                    failure.compareAndSet(null, t);
                    node.exitStatus = TestPrograms.FAILED;
                    ctx.exit(TestPrograms.FAILED);
                }
            };
        }

        void run(final int operations)
        {
            final long areasBefore = kernel.space().liveAreas();
            opsLeft.set(operations);
            final ModelProcess root = new ModelProcess(env, null, null);
            env.live.set(1);
            final int rootPid = kernel.spawn(AREA, program(root, TestPrograms.random(seed)));
            root.knownAs(rootPid);
            final int status = TestPrograms.awaitExit(kernel, rootPid, TestPrograms.replay(seed));
            if (failure.get() != null)
            {
                throw new AssertionError(TestPrograms.replay(seed) + ": " + failure.get().getMessage(), failure.get());
            }
            assertEquals(WaitStatus.exited(root.exitStatus), status, TestPrograms.replay(seed) + ": root status");
            assertNothingLeft(kernel, areasBefore, TestPrograms.replay(seed));
            assertTrue(env.forks.get() > 0, "no fork happened: " + TestPrograms.replay(seed));
        }
    }
}
