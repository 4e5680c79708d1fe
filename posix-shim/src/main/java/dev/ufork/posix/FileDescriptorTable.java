package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.util.Arrays;

/**
 * A µprocess's descriptor table: small integers naming {@link OpenFile open file descriptions}, each with its own
 * FD_CLOEXEC flag. New descriptors take the lowest free number; at most {@code limit} may be open (EMFILE). A fork
 * copies the table: the child's descriptors refer to the same descriptions, so both share each file's offset and
 * status flags, as POSIX requires.
 * <p>
 * Thread safety: confined to its µprocess's thread. Lifetime: until {@link #closeAll()} at exit.
 */
final class FileDescriptorTable
{
    private final int limit;
    private OpenFile[] files;
    private boolean[] closeOnExec;
    private int open;

    FileDescriptorTable(final int limit)
    {
        this.limit = limit;
        this.files = new OpenFile[Math.min(limit, 16)];
        this.closeOnExec = new boolean[files.length];
    }

    /** @return the most descriptors this table may hold. */
    int limit()
    {
        return limit;
    }

    /** @return how many descriptors are open. */
    int openCount()
    {
        return open;
    }

    /**
     * @param fd a descriptor.
     * @return its open file.
     * @throws ErrnoException EBADF if it is not open.
     */
    OpenFile get(final int fd)
    {
        if (fd < 0 || fd >= files.length || files[fd] == null)
        {
            throw new ErrnoException(Errno.EBADF, "descriptor " + fd + " is not open");
        }
        return files[fd];
    }

    /** @return whether {@code fd} is open. */
    boolean isOpen(final int fd)
    {
        return fd >= 0 && fd < files.length && files[fd] != null;
    }

    /**
     * Installs an open file under the lowest free descriptor at or above {@code min}. The table takes over the
     * caller's reference.
     *
     * @return the descriptor.
     * @throws ErrnoException EMFILE if none is free below the limit (the caller keeps its reference); EINVAL if
     *                        {@code min} is negative or not below the limit.
     */
    int install(final OpenFile file, final int min, final boolean cloexec)
    {
        if (min < 0 || min >= limit)
        {
            throw new ErrnoException(Errno.EINVAL, "descriptor " + min + " outside [0, " + limit + ")");
        }
        for (int fd = min; fd < limit; fd++)
        {
            if (fd >= files.length)
            {
                grow(fd + 1);
            }
            if (files[fd] == null)
            {
                put(fd, file, cloexec);
                return fd;
            }
        }
        throw new ErrnoException(Errno.EMFILE, "all " + limit + " descriptors are in use");
    }

    /**
     * dup2's core: makes {@code fd} refer to {@code file}, closing what it referred to. The table takes over the
     * caller's reference.
     *
     * @throws ErrnoException EBADF if {@code fd} is outside [0, limit).
     */
    void replace(final int fd, final OpenFile file, final boolean cloexec)
    {
        if (fd < 0 || fd >= limit)
        {
            throw new ErrnoException(Errno.EBADF, "descriptor " + fd + " outside [0, " + limit + ")");
        }
        if (fd >= files.length)
        {
            grow(fd + 1);
        }
        final OpenFile old = files[fd];
        if (old != null)
        {
            files[fd] = null;
            open--;
        }
        put(fd, file, cloexec);
        if (old != null)
        {
            old.release();
        }
    }

    private void put(final int fd, final OpenFile file, final boolean cloexec)
    {
        files[fd] = file;
        closeOnExec[fd] = cloexec;
        open++;
    }

    private void grow(final int needed)
    {
        final int size = Math.min(limit, Math.max(needed, files.length * 2));
        files = Arrays.copyOf(files, size);
        closeOnExec = Arrays.copyOf(closeOnExec, size);
    }

    /**
     * Closes a descriptor: the description goes when its last descriptor does.
     *
     * @throws ErrnoException EBADF if it is not open.
     */
    void close(final int fd)
    {
        final OpenFile file = get(fd);
        files[fd] = null;
        closeOnExec[fd] = false;
        open--;
        file.release();
    }

    /** @return the FD_CLOEXEC flag of an open descriptor. */
    boolean closeOnExec(final int fd)
    {
        get(fd);
        return closeOnExec[fd];
    }

    /** Sets the FD_CLOEXEC flag of an open descriptor. */
    void setCloseOnExec(final int fd, final boolean value)
    {
        get(fd);
        closeOnExec[fd] = value;
    }

    /**
     * @return the child's table at a fork: the same descriptions under the same numbers, each retained once more.
     */
    FileDescriptorTable forkCopy()
    {
        final FileDescriptorTable copy = new FileDescriptorTable(limit);
        copy.files = files.clone();
        copy.closeOnExec = closeOnExec.clone();
        copy.open = open;
        for (final OpenFile file : copy.files)
        {
            if (file != null)
            {
                file.retain();
            }
        }
        return copy;
    }

    /** Closes every descriptor, as exit does. */
    void closeAll()
    {
        for (int fd = 0; fd < files.length; fd++)
        {
            final OpenFile file = files[fd];
            if (file != null)
            {
                files[fd] = null;
                open--;
                file.release();
            }
        }
    }
}
