package dev.ufork.kernel;

/**
 * How strictly the kernel separates µprocesses, after the µFork paper's three levels. Capabilities handed to a
 * µprocess are bounded to its own area at every level; the levels differ in what the kernel checks when it is
 * entered.
 */
public enum IsolationLevel
{
    /**
     * A µprocess may be hostile: every kernel call must come through the µprocess's sealed kernel-entry capability,
     * which the kernel unseals and checks, and kernel services copy buffers in and out before using them.
     */
    ADVERSARIAL,
    /**
     * µprocesses are trusted not to attack but may have bugs: kernel entry is checked as in {@link #ADVERSARIAL},
     * buffers are used in place.
     */
    FAULT_ISOLATION,
    /** No kernel-entry checks: for measuring what isolation costs. */
    OFF
}
