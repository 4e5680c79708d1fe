package dev.ufork.kernel;

/**
 * Why a shared page was copied.
 */
public enum PageCopyCause
{
    /** The source (parent) wrote a page a child still shared. */
    PARENT_WRITE,
    /** The child wrote a page it still shared. */
    CHILD_WRITE,
    /** The child loaded a capability from a page it still shared (copy-on-pointer-access). */
    CHILD_CAPABILITY_LOAD,
    /** Any access to a shared page (copy-on-access). */
    ACCESS,
    /** A COPY-mode fork copied the page eagerly, or a COA or COPA child copied its register page as it started. */
    EAGER,
    /** The source µprocess was reaped while a child still shared the page. */
    SOURCE_EXIT
}
