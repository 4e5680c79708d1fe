package dev.ufork.posix;

/**
 * A signal handler installed with {@link Posix#sigaction}: runs on the µprocess's own thread when a signal it
 * catches is delivered (at a libc call, in a blocking call the signal interrupts, or at
 * {@link Posix#checkSignals()}), with the signal blocked meanwhile. A fork gives the child the same handlers; each
 * runs with the libc of the µprocess it is delivered to.
 */
@FunctionalInterface
public interface PosixSignalHandler
{
    /**
     * @param posix  the libc of the µprocess the signal was delivered to.
     * @param signal the signal number.
     */
    void handle(Posix posix, int signal);
}
