package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;
import dev.ufork.posix.PathLookup.HostDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotLinkException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The host file system as the µprocesses of one {@link PosixSystem} see it: the directory tree under
 * {@link PosixConfig#root()}, which is their {@code /} and which no path leads out of (see {@link PathLookup}). It
 * opens files as {@link RegularFile} and {@link DirectoryFile} descriptions and carries out the calls on names:
 * {@code stat}, {@code mkdir}, {@code rmdir}, {@code unlink}, {@code rename}.
 * <p>
 * Where this differs from Linux:
 * <ul>
 *   <li>The umask is fixed at {@value #UMASK} (octal 022); only the permission bits 0777 of a mode are applied
 *   (no set-user-id, set-group-id or sticky bit).</li>
 *   <li>Names are UTF-8: a path that is not valid UTF-8 fails with EINVAL, as does one with a character the host's
 *   file name encoding cannot represent.</li>
 *   <li>Only regular files and directories open; other file types (FIFOs, devices, sockets made by the host) fail
 *   with EOPNOTSUPP. (A FIFO that the host swaps in between the look and the open would still be opened, and its
 *   open may block.)</li>
 *   <li>{@code open} refuses flags it does not know and the access mode 3 with EINVAL (Linux ignores unknown flags
 *   and gives mode 3 a meaning of its own); O_TRUNC with O_RDONLY truncates nothing (POSIX leaves it undefined,
 *   Linux truncates); O_CREAT with O_DIRECTORY is EINVAL, as on Linux since 6.4.</li>
 *   <li>Resolving a path holds two host descriptors per directory on it until the call ends.</li>
 *   <li>{@code mkdir} makes the directory under a random name in the root and renames it into place, because Java
 *   has no {@code mkdirat} and creating it by its path string could be redirected out of the root by a link
 *   swapped into that path. So a directory made in a file system mounted below the root fails with EXDEV, and an
 *   empty directory that another µprocess makes under the same name at the same moment may be replaced instead of
 *   making this call fail with EEXIST. A crash at the wrong moment leaves a {@code .ufork-mkdir-*} directory in
 *   the root.</li>
 *   <li>{@code st_blksize} and {@code st_blocks} are estimates (see {@link Stat}). If a path changes while its
 *   attributes are read, {@code stat} may report {@code st_nlink} 1 and owner 0 rather than the true values.</li>
 * </ul>
 * <p>
 * Thread safety: safe for concurrent use by every µprocess. Lifetime: that of its system; {@link #close()} closes the
 * root.
 */
final class HostFileSystem implements AutoCloseable
{
    /** The longest path, in bytes with its NUL. */
    static final int PATH_MAX = 4096;
    /** The longest name (path component), in bytes. */
    static final int NAME_MAX = 255;
    /** The most symbolic links one path resolution follows. */
    static final int SYMLOOP_MAX = 40;
    /** The file creation mask: these permission bits are cleared from every mode given to open and mkdir. */
    static final int UMASK = 022;

    private static final int ATTEMPTS = 8;

    private final Path root;
    private final Object rootLock = new Object();
    private volatile HostDir rootDir;
    private boolean closed;
    private final ConcurrentHashMap<Object, Inode> inodes = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /** @param root the host directory that is {@code /}; opened on first use, so it may not exist yet. */
    HostFileSystem(final Path root)
    {
        this.root = root.toAbsolutePath().normalize();
    }

    /**
     * What all open file descriptions of one host file share: the lock that makes writes, appends and truncation of
     * the file atomic with respect to each other, whichever description they go through.
     */
    static final class Inode
    {
        final Object key;
        final ReentrantLock lock = new ReentrantLock();
        private int users;

        private Inode(final Object key)
        {
            this.key = key;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Paths

    /**
     * Checks a path given as a Java string as a C string would be: no NUL inside, shorter than {@link #PATH_MAX}
     * bytes in UTF-8.
     *
     * @throws ErrnoException EINVAL (a NUL or a lone surrogate), ENAMETOOLONG.
     */
    static String checkPath(final String path)
    {
        if (path == null || path.indexOf('\0') >= 0)
        {
            throw new ErrnoException(Errno.EINVAL, "a path with a NUL character");
        }
        final ByteBuffer bytes;
        try
        {
            bytes = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(path));
        }
        catch (final CharacterCodingException e)
        {
            throw new ErrnoException(Errno.EINVAL, "a path that is not valid Unicode");
        }
        if (bytes.remaining() >= PATH_MAX)
        {
            throw new ErrnoException(Errno.ENAMETOOLONG, "a path of " + bytes.remaining() + " bytes");
        }
        return path;
    }

    /**
     * @param bytes  a C string's bytes, without its NUL.
     * @param length how many.
     * @return it as a Java string.
     * @throws ErrnoException EINVAL if it is not UTF-8.
     */
    static String decodePath(final byte[] bytes, final int length)
    {
        try
        {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, length))
                .toString();
        }
        catch (final CharacterCodingException e)
        {
            throw new ErrnoException(Errno.EINVAL, "a path that is not UTF-8");
        }
    }

    /** @throws ErrnoException ENAMETOOLONG if a component is longer than {@link #NAME_MAX} bytes. */
    static void checkName(final String name)
    {
        if (name.length() > NAME_MAX / 3 && name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX)
        {
            throw new ErrnoException(Errno.ENAMETOOLONG, "a name longer than " + NAME_MAX + " bytes");
        }
    }

    /** @return a single name as a host path, for the calls relative to a held directory. */
    private Path name(final String name)
    {
        try
        {
            return root.getFileSystem().getPath(name);
        }
        catch (final InvalidPathException e)
        {
            throw new ErrnoException(Errno.EINVAL, "the host cannot name " + name + ": " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Directories held during a walk

    /** @return the root, held open for the life of the system. */
    HostDir rootDir()
    {
        final HostDir held = rootDir;
        if (held != null)
        {
            return held;
        }
        synchronized (rootLock)
        {
            if (closed)
            {
                throw new ErrnoException(Errno.EIO, "the file system is closed");
            }
            if (rootDir == null)
            {
                final DirectoryStream<Path> stream;
                try
                {
                    stream = Files.newDirectoryStream(root);
                }
                catch (final IOException e)
                {
                    throw HostErrors.of(e, "open the root " + root);
                }
                if (!(stream instanceof SecureDirectoryStream<Path> secure))
                {
                    closeQuietly(stream);
                    throw new ErrnoException(Errno.ENOSYS, "the host cannot open files relative to a directory");
                }
                rootDir = new HostDir(secure, root, false);
            }
            return rootDir;
        }
    }

    /** @return the attributes of {@code name} in {@code dir}, not following a link; null if it does not exist. */
    PosixFileAttributes statAt(final HostDir dir, final String name)
    {
        try
        {
            return dir.stream().getFileAttributeView(name(name), PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS).readAttributes();
        }
        catch (final NoSuchFileException e)
        {
            return null;
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "stat " + name);
        }
    }

    /** @return the attributes of the held directory itself. */
    PosixFileAttributes statSelf(final HostDir dir)
    {
        try
        {
            return dir.stream().getFileAttributeView(PosixFileAttributeView.class).readAttributes();
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "stat " + dir.host());
        }
    }

    /** @return the text of the link {@code name} in {@code dir}; null if it is no longer a link. */
    String readLinkAt(final HostDir dir, final String name)
    {
        try
        {
            return Files.readSymbolicLink(dir.host().resolve(name(name))).toString();
        }
        catch (final NotLinkException | NoSuchFileException e)
        {
            return null;
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "readlink " + name);
        }
    }

    /** @return the directory {@code name} in {@code dir}, opened without following; null if it is now a link. */
    HostDir openDirAt(final HostDir dir, final String name)
    {
        try
        {
            final SecureDirectoryStream<Path> stream = dir.stream().newDirectoryStream(name(name),
                LinkOption.NOFOLLOW_LINKS);
            return new HostDir(stream, dir.host().resolve(name(name)), true);
        }
        catch (final IOException e)
        {
            if (HostErrors.errno(e) == Errno.ELOOP)
            {
                return null;
            }
            throw HostErrors.of(e, "open directory " + name);
        }
    }

    static void closeQuietly(final HostDir dir)
    {
        if (dir.owned())
        {
            closeQuietly(dir.stream());
        }
    }

    private static void closeQuietly(final AutoCloseable closeable)
    {
        try
        {
            closeable.close();
        }
        catch (final Exception e)
        {
            // Nothing was written through it; closing cannot lose data.
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // open

    /**
     * {@code open}.
     *
     * @param path  the path, checked by {@link #checkPath}.
     * @param flags the open flags.
     * @param mode  the permission bits of a created file.
     * @return the new open file description (one reference, the caller's).
     * @throws ErrnoException EINVAL, ENOENT, EEXIST, EISDIR, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES, EOPNOTSUPP, ...
     */
    OpenFile open(final String path, final int flags, final int mode)
    {
        checkOpenFlags(flags);
        final boolean exclusive = (flags & Fcntl.O_CREAT) != 0 && (flags & Fcntl.O_EXCL) != 0;
        // O_CREAT|O_EXCL never follows a link in the last place, as on Linux.
        final boolean follow = (flags & Fcntl.O_NOFOLLOW) == 0 && !exclusive;
        for (int attempt = 0; attempt <= SYMLOOP_MAX; attempt++)
        {
            // With O_CREAT a trailing slash is EISDIR (below), not a demand for a directory.
            try (PathLookup lookup = PathLookup.resolve(this, path, follow, (flags & Fcntl.O_CREAT) == 0))
            {
                final OpenFile file = openResolved(lookup, path, flags, mode);
                if (file != null)
                {
                    return file;
                }
            }
        }
        throw new ErrnoException(Errno.ELOOP, "open " + path + ": the path kept changing while it was opened");
    }

    private static void checkOpenFlags(final int flags)
    {
        final int known = Fcntl.O_ACCMODE | Fcntl.O_CREAT | Fcntl.O_EXCL | Fcntl.O_TRUNC | Fcntl.O_APPEND
            | Fcntl.O_NONBLOCK | Fcntl.O_DIRECTORY | Fcntl.O_NOFOLLOW | Fcntl.O_CLOEXEC;
        if ((flags & ~known) != 0 || (flags & Fcntl.O_ACCMODE) == Fcntl.O_ACCMODE)
        {
            throw new ErrnoException(Errno.EINVAL, "unsupported open flags 0" + Integer.toOctalString(flags));
        }
        if ((flags & (Fcntl.O_CREAT | Fcntl.O_DIRECTORY)) == (Fcntl.O_CREAT | Fcntl.O_DIRECTORY))
        {
            throw new ErrnoException(Errno.EINVAL, "O_CREAT with O_DIRECTORY");
        }
    }

    /** @return the open file, or null if the path changed under us and must be looked up again. */
    private OpenFile openResolved(final PathLookup lookup, final String path, final int flags, final int mode)
    {
        final PosixFileAttributes found = lookup.attributes();
        final boolean create = (flags & Fcntl.O_CREAT) != 0;
        // Linux's order: a path ending in . .. or / exists (EEXIST with O_EXCL, else EISDIR below); then any
        // other trailing slash with O_CREAT is EISDIR, existing or not.
        if (create && (flags & Fcntl.O_EXCL) != 0 && lookup.name() == null)
        {
            throw new ErrnoException(Errno.EEXIST, "open " + path + " with O_EXCL: a directory");
        }
        if (lookup.name() == null)
        {
            return openDirectory(lookup, ".", found, path, flags);
        }
        if (create && lookup.trailingSlash())
        {
            throw new ErrnoException(Errno.EISDIR, "open " + path + " with O_CREAT: ends in a slash");
        }
        if (found == null)
        {
            if (!create)
            {
                throw new ErrnoException(Errno.ENOENT, "open " + path);
            }
            return create(lookup, path, flags, mode);
        }
        if (create && (flags & Fcntl.O_EXCL) != 0)
        {
            throw new ErrnoException(Errno.EEXIST, "open " + path + " with O_EXCL");
        }
        if (found.isSymbolicLink())
        {
            throw new ErrnoException(Errno.ELOOP, "open " + path + " with O_NOFOLLOW: a symbolic link");
        }
        if (found.isDirectory())
        {
            return openDirectory(lookup, lookup.name(), found, path, flags);
        }
        if ((flags & Fcntl.O_DIRECTORY) != 0)
        {
            throw new ErrnoException(Errno.ENOTDIR, "open " + path + " with O_DIRECTORY");
        }
        if (!found.isRegularFile())
        {
            throw new ErrnoException(Errno.EOPNOTSUPP, "open " + path + ": only regular files and directories");
        }
        final Set<OpenOption> options = new HashSet<>();
        options.add(LinkOption.NOFOLLOW_LINKS);
        final int access = flags & Fcntl.O_ACCMODE;
        if (access != Fcntl.O_WRONLY)
        {
            options.add(StandardOpenOption.READ);
        }
        if (access != Fcntl.O_RDONLY)
        {
            options.add(StandardOpenOption.WRITE);
            if ((flags & Fcntl.O_TRUNC) != 0)
            {
                options.add(StandardOpenOption.TRUNCATE_EXISTING);
            }
        }
        final FileChannel channel;
        try
        {
            channel = (FileChannel)lookup.dir().stream().newByteChannel(name(lookup.name()), options);
        }
        catch (final IOException e)
        {
            final Errno errno = HostErrors.errno(e);
            if (errno == Errno.ENOENT || errno == Errno.ELOOP)
            {
                // Removed or replaced by a link since we looked.
                return null;
            }
            throw HostErrors.of(e, "open " + path);
        }
        return regularFile(lookup, channel, found.fileKey(), flags);
    }

    /** Wraps a freshly opened channel, once sure that it is the file that was looked up. */
    private OpenFile regularFile(final PathLookup lookup, final FileChannel channel, final Object expected,
        final int flags)
    {
        final PosixFileAttributes now;
        try
        {
            now = statAt(lookup.dir(), lookup.name());
        }
        catch (final ErrnoException e)
        {
            closeQuietly(channel);
            throw e;
        }
        if (now == null || !now.isRegularFile() || expected != null && !expected.equals(now.fileKey()))
        {
            closeQuietly(channel);
            return null;
        }
        return new RegularFile(this, channel, acquire(now.fileKey()), lookup.host(), flags);
    }

    private OpenFile create(final PathLookup lookup, final String path, final int flags, final int mode)
    {
        final Set<OpenOption> options = new HashSet<>();
        options.add(StandardOpenOption.CREATE_NEW);
        // Java creates only with WRITE; the description's flags still forbid writes through O_RDONLY.
        options.add(StandardOpenOption.WRITE);
        if ((flags & Fcntl.O_ACCMODE) != Fcntl.O_WRONLY)
        {
            options.add(StandardOpenOption.READ);
        }
        final Set<PosixFilePermission> permissions = permissions(mode);
        final FileChannel channel;
        try
        {
            channel = (FileChannel)lookup.dir().stream().newByteChannel(name(lookup.name()), options,
                PosixFilePermissions.asFileAttribute(permissions));
        }
        catch (final FileAlreadyExistsException e)
        {
            if ((flags & Fcntl.O_EXCL) != 0)
            {
                throw HostErrors.of(e, "open " + path + " with O_EXCL");
            }
            // Made by someone else since we looked: open it as it is now.
            return null;
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "create " + path);
        }
        setPermissions(lookup.dir(), lookup.name(), permissions);
        return regularFile(lookup, channel, null, flags);
    }

    private OpenFile openDirectory(final PathLookup lookup, final String name, final PosixFileAttributes found,
        final String path, final int flags)
    {
        if ((flags & Fcntl.O_CREAT) != 0)
        {
            throw new ErrnoException(Errno.EISDIR, "open " + path + " with O_CREAT: a directory");
        }
        if ((flags & Fcntl.O_ACCMODE) != Fcntl.O_RDONLY)
        {
            throw new ErrnoException(Errno.EISDIR, "open " + path + " for writing: a directory");
        }
        final FileChannel channel;
        try
        {
            channel = (FileChannel)lookup.dir().stream().newByteChannel(name(name),
                Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
        }
        catch (final IOException e)
        {
            final Errno errno = HostErrors.errno(e);
            if (errno == Errno.ENOENT || errno == Errno.ELOOP)
            {
                return null;
            }
            throw HostErrors.of(e, "open " + path);
        }
        final PosixFileAttributes now;
        try
        {
            now = name.equals(".") ? statSelf(lookup.dir()) : statAt(lookup.dir(), name);
        }
        catch (final ErrnoException e)
        {
            closeQuietly(channel);
            throw e;
        }
        if (now == null || !now.fileKey().equals(found.fileKey()))
        {
            closeQuietly(channel);
            return null;
        }
        return new DirectoryFile(this, channel, now.fileKey(), lookup.host(), flags);
    }

    /** @return the permissions a mode gives after the umask. */
    private static Set<PosixFilePermission> permissions(final int mode)
    {
        final int bits = mode & ~UMASK & 0777;
        final Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        final PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int bit = 0; bit < order.length; bit++)
        {
            if ((bits & 1 << bit) != 0)
            {
                set.add(order[bit]);
            }
        }
        return set;
    }

    /**
     * Sets exactly the permissions asked for: creation applied the JVM's own umask on top of ours. Best effort: the
     * file system may not keep POSIX permissions, or the name may have been replaced already.
     */
    private void setPermissions(final HostDir dir, final String name, final Set<PosixFilePermission> permissions)
    {
        try
        {
            dir.stream().getFileAttributeView(name(name), PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setPermissions(permissions);
        }
        catch (final IOException | UnsupportedOperationException e)
        {
            // The creation mode stands.
        }
    }

    private static void closeQuietly(final FileChannel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException e)
        {
            // Nothing was written through it.
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Shared state of open files

    /** @return the shared state of the file with this key, one more user. */
    Inode acquire(final Object key)
    {
        return inodes.compute(key, (k, inode) ->
        {
            final Inode held = inode == null ? new Inode(k) : inode;
            held.users++;
            return held;
        });
    }

    /** One user fewer; the last one forgets the file. */
    void release(final Inode inode)
    {
        inodes.computeIfPresent(inode.key, (k, held) -> --held.users == 0 ? null : held);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Calls on names

    /**
     * {@code stat} / {@code lstat}.
     *
     * @param follow whether a link in the last place is followed (stat) or reported (lstat).
     * @throws ErrnoException ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES, EINVAL.
     */
    Stat stat(final String path, final boolean follow)
    {
        for (int attempt = 1; ; attempt++)
        {
            try (PathLookup lookup = PathLookup.resolve(this, path, follow, true))
            {
                final PosixFileAttributes found = lookup.attributes();
                if (found == null)
                {
                    throw new ErrnoException(Errno.ENOENT, "stat " + path);
                }
                final Stat stat = HostStat.read(lookup.host(), found.fileKey(), false);
                if (stat != null)
                {
                    return stat;
                }
                if (attempt == ATTEMPTS)
                {
                    return HostStat.approximate(found);
                }
            }
        }
    }

    /**
     * {@code mkdir}: see the class comment for how.
     *
     * @throws ErrnoException EEXIST, ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES, ENOSPC, EXDEV.
     */
    void mkdir(final String path, final int mode)
    {
        try (PathLookup lookup = PathLookup.resolve(this, path, false, false))
        {
            if (lookup.name() == null || lookup.attributes() != null)
            {
                throw new ErrnoException(Errno.EEXIST, "mkdir " + path);
            }
            final HostDir top = rootDir();
            final String staging = ".ufork-mkdir-" + HexFormat.of().formatHex(randomBytes());
            final Set<PosixFilePermission> permissions = permissions(mode);
            try
            {
                // Safe by path: the root is the host's own, and mkdir never follows a link in the last place.
                Files.createDirectory(root.resolve(staging), PosixFilePermissions.asFileAttribute(permissions));
            }
            catch (final IOException e)
            {
                throw HostErrors.of(e, "mkdir " + path);
            }
            boolean placed = false;
            try
            {
                setPermissions(top, staging, permissions);
                top.stream().move(name(staging), lookup.dir().stream(), name(lookup.name()));
                placed = true;
            }
            catch (final IOException e)
            {
                final Errno errno = HostErrors.errno(e);
                if (errno == Errno.ENOTDIR || errno == Errno.EISDIR || errno == Errno.ENOTEMPTY
                    || errno == Errno.EEXIST)
                {
                    throw new ErrnoException(Errno.EEXIST, "mkdir " + path + ": made meanwhile");
                }
                throw HostErrors.of(e, "mkdir " + path);
            }
            finally
            {
                if (!placed)
                {
                    try
                    {
                        top.stream().deleteDirectory(name(staging));
                    }
                    catch (final IOException e)
                    {
                        // Left behind under its random name; see the class comment.
                    }
                }
            }
        }
    }

    private byte[] randomBytes()
    {
        final byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return bytes;
    }

    /**
     * {@code rmdir}.
     *
     * @throws ErrnoException ENOENT, ENOTDIR, ENOTEMPTY, EBUSY (the root), EINVAL (ends in {@code .}), ...
     */
    void rmdir(final String path)
    {
        try (PathLookup lookup = PathLookup.resolve(this, path, false, false))
        {
            if (lookup.name() == null)
            {
                throw switch (lookup.last())
                {
                    case DOT -> new ErrnoException(Errno.EINVAL, "rmdir " + path + ": ends in .");
                    case DOTDOT -> new ErrnoException(Errno.ENOTEMPTY, "rmdir " + path + ": ends in ..");
                    default -> new ErrnoException(Errno.EBUSY, "rmdir " + path + ": the root");
                };
            }
            final PosixFileAttributes found = lookup.attributes();
            if (found == null)
            {
                throw new ErrnoException(Errno.ENOENT, "rmdir " + path);
            }
            if (!found.isDirectory())
            {
                throw new ErrnoException(Errno.ENOTDIR, "rmdir " + path);
            }
            lookup.dir().stream().deleteDirectory(name(lookup.name()));
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "rmdir " + path);
        }
    }

    /**
     * {@code unlink}.
     *
     * @throws ErrnoException ENOENT, EISDIR (a directory, as Linux says), ENOTDIR, ...
     */
    void unlink(final String path)
    {
        try (PathLookup lookup = PathLookup.resolve(this, path, false, false))
        {
            final PosixFileAttributes found = lookup.attributes();
            if (lookup.name() == null || found != null && found.isDirectory())
            {
                throw new ErrnoException(Errno.EISDIR, "unlink " + path + ": a directory");
            }
            if (found == null)
            {
                throw new ErrnoException(Errno.ENOENT, "unlink " + path);
            }
            if (lookup.trailingSlash())
            {
                throw new ErrnoException(Errno.ENOTDIR, "unlink " + path + ": not a directory");
            }
            lookup.dir().stream().deleteFile(name(lookup.name()));
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "unlink " + path);
        }
    }

    /**
     * {@code rename}: atomically replaces {@code to} if it exists.
     *
     * @throws ErrnoException ENOENT, EISDIR, ENOTDIR, ENOTEMPTY, EINVAL (into itself), EBUSY (. .. or the root),
     *                        EXDEV, ...
     */
    void rename(final String from, final String to)
    {
        try (PathLookup source = PathLookup.resolve(this, from, false, false);
            PathLookup target = PathLookup.resolve(this, to, false, false))
        {
            if (source.name() == null || target.name() == null)
            {
                throw new ErrnoException(Errno.EBUSY, "rename " + from + " to " + to + ": . .. or the root");
            }
            final PosixFileAttributes moving = source.attributes();
            if (moving == null)
            {
                throw new ErrnoException(Errno.ENOENT, "rename " + from);
            }
            if ((source.trailingSlash() || target.trailingSlash()) && !moving.isDirectory())
            {
                throw new ErrnoException(Errno.ENOTDIR, "rename " + from + " to " + to + ": not a directory");
            }
            final PosixFileAttributes replaced = target.attributes();
            if (replaced != null)
            {
                if (moving.fileKey().equals(replaced.fileKey()))
                {
                    // Two names of one file: POSIX says rename does nothing.
                    return;
                }
                if (moving.isDirectory() && !replaced.isDirectory())
                {
                    throw new ErrnoException(Errno.ENOTDIR, "rename directory " + from + " over " + to);
                }
                if (!moving.isDirectory() && replaced.isDirectory())
                {
                    throw new ErrnoException(Errno.EISDIR, "rename " + from + " over directory " + to);
                }
            }
            source.dir().stream().move(name(source.name()), target.dir().stream(), name(target.name()));
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "rename " + from + " to " + to);
        }
    }

    @Override
    public void close()
    {
        synchronized (rootLock)
        {
            closed = true;
            final HostDir held = rootDir;
            rootDir = null;
            if (held != null)
            {
                closeQuietly(held.stream());
            }
        }
    }
}
