package dev.ufork.kernel;

/**
 * Code that runs as a µprocess. A program keeps its state in its area and its capability registers, reached through
 * its {@link ProcessContext}, never in Java objects shared with its parent: what a fork copies is the area and the
 * registers, so only state kept there is the child's own.
 */
@FunctionalInterface
public interface Program
{
    /**
     * Runs the program; returning is {@code exit(0)}.
     *
     * @param context the µprocess's view of memory, registers and kernel services.
     */
    void run(ProcessContext context);
}
