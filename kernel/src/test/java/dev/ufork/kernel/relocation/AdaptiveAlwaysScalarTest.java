package dev.ufork.kernel.relocation;

import dev.ufork.memory.Geometry;

/** The contract for {@link AdaptiveRelocator} with a threshold no page reaches: every page takes the scalar kernel. */
class AdaptiveAlwaysScalarTest extends AbstractRelocatorContractTest
{
    @Override
    protected Relocator relocator()
    {
        return new AdaptiveRelocator(Geometry.GRANULES_PER_PAGE + 1, Geometry.GRANULES_PER_PAGE + 1);
    }
}
