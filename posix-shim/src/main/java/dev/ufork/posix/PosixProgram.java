package dev.ufork.posix;

/**
 * A program that runs as a µprocess on the POSIX personality: {@code int main()} with libc in hand. Returning is
 * {@code exit(status)}: the {@code atexit} handlers run, the descriptors close, and the parent's {@code waitpid}
 * sees the status. State the program wants a fork to copy lives in its area (through {@link Posix#memory()} and its
 * capabilities), never in Java objects shared with another µprocess.
 */
@FunctionalInterface
public interface PosixProgram
{
    /**
     * @param posix this µprocess's libc.
     * @return the exit status (its low 8 bits are reported).
     */
    int main(Posix posix);
}
