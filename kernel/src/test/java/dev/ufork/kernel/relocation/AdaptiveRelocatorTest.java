package dev.ufork.kernel.relocation;

/** The contract for {@link AdaptiveRelocator} with its default thresholds. */
class AdaptiveRelocatorTest extends AbstractRelocatorContractTest
{
    @Override
    protected Relocator relocator()
    {
        return new AdaptiveRelocator();
    }
}
