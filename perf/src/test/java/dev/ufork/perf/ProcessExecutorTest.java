package dev.ufork.perf;

import dev.ufork.capability.Capability;
import dev.ufork.capability.CapabilityFault;
import dev.ufork.capability.FaultCause;
import dev.ufork.kernel.ProcessContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tasks of a {@link ProcessExecutor} run as its µprocesses, with their confined areas; the kernel goes at the end. */
class ProcessExecutorTest
{
    @Test
    void tasksRunOnTheWorkerMicroProcessAndMayStoreIntoItsArea() throws Exception
    {
        final ProcessExecutor executor = new ProcessExecutor(2, "test");
        final ProcessContext context;
        try
        {
            final AtomicReference<Capability> heap = new AtomicReference<>();
            final Future<ProcessContext> task = executor.submit(() ->
            {
                final ProcessContext ctx = ProcessExecutor.context();
                heap.set(ctx.area().add(4096));
                ctx.memory().storeLong(heap.get(), 0, 42);
                assertEquals(42, ctx.memory().loadLong(heap.get(), 0));
                return ctx;
            });
            context = task.get(1, TimeUnit.MINUTES);
            assertTrue(context.getpid() > 1, "a µprocess, not init: " + context);
            // The reason the executor exists: the µprocess's memory serves its own thread only (the kernel boots with
            // isolation, so another thread's access faults before it reaches the area's confinement).
            final CapabilityFault fault = assertThrows(CapabilityFault.class,
                () -> context.memory().storeLong(heap.get(), 0, 1));
            assertEquals(FaultCause.ISOLATION, fault.faultCause());
        }
        finally
        {
            executor.shutdown();
        }
        assertTrue(executor.awaitTermination(1, TimeUnit.MINUTES));
        assertTrue(executor.isTerminated());
        assertThrows(RejectedExecutionException.class, () -> executor.execute(() ->
        {
        }));
    }

    @Test
    void contextOutsideAWorkerSaysHowToGetOne()
    {
        final IllegalStateException e = assertThrows(IllegalStateException.class, ProcessExecutor::context);
        assertTrue(e.getMessage().contains("-Djmh.executor=CUSTOM"), e.getMessage());
    }

    @Test
    void shutdownNowReturnsTheTasksNotStarted() throws Exception
    {
        final ProcessExecutor executor = new ProcessExecutor(1, "test");
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch started = new CountDownLatch(1);
        executor.execute(() ->
        {
            started.countDown();
            try
            {
                release.await();
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(started.await(1, TimeUnit.MINUTES));
        final Runnable waiting = () ->
        {
        };
        executor.execute(waiting);
        assertEquals(List.of(waiting), executor.shutdownNow());
        release.countDown();
        assertTrue(executor.awaitTermination(1, TimeUnit.MINUTES));
    }
}
