package dev.ufork.kernel.relocation;

import java.util.Locale;

/**
 * Chooses a {@link Relocator} implementation, by default from the system property {@value #PROPERTY}:
 * {@code scalar}, {@code vector} or {@code adaptive} (the default).
 * <p>
 * Without {@code --add-modules jdk.incubator.vector}, {@code adaptive} falls back to {@code scalar} and
 * {@code vector} is refused; the classes that use the Vector API are only loaded when it is present.
 * <p>
 * Thread safety: stateless.
 */
public final class Relocators
{
    /** The system property that selects the implementation. */
    public static final String PROPERTY = "ufork.relocation";

    private static final String VECTOR_MODULE = "jdk.incubator.vector";

    private Relocators()
    {
    }

    /**
     * @return the relocator named by {@value #PROPERTY}, or the adaptive one if it is not set.
     * @throws IllegalArgumentException if the property names no implementation.
     * @throws IllegalStateException    if it names {@code vector} and the Vector API is not available.
     */
    public static Relocator fromSystemProperty()
    {
        return named(System.getProperty(PROPERTY, "adaptive"));
    }

    /**
     * @param name {@code scalar}, {@code vector} or {@code adaptive}, in any case; blank means adaptive.
     * @return a relocator of that kind.
     * @throws IllegalArgumentException if the name is unknown.
     * @throws IllegalStateException    if it is {@code vector} and the Vector API is not available.
     */
    public static Relocator named(final String name)
    {
        final String key = name == null || name.isBlank() ? "adaptive" : name.strip().toLowerCase(Locale.ROOT);
        return switch (key)
        {
            case "scalar" -> new ScalarRelocator();
            case "vector" ->
            {
                if (!vectorAvailable())
                {
                    throw new IllegalStateException(PROPERTY + "=vector needs --add-modules " + VECTOR_MODULE);
                }
                yield VectorHolder.vector();
            }
            case "adaptive" -> vectorAvailable() ? VectorHolder.adaptive() : new ScalarRelocator();
            default -> throw new IllegalArgumentException(
                "unknown " + PROPERTY + " '" + name + "': expected scalar, vector or adaptive");
        };
    }

    /** @return whether the Vector API module is in the boot layer, so the vector kernels can load. */
    public static boolean vectorAvailable()
    {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /** Keeps the references to Vector API users out of this class's own code, so it links without the module. */
    private static final class VectorHolder
    {
        static Relocator vector()
        {
            return new VectorRelocator();
        }

        static Relocator adaptive()
        {
            return new AdaptiveRelocator();
        }
    }
}
