package dev.ufork.kernel;

/**
 * Code run in a µprocess when a signal it catches is delivered: on the µprocess's own thread, at the next point
 * where the kernel looks for signals (a kernel call, a blocking wait that the signal interrupts, or
 * {@link ProcessContext#checkSignals()}), with the signal blocked while it runs. Like the program, it keeps its
 * state in the µprocess's memory; a fork gives the child the same handlers.
 */
@FunctionalInterface
public interface SignalHandler
{
    /**
     * @param context the µprocess the signal was delivered to.
     * @param signal  the signal.
     */
    void handle(ProcessContext context, Signal signal);
}
