package dev.ufork.kernel.relocation;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Selecting an implementation by name and system property. */
class RelocatorsTest
{
    @Test
    void shouldSelectByName()
    {
        assertTrue(Relocators.vectorAvailable(), "the tests run with --add-modules jdk.incubator.vector");
        assertInstanceOf(ScalarRelocator.class, Relocators.named("scalar"));
        assertInstanceOf(VectorRelocator.class, Relocators.named(" Vector "));
        assertInstanceOf(AdaptiveRelocator.class, Relocators.named("ADAPTIVE"));
        assertInstanceOf(AdaptiveRelocator.class, Relocators.named(""));
        assertInstanceOf(AdaptiveRelocator.class, Relocators.named(null));
        assertThrows(IllegalArgumentException.class, () -> Relocators.named("simd"));
    }

    @Test
    void shouldDefaultToAdaptiveWhenThePropertyIsUnset()
    {
        final String set = System.getProperty(Relocators.PROPERTY);
        final Relocator relocator = Relocators.fromSystemProperty();
        if (set == null)
        {
            assertInstanceOf(AdaptiveRelocator.class, relocator);
        }
        else
        {
            assertEquals(Relocators.named(set).getClass(), relocator.getClass());
        }
    }

    @Test
    void adaptiveShouldRejectNegativeThresholds()
    {
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveRelocator(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveRelocator(0, -1));
    }
}
