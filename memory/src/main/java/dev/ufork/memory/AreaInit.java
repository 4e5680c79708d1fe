package dev.ufork.memory;

/**
 * What a newly allocated area's bytes must hold. Tags are always clear.
 */
public enum AreaInit
{
    /** Every byte reads as zero, as a fresh process image needs. */
    ZEROED,
    /**
     * The bytes are unspecified (they may be an earlier owner's data), for a caller that overwrites all of them
     * before anyone reads them, such as a fork that copies the parent in. Cheaper: recycled memory is not zeroed.
     */
    UNINITIALIZED
}
