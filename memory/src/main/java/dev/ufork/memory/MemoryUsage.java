package dev.ufork.memory;

/**
 * How much memory a range (an area, or the whole space) occupies.
 *
 * @param reservedBytes  address space set aside for it: costs no physical memory.
 * @param committedBytes bytes of it backed by physical pages right now (resident, measured with {@code mincore}).
 * @param usedBytes      bytes handed out to a live owner: for the whole space, the sizes of the live areas; for
 *                       an area, what its owner last reported with {@link Area#reportUsed(long)}.
 */
public record MemoryUsage(long reservedBytes, long committedBytes, long usedBytes)
{
}
