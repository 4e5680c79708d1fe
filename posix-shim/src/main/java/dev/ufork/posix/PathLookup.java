package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * One path resolved inside the root, as a chroot'ed Linux kernel resolves it: component by component, from the
 * root (the working directory too, since there is no {@code chdir}); {@code ..} goes back to the directory the walk
 * came from and stays put at the root; a symbolic link's text is read and walked in its place, from the link's
 * directory if relative and from the root if absolute; more than {@value HostFileSystem#SYMLOOP_MAX} links give
 * ELOOP. The result is the directory that holds the last component, open, and that component's name and attributes
 * (or none, if it does not exist), or a directory itself when the path ends in {@code /}, {@code .} or {@code ..}.
 * <p>
 * <b>Why nothing gets out.</b> Every directory on the way is opened relative to the one before with
 * {@code openat(O_NOFOLLOW)} (a {@link SecureDirectoryStream}), and the caller acts on the last component through
 * the held directory the same way ({@code openat}, {@code unlinkat}, {@code renameat}, {@code fstatat}, all without
 * following). The host kernel never follows a link for us: a link swapped in after we looked makes that call fail,
 * and the walk looks again and follows the link itself. {@code ..} never asks the host either. So however the tree
 * changes under the walk, by the host or by µprocesses renaming things, every object reached is below the root.
 * Two things use a path string: reading a link's text (Java has no {@code readlinkat}) and reading the full
 * attributes ({@link HostFileSystem#stat}); a race there can only yield a text that is then walked inside the root
 * or attributes that are thrown away because they name another file.
 * <p>
 * Differences from Linux: a directory needs read permission, not just search permission, to be walked through (it
 * is opened); a directory renamed by someone else while the walk holds it keeps its old path string, so links
 * below it read during that time fail to resolve (ELOOP after retries).
 * <p>
 * Thread safety: confined to the calling thread. Lifetime: until {@link #close()}, which closes the directories it
 * opened.
 */
final class PathLookup implements AutoCloseable
{
    /** How the path ended. */
    enum Last
    {
        /** In a name: {@link #name()} is it. */
        NORMAL,
        /** In {@code .}: the result is the directory. */
        DOT,
        /** In {@code ..}: the result is the directory. */
        DOTDOT,
        /** At the root ({@code /}, or a link to it): the result is the root. */
        ROOT
    }

    /** A directory held open during a walk, with the host path it was reached by. */
    record HostDir(SecureDirectoryStream<Path> stream, Path host, boolean owned)
    {
    }

    private final HostFileSystem fs;
    private final ArrayList<HostDir> stack = new ArrayList<>();
    private String name;
    private PosixFileAttributes attributes;
    private Last last = Last.ROOT;
    private boolean trailingSlash;

    private PathLookup(final HostFileSystem fs)
    {
        this.fs = fs;
    }

    /**
     * Resolves a path.
     *
     * @param fs           the file system.
     * @param path         the path, already checked for length and NUL.
     * @param followLast   whether a symbolic link in the last component is followed.
     * @param slashFollows whether a trailing slash makes the last component followed and requires it to be a
     *                     directory (lookups: open, stat); false for calls that act on the name itself (mkdir,
     *                     unlink, rmdir, rename), which check the slash themselves.
     * @return the lookup; close it.
     * @throws ErrnoException ENOENT (empty path, missing directory), ENOTDIR, ELOOP, ENAMETOOLONG, EACCES, EINVAL.
     */
    static PathLookup resolve(final HostFileSystem fs, final String path, final boolean followLast,
        final boolean slashFollows)
    {
        final PathLookup lookup = new PathLookup(fs);
        try
        {
            lookup.walk(path, followLast, slashFollows);
            return lookup;
        }
        catch (final RuntimeException | Error e)
        {
            lookup.close();
            throw e;
        }
    }

    /** @return the directory holding the result (the result itself when {@link #name()} is null). */
    HostDir dir()
    {
        return stack.get(stack.size() - 1);
    }

    /** @return the last component, or null when the result is {@link #dir()} itself. */
    String name()
    {
        return name;
    }

    /** @return the result's attributes, not following a link; null if the name does not exist. */
    PosixFileAttributes attributes()
    {
        return attributes;
    }

    /** @return how the path ended. */
    Last last()
    {
        return last;
    }

    /** @return whether the path (or the text of a link in its last place) ended in a slash. */
    boolean trailingSlash()
    {
        return trailingSlash;
    }

    /** @return the host path of the result, for reading its attributes (see the class comment). */
    Path host()
    {
        return name == null ? dir().host() : dir().host().resolve(name);
    }

    private void walk(final String path, final boolean followLast, final boolean slashFollows)
    {
        if (path.isEmpty())
        {
            throw new ErrnoException(Errno.ENOENT, "empty path");
        }
        stack.add(fs.rootDir());
        final ArrayDeque<String> pending = new ArrayDeque<>();
        trailingSlash = path.endsWith("/");
        pushFront(pending, path);
        int links = 0;
        while (!pending.isEmpty())
        {
            final String component = pending.removeFirst();
            final boolean isLast = pending.isEmpty();
            if (component.equals("."))
            {
                last = Last.DOT;
                continue;
            }
            if (component.equals(".."))
            {
                up();
                last = Last.DOTDOT;
                continue;
            }
            last = Last.NORMAL;
            HostFileSystem.checkName(component);
            final boolean follow = !isLast || followLast || slashFollows && trailingSlash;
            final HostDir dir = dir();
            // Each pass looks at the name again: it may change between our look and our use of it.
            while (true)
            {
                final PosixFileAttributes found = fs.statAt(dir, component);
                if (found == null)
                {
                    if (!isLast)
                    {
                        throw new ErrnoException(Errno.ENOENT, path + ": no " + component);
                    }
                    name = component;
                    attributes = null;
                    break;
                }
                if (found.isSymbolicLink() && follow)
                {
                    links = countLink(links, path);
                    final String text = fs.readLinkAt(dir, component);
                    if (text == null)
                    {
                        continue;
                    }
                    if (text.isEmpty())
                    {
                        throw new ErrnoException(Errno.ENOENT, path + ": empty symbolic link " + component);
                    }
                    if (text.startsWith("/"))
                    {
                        while (stack.size() > 1)
                        {
                            up();
                        }
                        last = Last.ROOT;
                    }
                    if (isLast && text.endsWith("/"))
                    {
                        trailingSlash = true;
                    }
                    pushFront(pending, text);
                    break;
                }
                if (isLast)
                {
                    name = component;
                    attributes = found;
                    break;
                }
                if (!found.isDirectory())
                {
                    throw new ErrnoException(Errno.ENOTDIR, path + ": " + component + " is not a directory");
                }
                final HostDir child = fs.openDirAt(dir, component);
                if (child == null)
                {
                    // It became a link after we looked; a race counts as a link, so races cannot go on forever.
                    links = countLink(links, path);
                    continue;
                }
                stack.add(child);
                break;
            }
        }
        if (last != Last.NORMAL)
        {
            name = null;
            attributes = fs.statSelf(dir());
        }
        if (slashFollows && trailingSlash && attributes != null && !attributes.isDirectory())
        {
            throw new ErrnoException(Errno.ENOTDIR, path + " is not a directory");
        }
    }

    private static int countLink(final int links, final String path)
    {
        if (links >= HostFileSystem.SYMLOOP_MAX)
        {
            throw new ErrnoException(Errno.ELOOP, path + ": more than " + HostFileSystem.SYMLOOP_MAX
                + " symbolic links");
        }
        return links + 1;
    }

    /** Puts the components of {@code text} in front of {@code pending}, in order; empty ones vanish. */
    private static void pushFront(final ArrayDeque<String> pending, final String text)
    {
        final String[] parts = text.split("/");
        for (int i = parts.length - 1; i >= 0; i--)
        {
            if (!parts[i].isEmpty())
            {
                pending.addFirst(parts[i]);
            }
        }
    }

    /** {@code ..}: back to the directory we came from; at the root, stay. */
    private void up()
    {
        if (stack.size() > 1)
        {
            HostFileSystem.closeQuietly(stack.remove(stack.size() - 1));
        }
    }

    @Override
    public void close()
    {
        for (int i = stack.size() - 1; i >= 0; i--)
        {
            HostFileSystem.closeQuietly(stack.get(i));
        }
        stack.clear();
    }
}
