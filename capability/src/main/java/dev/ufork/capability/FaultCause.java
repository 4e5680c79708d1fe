package dev.ufork.capability;

/**
 * Why a checked access through a capability failed, in CHERI ISAv9 priority order: when several checks fail, the
 * fault reports the one listed first here. Each cause carries its CHERI-RISC-V exception cause code so that tests
 * and logs can cite the specification.
 * <p>
 * Thread safety: immutable.
 */
public enum FaultCause
{
    /** The authority's tag is clear: it is not a valid capability. */
    TAG(0x02),
    /** The authority is sealed (or a sentry), so it cannot be dereferenced. */
    SEAL(0x03),
    /** Loading data needs the LOAD permission. */
    PERMIT_LOAD(0x12),
    /** Storing data needs the STORE permission. */
    PERMIT_STORE(0x13),
    /** Storing a tagged capability needs STORE_CAP. */
    PERMIT_STORE_CAP(0x15),
    /** Storing a tagged capability without GLOBAL needs STORE_LOCAL_CAP. */
    PERMIT_STORE_LOCAL_CAP(0x16),
    /** Some byte of the access lies outside the authority's bounds. */
    LENGTH(0x01),
    /** A capability load or store at an address that is not a multiple of 16. */
    ALIGNMENT(0x100),
    /**
     * The access passed every capability check but lies outside the memory of the µprocess making it: the authority
     * never belonged to this µprocess (say, a Java object captured from its parent before a fork). Raised by a
     * kernel's {@link AccessBarrier}, after all architectural checks; reported with the ISA's code for a
     * software-defined violation.
     */
    ISOLATION(0x08);

    private final int code;

    FaultCause(final int code)
    {
        this.code = code;
    }

    /**
     * @return the CHERI-RISC-V capability exception cause code ({@code xtval} cause field); {@link #ALIGNMENT} is
     *         not a capability exception in the ISA (it is the base ISA's misaligned-address trap) and reports 0x100.
     */
    public int code()
    {
        return code;
    }
}
