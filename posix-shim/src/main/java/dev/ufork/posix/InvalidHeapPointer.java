package dev.ufork.posix;

/**
 * A pointer handed to {@code free}, {@code realloc} or {@code malloc_usable_size} that {@code malloc} did not return
 * or that was freed already; the message is glibc's for the same mistake ("free(): double free detected"). libc
 * aborts the µprocess with it, or fails a checked call with EINVAL.
 * <p>
 * Thread safety: immutable.
 */
final class InvalidHeapPointer extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    InvalidHeapPointer(final String message)
    {
        super(message, null, false, false);
    }
}
