package dev.ufork.posix;

import dev.ufork.capability.Capability;

/**
 * The constants of the memory calls ({@code <sys/mman.h>}), with their Linux values: {@code mmap} protections and
 * flags, and {@link #MAP_FAILED}.
 * <p>
 * Thread safety: constants only.
 */
public final class Mman
{
    /** Pages may not be accessed: the capability {@code mmap} returns has no load or store permission. */
    public static final int PROT_NONE = 0;
    /** Pages may be read: LOAD and LOAD_CAP. */
    public static final int PROT_READ = 1;
    /** Pages may be written: STORE, STORE_CAP and STORE_LOCAL_CAP. */
    public static final int PROT_WRITE = 2;
    /** Pages may be executed: accepted, but grants nothing (a µprocess runs Java code, no capability executes). */
    public static final int PROT_EXEC = 4;

    /** Share the mapping with other processes (not supported: {@code mmap} fails with EOPNOTSUPP). */
    public static final int MAP_SHARED = 0x01;
    /** A private copy-on-write mapping: the child of a fork gets its own copy. */
    public static final int MAP_PRIVATE = 0x02;
    /** Place the mapping exactly at the address given, replacing what is mapped there. */
    public static final int MAP_FIXED = 0x10;
    /** Memory not backed by a file, zero-filled. The only kind supported. */
    public static final int MAP_ANONYMOUS = 0x20;
    /** Reserve no swap: accepted and ignored (every mapping costs nothing until touched). */
    public static final int MAP_NORESERVE = 0x4000;
    /** Prefault the pages: accepted and ignored (pages are committed when first touched). */
    public static final int MAP_POPULATE = 0x8000;
    /** The mapping is a thread stack: accepted and ignored. */
    public static final int MAP_STACK = 0x20000;
    /** As MAP_FIXED, but fail with EEXIST instead of replacing a mapping. */
    public static final int MAP_FIXED_NOREPLACE = 0x100000;

    /**
     * What {@code mmap} returns on failure, C's {@code (void *) -1}: an untagged capability with address −1. Test
     * with {@code !result.isTagged()} (every success is tagged) or {@code result.equals(MAP_FAILED)}.
     */
    public static final Capability MAP_FAILED = Capability.NULL.withAddress(-1);

    private Mman()
    {
    }
}
