package dev.ufork.kernel.relocation;

/** The contract for {@link AdaptiveRelocator} with threshold 0: every page with a tag takes the vector kernel. */
class AdaptiveAlwaysVectorTest extends AbstractRelocatorContractTest
{
    @Override
    protected Relocator relocator()
    {
        return new AdaptiveRelocator(0, 0);
    }
}
