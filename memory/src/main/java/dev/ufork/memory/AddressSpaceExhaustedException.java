package dev.ufork.memory;

/**
 * No free range of the address space is large enough (and suitably aligned) for a requested area. Nothing was
 * allocated.
 * <p>
 * Thread safety: immutable.
 */
public final class AddressSpaceExhaustedException extends MemoryException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message the request and the state of the space.
     */
    public AddressSpaceExhaustedException(final String message)
    {
        super(message);
    }
}
