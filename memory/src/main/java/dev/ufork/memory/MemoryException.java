package dev.ufork.memory;

/**
 * Base of every typed error the memory layer reports. When one is thrown, the address space is unchanged:
 * the failed operation had no effect.
 * <p>
 * Thread safety: immutable once thrown.
 */
public abstract class MemoryException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong, with the values involved.
     */
    protected MemoryException(final String message)
    {
        super(message);
    }
}
