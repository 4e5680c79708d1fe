package dev.ufork.posix;

import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.ufork.posix.FileTestSupport.ascii;
import static dev.ufork.posix.FileTestSupport.assertFails;
import static dev.ufork.posix.FileTestSupport.readToEnd;
import static dev.ufork.posix.PosixTestSupport.check;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No path leads out of the root: {@code ..}, absolute and relative links, loops, and links swapped in while
 * µprocesses resolve paths, by the host or by another µprocess. Each test keeps a secret next to the root, in
 * {@code outside/}, and a decoy of the same name inside, and checks that only the decoy is ever reached and that
 * nothing outside changes.
 */
class PosixPathEscapeTest
{
    private static final String SECRET = "OUTSIDE-SECRET";
    private static final String DECOY = "decoy!";
    private static final String INSIDE = "inside";

    private Path base;
    private Path outside;
    private Path root;
    private PosixSystem system;

    @BeforeEach
    void boot() throws IOException
    {
        base = PosixTestSupport.tempRoot();
        outside = Files.createDirectory(base.resolve("outside"));
        Files.writeString(outside.resolve("secret"), SECRET);
        Files.createDirectory(outside.resolve("etc"));
        Files.writeString(outside.resolve("etc/passwd"), SECRET);
        root = Files.createDirectory(base.resolve("root"));
        Files.createDirectory(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), DECOY);
        system = PosixTestSupport.boot(root, CopyMode.COPA);
    }

    @AfterEach
    void shutdown() throws IOException
    {
        try
        {
            system.close();
            assertEquals(SECRET, Files.readString(outside.resolve("secret")), "the secret is untouched");
            assertEquals(Set.of("secret", "etc"), names(outside), "nothing was made or removed outside");
            assertEquals(Set.of("outside", "root"), names(base), "nothing was made next to the root");
        }
        finally
        {
            FileTestSupport.deleteTree(base);
        }
    }

    private static Set<String> names(final Path dir) throws IOException
    {
        try (Stream<Path> children = Files.list(dir))
        {
            return children.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private void run(final PosixTestSupport.Body body)
    {
        PosixTestSupport.runClean(system, body);
    }

    private static String contents(final Posix posix, final String path)
    {
        final int fd = posix.open(path, Fcntl.O_RDONLY);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            return ascii(readToEnd(posix, fd));
        }
        finally
        {
            posix.close(fd);
        }
    }

    @Test
    void dotDotStopsAtTheRoot()
    {
        run(posix ->
        {
            assertEquals(DECOY, contents(posix, "../../etc/passwd"));
            assertEquals(DECOY, contents(posix, "/../../../etc/passwd"));
            assertEquals(DECOY, contents(posix, "etc/../../../etc/./passwd"));
            assertNull(contents(posix, "../outside/secret"));
            assertEquals(Errno.ENOENT, posix.lastError());
            assertNull(contents(posix, "../../outside/etc/passwd"));
            assertEquals(posix.stat("/").ino(), posix.stat("..").ino());
            assertEquals(posix.stat("/").ino(), posix.stat("/../..").ino());
            assertFails(posix, Errno.ENOENT, posix.mkdir("../outside/made", 0777), "mkdir above the root");
            assertFails(posix, Errno.ENOENT, posix.unlink("../outside/secret"), "unlink above the root");
            assertFails(posix, Errno.ENOENT, posix.rename("../outside/secret", "stolen"), "rename from above");
            assertFails(posix, Errno.EEXIST, posix.mkdir("..", 0777), "mkdir of ..");
            return 0;
        });
    }

    @Test
    void absoluteLinksStartAtTheRoot() throws IOException
    {
        Files.createSymbolicLink(root.resolve("etclink"), Path.of("/etc"));
        Files.createSymbolicLink(root.resolve("hostlink"), outside);
        Files.createSymbolicLink(root.resolve("filelink"), outside.resolve("secret"));
        Files.createSymbolicLink(root.resolve("dangling"), outside.resolve("created"));
        run(posix ->
        {
            assertEquals(DECOY, contents(posix, "etclink/passwd"), "/etc is the root's etc");
            assertNull(contents(posix, "hostlink/secret"));
            assertEquals(Errno.ENOENT, posix.lastError());
            assertNull(contents(posix, "filelink"));
            assertEquals(Errno.ENOENT, posix.lastError());
            assertNull(posix.stat("hostlink/secret"));
            assertNull(posix.stat("filelink"));
            assertTrue(Stat.S_ISLNK(posix.lstat("filelink").mode()), "the link itself is inside");
            assertFails(posix, Errno.ENOENT, posix.mkdir("hostlink/made", 0777), "mkdir through the link");
            assertFails(posix, Errno.ENOENT, posix.unlink("hostlink/secret"), "unlink through the link");
            assertFails(posix, Errno.ENOENT, posix.rename("hostlink/secret", "stolen"), "rename through the link");
            assertFails(posix, Errno.ENOENT, posix.rename("etc/passwd", "hostlink/planted"), "rename out");
            assertFails(posix, Errno.ENOENT, posix.open("hostlink/planted", Fcntl.O_WRONLY | Fcntl.O_CREAT, 0644),
                "create through the link");
            assertFails(posix, Errno.ENOENT, posix.open("dangling", Fcntl.O_WRONLY | Fcntl.O_CREAT, 0644),
                "create through a dangling link");
            assertEquals(0, posix.unlink("filelink"), "removing the link removes only the link");
            return 0;
        });
    }

    @Test
    void relativeLinksResolveFromTheirDirectoryAndStopAtTheRoot() throws IOException
    {
        Files.createSymbolicLink(root.resolve("up"), Path.of(".."));
        Files.createDirectories(root.resolve("a/b"));
        Files.createSymbolicLink(root.resolve("a/b/top"), Path.of("../.."));
        Files.createSymbolicLink(root.resolve("a/b/escape"), Path.of("../../../../outside"));
        Files.createSymbolicLink(root.resolve("a/b/sibling"), Path.of("../b/top/etc"));
        Files.createSymbolicLink(root.resolve("a/b/plant"), Path.of("../../../outside/planted"));
        run(posix ->
        {
            assertEquals(DECOY, contents(posix, "up/up/up/etc/passwd"));
            assertNull(contents(posix, "up/outside/secret"));
            assertEquals(DECOY, contents(posix, "a/b/top/etc/passwd"));
            assertEquals(DECOY, contents(posix, "a/b/sibling/passwd"));
            assertEquals(posix.stat("/").ino(), posix.stat("a/b/top").ino());
            assertNull(contents(posix, "a/b/escape/secret"));
            assertFails(posix, Errno.ENOENT, posix.open("a/b/plant", Fcntl.O_WRONLY | Fcntl.O_CREAT, 0644),
                "create through a relative dangling link");
            // With an outside/ inside the root, the same links lead there.
            check(posix, posix.mkdir("/outside", 0755), "mkdir");
            final int fd = (int)check(posix, posix.open("a/b/plant", Fcntl.O_WRONLY | Fcntl.O_CREAT, 0644), "open");
            FileTestSupport.writeAll(posix, fd, ascii(INSIDE));
            assertEquals(INSIDE, contents(posix, "a/b/escape/planted"));
            return 0;
        });
        assertEquals(INSIDE, Files.readString(root.resolve("outside/planted")));
    }

    @Test
    void loopsGiveEloop() throws IOException
    {
        Files.createSymbolicLink(root.resolve("self"), Path.of("self"));
        Files.createSymbolicLink(root.resolve("ping"), Path.of("pong"));
        Files.createSymbolicLink(root.resolve("pong"), Path.of("/ping"));
        Files.createSymbolicLink(root.resolve("dirloop"), Path.of("dirloop/x"));
        run(posix ->
        {
            assertFails(posix, Errno.ELOOP, posix.open("self", Fcntl.O_RDONLY), "open self");
            assertFails(posix, Errno.ELOOP, posix.open("ping", Fcntl.O_RDONLY), "open ping");
            assertFails(posix, Errno.ELOOP, posix.open("ping/x", Fcntl.O_RDONLY), "open through a loop");
            assertFails(posix, Errno.ELOOP, posix.open("dirloop", Fcntl.O_RDONLY), "a growing loop");
            assertFails(posix, Errno.ELOOP, posix.open("ping", Fcntl.O_WRONLY | Fcntl.O_CREAT, 0644), "create");
            assertNull(posix.stat("pong"));
            assertEquals(Errno.ELOOP, posix.lastError());
            assertFails(posix, Errno.ELOOP, posix.mkdir("ping/x", 0777), "mkdir through a loop");
            assertTrue(Stat.S_ISLNK(posix.lstat("self").mode()), "lstat does not follow");
            assertEquals(0, posix.unlink("self"));
            return 0;
        });
    }

    @Test
    void fortyLinksResolveFortyOneDoNot() throws IOException
    {
        Files.writeString(root.resolve("target"), INSIDE);
        // chain/l0 -> l1 -> ... -> l40 -> /target: opening l1 follows 40 links, l0 follows 41.
        Files.createDirectory(root.resolve("chain"));
        Files.createSymbolicLink(root.resolve("chain/l40"), Path.of("/target"));
        for (int i = 39; i >= 0; i--)
        {
            Files.createSymbolicLink(root.resolve("chain/l" + i), Path.of("l" + (i + 1)));
        }
        run(posix ->
        {
            assertEquals(INSIDE, contents(posix, "chain/l1"));
            assertFails(posix, Errno.ELOOP, posix.open("chain/l0", Fcntl.O_RDONLY), "41 links");
            assertEquals(INSIDE.length(), posix.stat("chain/l1").size());
            assertNull(posix.stat("chain/l0"));
            assertEquals(Errno.ELOOP, posix.lastError());
            return 0;
        });
    }

    /** What a µprocess does while links are swapped under it; each result must come from inside the root. */
    private static void probe(final Posix posix, final int round, final Counts counts)
    {
        final String got = contents(posix, "x/secret");
        if (got == null)
        {
            expectRaceError(posix, "open");
            counts.failed.incrementAndGet();
        }
        else
        {
            assertTrue(got.equals(INSIDE) || got.equals(DECOY), "read " + got + " in round " + round);
            counts.read.incrementAndGet();
        }
        final Stat stat = posix.stat("x/secret");
        if (stat == null)
        {
            expectRaceError(posix, "stat");
        }
        else
        {
            assertEquals(INSIDE.length(), stat.size(), "stat reached a file of size " + stat.size());
        }
        if (posix.mkdir("x/m" + round, 0755) < 0)
        {
            expectRaceError(posix, "mkdir");
        }
        final int fd = posix.open("x/c" + round, Fcntl.O_WRONLY | Fcntl.O_CREAT | Fcntl.O_EXCL, 0644);
        if (fd < 0)
        {
            expectRaceError(posix, "create");
        }
        else
        {
            posix.close(fd);
        }
    }

    private static void expectRaceError(final Posix posix, final String call)
    {
        final Errno e = posix.lastError();
        assertTrue(e == Errno.ENOENT || e == Errno.ELOOP, call + " failed with " + e);
    }

    /** Tallies of the race tests, to show in failures that the race happened. */
    private static final class Counts
    {
        final AtomicInteger read = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicInteger swaps = new AtomicInteger();

        @Override
        public String toString()
        {
            return read + " reads, " + failed + " failed opens, " + swaps + " swaps";
        }
    }

    /** Sets up x (a directory with the inside secret) and two links that may replace it. */
    private void raceTree() throws IOException
    {
        Files.createDirectory(root.resolve("x"));
        Files.writeString(root.resolve("x/secret"), INSIDE);
        // Swapped in for x: an absolute link to the real outside, and a relative one that climbs out of the root.
        Files.createSymbolicLink(root.resolve("x.abs"), outside);
        Files.createSymbolicLink(root.resolve("x.rel"), Path.of("../outside"));
        Files.createDirectory(root.resolve("outside"));
        Files.writeString(root.resolve("outside/secret"), DECOY);
    }

    /** The cycle of renames that puts each of the three in x's place in turn. */
    private static final List<String[]> SWAPS = List.of(
        new String[] {"x", "x.dir"}, new String[] {"x.abs", "x"}, new String[] {"x", "x.abs"},
        new String[] {"x.rel", "x"}, new String[] {"x", "x.rel"}, new String[] {"x.dir", "x"});

    @Test
    void linksSwappedByTheHostDuringResolutionStayInside() throws Exception
    {
        raceTree();
        final AtomicBoolean done = new AtomicBoolean();
        final Counts counts = new Counts();
        final AtomicReference<Throwable> swapFailure = new AtomicReference<>();
        final Thread swapper = Thread.ofPlatform().name("host-swapper").start(() ->
        {
            try
            {
                while (!done.get())
                {
                    for (final String[] swap : SWAPS)
                    {
                        Files.move(root.resolve(swap[0]), root.resolve(swap[1]), StandardCopyOption.ATOMIC_MOVE);
                        counts.swaps.incrementAndGet();
                    }
                }
            }
            catch (final IOException e)
            {
                swapFailure.set(new UncheckedIOException(e));
            }
        });
        try
        {
            run(posix ->
            {
                for (int round = 0; round < 1500; round++)
                {
                    probe(posix, round, counts);
                }
                return 0;
            });
        }
        catch (final AssertionError e)
        {
            throw new AssertionError(e.getMessage() + " (" + counts + ")", e);
        }
        finally
        {
            done.set(true);
            swapper.join();
        }
        assertNull(swapFailure.get(), "the swapper failed");
        assertTrue(counts.swaps.get() > 0, "the host swapped links: " + counts);
    }

    @Test
    void linksSwappedByAnotherMicroprocessStayInside() throws Exception
    {
        raceTree();
        final AtomicBoolean done = new AtomicBoolean();
        final Counts counts = new Counts();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        try
        {
            PosixTestSupport.run(system, failure, posix ->
            {
                final int swapper = (int)check(posix, posix.fork(PosixTestSupport.guarded(failure, child ->
                {
                    while (!done.get())
                    {
                        for (final String[] swap : SWAPS)
                        {
                            check(child, child.rename(swap[0], swap[1]), "rename " + swap[0] + " " + swap[1]);
                            counts.swaps.incrementAndGet();
                        }
                    }
                    return 0;
                })), "fork");
                try
                {
                    for (int round = 0; round < 1500; round++)
                    {
                        probe(posix, round, counts);
                    }
                }
                finally
                {
                    done.set(true);
                }
                final int[] status = new int[1];
                assertEquals(swapper, posix.waitpid(swapper, status, 0));
                assertEquals(0, Posix.WEXITSTATUS(status[0]), "the swapper failed");
                return 0;
            });
        }
        catch (final AssertionError e)
        {
            throw new AssertionError(e.getMessage() + " (" + counts + ")", e);
        }
        assertTrue(counts.swaps.get() > 0, "the other µprocess swapped links: " + counts);
    }
}
