package dev.ufork.posix;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct stat}: what {@code stat}, {@code lstat} and {@code fstat} report about a file. The capability forms
 * of those calls write it into µprocess memory in the Linux x86-64 layout, {@value #SIZE} bytes, little-endian:
 * <pre>
 *  offset size field                 offset size field
 *     0    8  st_dev                    64    8  st_blocks (512-byte units)
 *     8    8  st_ino                    72    8  st_atim.tv_sec
 *    16    8  st_nlink                  80    8  st_atim.tv_nsec
 *    24    4  st_mode                   88    8  st_mtim.tv_sec
 *    28    4  st_uid                    96    8  st_mtim.tv_nsec
 *    32    4  st_gid                   104    8  st_ctim.tv_sec
 *    36    4  (padding, 0)             112    8  st_ctim.tv_nsec
 *    40    8  st_rdev                  120   24  (reserved, 0)
 *    48    8  st_size
 *    56    8  st_blksize
 * </pre>
 * Files on the host file system report the host's values, except {@code st_blksize}, which is always
 * {@value #BLOCK_SIZE}, and {@code st_blocks}, which is the size rounded up to whole 512-byte blocks (Java cannot
 * read either, so a sparse file reports more blocks than it occupies). Pipes, {@code /dev/null} and the host's
 * standard streams report only their type and permission bits.
 * <p>
 * Thread safety: immutable.
 *
 * @param dev       the device of the file system holding the file.
 * @param ino       the inode number; with {@code dev}, names the file.
 * @param nlink     the number of hard links (0 once an open file has been unlinked).
 * @param mode      the file type ({@link #S_IFMT} bits) and permission bits.
 * @param uid       the owner's user id on the host.
 * @param gid       the owner's group id on the host.
 * @param rdev      the device a device file stands for, else 0.
 * @param size      bytes, for regular files and symbolic links (the length of the target).
 * @param blksize   the preferred I/O block size.
 * @param blocks    512-byte blocks allocated (estimated, see above).
 * @param atimeSec  last access, seconds since the epoch.
 * @param atimeNsec last access, nanoseconds.
 * @param mtimeSec  last modification, seconds since the epoch.
 * @param mtimeNsec last modification, nanoseconds.
 * @param ctimeSec  last status change, seconds since the epoch.
 * @param ctimeNsec last status change, nanoseconds.
 */
public record Stat(long dev, long ino, long nlink, int mode, int uid, int gid, long rdev, long size, long blksize,
    long blocks, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec, long ctimeSec, long ctimeNsec)
{
    /** Bytes of {@code struct stat} in µprocess memory. */
    public static final int SIZE = 144;
    /** What {@code st_blksize} reports. */
    public static final int BLOCK_SIZE = 4096;

    /** Offset of {@code st_dev}. */
    public static final int ST_DEV = 0;
    /** Offset of {@code st_ino}. */
    public static final int ST_INO = 8;
    /** Offset of {@code st_nlink}. */
    public static final int ST_NLINK = 16;
    /** Offset of {@code st_mode} (4 bytes). */
    public static final int ST_MODE = 24;
    /** Offset of {@code st_uid} (4 bytes). */
    public static final int ST_UID = 28;
    /** Offset of {@code st_gid} (4 bytes). */
    public static final int ST_GID = 32;
    /** Offset of {@code st_rdev}. */
    public static final int ST_RDEV = 40;
    /** Offset of {@code st_size}. */
    public static final int ST_SIZE = 48;
    /** Offset of {@code st_blksize}. */
    public static final int ST_BLKSIZE = 56;
    /** Offset of {@code st_blocks}. */
    public static final int ST_BLOCKS = 64;
    /** Offset of {@code st_atim.tv_sec}; {@code tv_nsec} follows 8 bytes later. */
    public static final int ST_ATIM = 72;
    /** Offset of {@code st_mtim.tv_sec}; {@code tv_nsec} follows 8 bytes later. */
    public static final int ST_MTIM = 88;
    /** Offset of {@code st_ctim.tv_sec}; {@code tv_nsec} follows 8 bytes later. */
    public static final int ST_CTIM = 104;

    /** The file-type bits of {@code st_mode}. */
    public static final int S_IFMT = 0170000;
    /** A socket. */
    public static final int S_IFSOCK = 0140000;
    /** A symbolic link. */
    public static final int S_IFLNK = 0120000;
    /** A regular file. */
    public static final int S_IFREG = 0100000;
    /** A block device. */
    public static final int S_IFBLK = 0060000;
    /** A directory. */
    public static final int S_IFDIR = 0040000;
    /** A character device. */
    public static final int S_IFCHR = 0020000;
    /** A FIFO (pipe). */
    public static final int S_IFIFO = 0010000;

    /** @param mode an {@code st_mode}. @return whether it is a regular file. */
    public static boolean S_ISREG(final int mode)
    {
        return (mode & S_IFMT) == S_IFREG;
    }

    /** @param mode an {@code st_mode}. @return whether it is a directory. */
    public static boolean S_ISDIR(final int mode)
    {
        return (mode & S_IFMT) == S_IFDIR;
    }

    /** @param mode an {@code st_mode}. @return whether it is a symbolic link. */
    public static boolean S_ISLNK(final int mode)
    {
        return (mode & S_IFMT) == S_IFLNK;
    }

    /** @param mode an {@code st_mode}. @return whether it is a FIFO. */
    public static boolean S_ISFIFO(final int mode)
    {
        return (mode & S_IFMT) == S_IFIFO;
    }

    /** @param mode an {@code st_mode}. @return whether it is a character device. */
    public static boolean S_ISCHR(final int mode)
    {
        return (mode & S_IFMT) == S_IFCHR;
    }

    /**
     * A file of which only the type and permissions are known (pipes, devices).
     *
     * @param mode the {@code st_mode}.
     * @return a stat with one link and every other field 0.
     */
    static Stat ofMode(final int mode)
    {
        return new Stat(0, 0, 1, mode, 0, 0, 0, 0, BLOCK_SIZE, 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * fstat of any open file description.
     *
     * @param file the description.
     * @return a host file's attributes; for pipes, {@code /dev/null} (device 1:3) and the host's standard streams,
     *         their type and permission bits; for any other kind of description, {@code st_mode} 0.
     */
    static Stat of(final OpenFile file)
    {
        return switch (file)
        {
            case HostFile host -> host.stat();
            case Pipe.End pipe -> ofMode(S_IFIFO | 0600);
            case NullDevice device -> new Stat(0, 0, 1, S_IFCHR | 0666, 0, 0, (1 << 8) | 3, 0, BLOCK_SIZE, 0, 0, 0, 0,
                0, 0, 0);
            case HostOutput output -> ofMode(S_IFCHR | 0620);
            default -> ofMode(0);
        };
    }

    /** @return the {@value #SIZE} bytes of {@code struct stat} in the Linux x86-64 layout. */
    byte[] toBytes()
    {
        final ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(ST_DEV, dev).putLong(ST_INO, ino).putLong(ST_NLINK, nlink);
        b.putInt(ST_MODE, mode).putInt(ST_UID, uid).putInt(ST_GID, gid);
        b.putLong(ST_RDEV, rdev).putLong(ST_SIZE, size).putLong(ST_BLKSIZE, blksize).putLong(ST_BLOCKS, blocks);
        b.putLong(ST_ATIM, atimeSec).putLong(ST_ATIM + 8, atimeNsec);
        b.putLong(ST_MTIM, mtimeSec).putLong(ST_MTIM + 8, mtimeNsec);
        b.putLong(ST_CTIM, ctimeSec).putLong(ST_CTIM + 8, ctimeNsec);
        return b.array();
    }
}
