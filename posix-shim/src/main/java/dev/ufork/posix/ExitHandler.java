package dev.ufork.posix;

/**
 * A function registered with {@link Posix#atexit(ExitHandler)}: run by {@link Posix#exit(int)} (and by returning
 * from {@code main}), in the reverse order of registration, but not by {@link Posix#_exit(int)}. A fork gives the
 * child the parent's handlers.
 */
@FunctionalInterface
public interface ExitHandler
{
    /** @param posix the exiting µprocess's libc. */
    void run(Posix posix);
}
