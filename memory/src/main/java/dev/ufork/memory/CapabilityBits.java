package dev.ufork.memory;

/**
 * A reusable holder for the raw contents of one granule: the two words of a capability and its tag, as read by
 * {@link TaggedMemory#loadCapability(long, CapabilityBits)}. Lets hot loops load capabilities without allocating.
 * <p>
 * Thread safety: none; confine an instance to one thread.
 */
public final class CapabilityBits
{
    private long addressWord;
    private long metadataWord;
    private boolean tag;

    void set(final long addressWord, final long metadataWord, final boolean tag)
    {
        this.addressWord = addressWord;
        this.metadataWord = metadataWord;
        this.tag = tag;
    }

    /** @return the low 8 bytes: the capability's address. */
    public long addressWord()
    {
        return addressWord;
    }

    /** @return the high 8 bytes: the encoded metadata. */
    public long metadataWord()
    {
        return metadataWord;
    }

    /** @return the granule's tag. */
    public boolean tag()
    {
        return tag;
    }
}
