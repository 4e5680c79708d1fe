package dev.ufork.kernel;

/**
 * How a fork gives the child its copy of the parent's area. Every mode gives the same result: each µprocess sees
 * exactly the image it would have seen had the whole area been copied at the fork. They differ in when the copying
 * happens.
 */
public enum CopyMode
{
    /** Copy every page and relocate its capabilities at the fork. The fork costs time in proportion to the area. */
    COPY,
    /** Copy-on-access: a page shared after the fork is copied when either side first touches it (reads included). */
    COA,
    /**
     * Copy-on-pointer-access: a shared page is copied when either side writes it or the child loads a capability
     * from it; plain data reads by the child read the parent's page in place. The default.
     */
    COPA
}
