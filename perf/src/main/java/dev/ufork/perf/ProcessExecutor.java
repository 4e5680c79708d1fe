package dev.ufork.perf;

import dev.ufork.kernel.Kernel;
import dev.ufork.kernel.KernelConfig;
import dev.ufork.kernel.ProcessContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * An executor whose threads are µprocesses: it boots a kernel and spawns one µprocess per thread, and each runs the
 * submitted tasks on its own thread, so a task may use the µprocess's {@link ProcessContext} (see
 * {@link #context()}) exactly as the µprocess's program would, its confined area included.
 * <p>
 * Why: a µprocess's area is confined to its thread, so a JMH benchmark that measures access through a µprocess's own
 * memory must run its measured loop on that thread. JMH runs its worker loops on an executor of our choosing with
 * {@code -Djmh.executor=CUSTOM -Djmh.executor.class=dev.ufork.perf.ProcessExecutor}, which instantiates this class
 * through its {@code (int, String)} constructor; the benchmark's thread-scoped {@code @Setup} then runs on the
 * µprocess's thread too and takes the context from {@link #context()}.
 * <p>
 * Thread safety: safe for concurrent use. Lifetime: the kernel lives until {@link #awaitTermination} has seen every
 * worker end after {@link #shutdown()}; then it is closed.
 */
public final class ProcessExecutor extends AbstractExecutorService
{
    /** Bytes of each worker µprocess's area. */
    public static final long AREA_BYTES = 1L << 20;

    private static final ThreadLocal<Worker> CURRENT = new ThreadLocal<>();
    private static final Runnable STOP = () ->
    {
    };

    /** The µprocess the current thread is, and its kernel. */
    private record Worker(ProcessContext context, Kernel kernel)
    {
    }

    private final Kernel kernel;
    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final CountDownLatch running;
    private final int workers;
    private volatile boolean shutdown;

    /**
     * Boots a kernel (256 MiB of address space) and starts the worker µprocesses.
     *
     * @param threads how many worker µprocesses, at least 1.
     * @param prefix  a name prefix for the threads (JMH's); unused, the kernel names µprocess threads itself.
     */
    public ProcessExecutor(final int threads, final String prefix)
    {
        if (threads < 1)
        {
            throw new IllegalArgumentException("at least one thread, not " + threads);
        }
        this.workers = threads;
        this.running = new CountDownLatch(threads);
        this.kernel = Kernel.boot(KernelConfig.ofSpace(256L << 20).withAreaSize(AREA_BYTES));
        for (int i = 0; i < threads; i++)
        {
            kernel.spawn(AREA_BYTES, this::work);
        }
    }

    /**
     * @return the context of the µprocess the calling thread is a worker of.
     * @throws IllegalStateException if the calling thread is not a worker of a {@code ProcessExecutor}.
     */
    public static ProcessContext context()
    {
        return current().context();
    }

    /**
     * @return the kernel of the µprocess the calling thread is a worker of.
     * @throws IllegalStateException if the calling thread is not a worker of a {@code ProcessExecutor}.
     */
    public static Kernel kernel()
    {
        return current().kernel();
    }

    private static Worker current()
    {
        final Worker worker = CURRENT.get();
        if (worker == null)
        {
            throw new IllegalStateException(Thread.currentThread() + " is not a µprocess of a ProcessExecutor; run "
                + "JMH with -Djmh.executor=CUSTOM -Djmh.executor.class=" + ProcessExecutor.class.getName());
        }
        return worker;
    }

    /** The program of each worker µprocess: run tasks until told to stop. */
    private void work(final ProcessContext context)
    {
        CURRENT.set(new Worker(context, kernel));
        try
        {
            while (true)
            {
                final Runnable task;
                try
                {
                    task = queue.take();
                }
                catch (final InterruptedException e)
                {
                    // Only shutdownNow interrupts a waiting worker on purpose; anything else, keep serving.
                    if (shutdown && queue.isEmpty())
                    {
                        return;
                    }
                    continue;
                }
                if (task == STOP)
                {
                    return;
                }
                // Tasks come wrapped in futures, which keep their own failures.
                task.run();
            }
        }
        finally
        {
            CURRENT.remove();
            running.countDown();
        }
    }

    @Override
    public void execute(final Runnable command)
    {
        if (command == null)
        {
            throw new NullPointerException("command");
        }
        if (shutdown)
        {
            throw new RejectedExecutionException("executor is shut down");
        }
        queue.add(command);
    }

    @Override
    public void shutdown()
    {
        if (shutdown)
        {
            return;
        }
        shutdown = true;
        for (int i = 0; i < workers; i++)
        {
            queue.add(STOP);
        }
    }

    @Override
    public List<Runnable> shutdownNow()
    {
        shutdown();
        final List<Runnable> drained = new ArrayList<>();
        queue.drainTo(drained);
        final List<Runnable> pending = new ArrayList<>();
        for (final Runnable task : drained)
        {
            if (task == STOP)
            {
                queue.add(STOP);
            }
            else
            {
                pending.add(task);
            }
        }
        return pending;
    }

    @Override
    public boolean isShutdown()
    {
        return shutdown;
    }

    @Override
    public boolean isTerminated()
    {
        return shutdown && running.getCount() == 0;
    }

    @Override
    public boolean awaitTermination(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        if (!running.await(timeout, unit))
        {
            return false;
        }
        // Every worker's program has returned; closing waits for their threads and unmaps the space.
        kernel.close();
        return true;
    }
}
