package dev.ufork.memory;

/**
 * An area was used after it was freed, freed twice, or given to an address space that does not own it. The space
 * is unchanged.
 * <p>
 * Thread safety: immutable.
 */
public final class InvalidAreaException extends MemoryException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what was done with which area.
     */
    public InvalidAreaException(final String message)
    {
        super(message);
    }
}
