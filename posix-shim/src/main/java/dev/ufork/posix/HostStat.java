package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the full attributes of host files for {@code stat} and {@code fstat}. Java reads {@code st_nlink},
 * {@code st_uid} and the other fields only by path (the {@code unix:*} attributes), and a path may name another
 * file by the time it is read, or one outside the root if a link was swapped into it. So every read names the
 * file it wants by its identity (device and inode, Java's {@code fileKey}), taken from a safe look through a held
 * directory or from the open file, and attributes that come back from another file are thrown away.
 * <p>
 * Thread safety: stateless.
 */
final class HostStat
{
    private static final String UNIX_ATTRIBUTES =
        "unix:dev,ino,nlink,mode,uid,gid,rdev,size,lastAccessTime,lastModifiedTime,ctime,fileKey";
    private static final Pattern FILE_KEY = Pattern.compile("\\(dev=([0-9a-f]+),ino=([0-9]+)\\)");
    private static final Path PROC_SELF_FD = Path.of("/proc/self/fd");

    private HostStat()
    {
    }

    /**
     * {@code fstat} of an open file: its attributes now, found through its last known path or, if it was renamed
     * or unlinked since, through {@code /proc/self/fd}, and in either case accepted only from the same file.
     *
     * @param key  the file's identity (device and inode).
     * @param host where it was opened.
     * @throws ErrnoException EIO if it cannot be found (no {@code /proc}).
     */
    static Stat ofOpenFile(final Object key, final Path host)
    {
        final Stat stat = read(host, key, false);
        if (stat != null)
        {
            return stat;
        }
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(PROC_SELF_FD))
        {
            for (final Path fd : fds)
            {
                final Stat found = read(fd, key, true);
                if (found != null)
                {
                    return found;
                }
            }
        }
        catch (final IOException e)
        {
            throw HostErrors.of(e, "fstat " + host);
        }
        throw new ErrnoException(Errno.EIO, "fstat: " + host + " was moved and /proc cannot find it");
    }

    /** @return the full attributes at {@code host} if they are those of the file {@code key}, else null. */
    static Stat read(final Path host, final Object key, final boolean follow)
    {
        final Map<String, Object> a;
        try
        {
            a = follow ? Files.readAttributes(host, UNIX_ATTRIBUTES)
                : Files.readAttributes(host, UNIX_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        }
        catch (final IOException | UnsupportedOperationException | IllegalArgumentException e)
        {
            return null;
        }
        if (!key.equals(a.get("fileKey")))
        {
            return null;
        }
        final long size = (Long)a.get("size");
        final FileTime atime = (FileTime)a.get("lastAccessTime");
        final FileTime mtime = (FileTime)a.get("lastModifiedTime");
        final FileTime ctime = (FileTime)a.get("ctime");
        return new Stat((Long)a.get("dev"), (Long)a.get("ino"), ((Number)a.get("nlink")).longValue(),
            (Integer)a.get("mode"), (Integer)a.get("uid"), (Integer)a.get("gid"), (Long)a.get("rdev"), size,
            Stat.BLOCK_SIZE, blocks(size), seconds(atime), nanos(atime), seconds(mtime), nanos(mtime), seconds(ctime),
            nanos(ctime));
    }

    /** What the attributes read through a held directory tell, when the path keeps changing under a full read. */
    static Stat approximate(final PosixFileAttributes a)
    {
        final int type = a.isDirectory() ? Stat.S_IFDIR : a.isSymbolicLink() ? Stat.S_IFLNK
            : a.isRegularFile() ? Stat.S_IFREG : 0;
        long dev = 0;
        long ino = 0;
        final Matcher m = FILE_KEY.matcher(String.valueOf(a.fileKey()));
        if (m.matches())
        {
            dev = Long.parseUnsignedLong(m.group(1), 16);
            ino = Long.parseUnsignedLong(m.group(2));
        }
        final FileTime atime = a.lastAccessTime();
        final FileTime mtime = a.lastModifiedTime();
        return new Stat(dev, ino, 1, type | permissionBits(a.permissions()), 0, 0, 0, a.size(), Stat.BLOCK_SIZE,
            blocks(a.size()), seconds(atime), nanos(atime), seconds(mtime), nanos(mtime), seconds(mtime),
            nanos(mtime));
    }

    private static long blocks(final long size)
    {
        return (size + 511) / 512;
    }

    private static long seconds(final FileTime t)
    {
        return Math.floorDiv(t.to(TimeUnit.NANOSECONDS), 1_000_000_000L);
    }

    private static long nanos(final FileTime t)
    {
        return Math.floorMod(t.to(TimeUnit.NANOSECONDS), 1_000_000_000L);
    }

    /** @return the permission bits of a set. */
    private static int permissionBits(final Set<PosixFilePermission> set)
    {
        int bits = 0;
        for (final PosixFilePermission p : set)
        {
            bits |= switch (p)
            {
                case OWNER_READ -> 0400;
                case OWNER_WRITE -> 0200;
                case OWNER_EXECUTE -> 0100;
                case GROUP_READ -> 040;
                case GROUP_WRITE -> 020;
                case GROUP_EXECUTE -> 010;
                case OTHERS_READ -> 04;
                case OTHERS_WRITE -> 02;
                case OTHERS_EXECUTE -> 01;
            };
        }
        return bits;
    }

}
