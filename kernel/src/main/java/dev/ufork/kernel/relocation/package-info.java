/**
 * Pointer relocation for fork (paper §1.4–1.6): rewrites a child's capabilities that point into its parent's area.
 * {@link dev.ufork.kernel.relocation.Relocator} is the contract; {@link dev.ufork.kernel.relocation.Relocators}
 * picks the scalar, vector or adaptive implementation. All {@code jdk.incubator.vector} code of the project lives in
 * this package ({@code VectorRelocator}, {@code AdaptiveRelocator}).
 */
package dev.ufork.kernel.relocation;
