package dev.ufork.kernel.relocation;

/** The contract for {@link VectorRelocator}. */
class VectorRelocatorTest extends AbstractRelocatorContractTest
{
    @Override
    protected Relocator relocator()
    {
        return new VectorRelocator();
    }
}
