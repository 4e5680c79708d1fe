package dev.ufork.kernel.relocation;

/** The contract for {@link ScalarRelocator}. */
class ScalarRelocatorTest extends AbstractRelocatorContractTest
{
    @Override
    protected Relocator relocator()
    {
        return new ScalarRelocator();
    }
}
