package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Seeded random sequences of open, dup, close, read, write, pread, pwrite, lseek, ftruncate, fstat and F_SETFL on
 * one file, some steps run by forked children (which inherit the descriptors) and grandchildren, checked step by
 * step against a reference model of the file's bytes, the open file descriptions (offset, access mode, O_APPEND)
 * and each µprocess's descriptor table. The children run while their parent waits, so the model is exact.
 */
class PosixFileModelTest
{
    private static final int STEPS = 400;
    private static final int MAX_FDS = 12;

    /** An open file description in the model. */
    private static final class Desc
    {
        final int access;
        boolean append;
        long offset;

        Desc(final int access, final boolean append)
        {
            this.access = access;
            this.append = append;
        }

        boolean readable()
        {
            return access != Fcntl.O_WRONLY;
        }

        boolean writable()
        {
            return access != Fcntl.O_RDONLY;
        }
    }

    /** The file and the run's shared state; each µprocess has its own descriptor table over the shared descriptions. */
    private static final class Model
    {
        final long seed;
        final Random random;
        byte[] content = new byte[0];
        int step;
        /** The last steps taken, for the failure message. */
        final java.util.ArrayDeque<String> history = new java.util.ArrayDeque<>();

        Model(final long seed)
        {
            this.seed = seed;
            this.random = new Random(seed);
        }

        String where()
        {
            return "seed " + seed + " step " + step;
        }

        void log(final String what)
        {
            if (history.size() == 40)
            {
                history.removeFirst();
            }
            history.addLast(step + ": " + what + " -> size " + content.length);
        }

        void write(final long at, final byte[] bytes)
        {
            if (bytes.length == 0)
            {
                // Writing nothing does not extend the file, even past its end.
                return;
            }
            final long end = at + bytes.length;
            if (end > content.length)
            {
                content = Arrays.copyOf(content, (int)end);
            }
            System.arraycopy(bytes, 0, content, (int)at, bytes.length);
        }

        byte[] read(final long at, final int count)
        {
            if (at >= content.length)
            {
                return new byte[0];
            }
            return Arrays.copyOfRange(content, (int)at, (int)Math.min(content.length, at + count));
        }
    }

    @Test
    void randomFileOperationsAcrossForksMatchTheModel() throws Exception
    {
        final long base = Long.getLong("ufork.seed", System.nanoTime());
        for (int run = 0; run < 3; run++)
        {
            final long seed = base + run;
            final Model model = new Model(seed);
            try
            {
                runModel(model);
            }
            catch (final AssertionError | Exception e)
            {
                throw new AssertionError("seed " + seed + " (rerun with -Dufork.seed=" + seed + "): " + e.getMessage()
                    + "\nlast steps:\n  " + String.join("\n  ", model.history), e);
            }
        }
    }

    private static void runModel(final Model model) throws Exception
    {
        final long seed = model.seed;
        final Path root = PosixTestSupport.tempRoot();
        final CopyMode mode = new CopyMode[] {CopyMode.COPY, CopyMode.COA, CopyMode.COPA}[Math.floorMod(seed, 3)];
        try (PosixSystem system = PosixTestSupport.boot(root, mode))
        {
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            PosixTestSupport.run(system, failure, posix ->
            {
                final Map<Integer, Desc> fds = new HashMap<>();
                for (int fd = 0; fd < 3; fd++)
                {
                    fds.put(fd, null);
                }
                final int fd = (int)PosixTestSupport.check(posix, posix.open("f", Fcntl.O_RDWR | Fcntl.O_CREAT,
                    0644), "open");
                assertEquals(3, fd);
                fds.put(fd, new Desc(Fcntl.O_RDWR, false));
                while (model.step < STEPS)
                {
                    step(posix, model, fds, 0, failure);
                }
                return 0;
            });
            assertArrayEquals(model.content, Files.readAllBytes(root.resolve("f")), "the file at the end");
        }
        finally
        {
            FileTestSupport.deleteTree(root);
        }
    }

    private static void step(final Posix posix, final Model model, final Map<Integer, Desc> fds, final int depth,
        final AtomicReference<Throwable> failure)
    {
        model.step++;
        final Random r = model.random;
        final String at = model.where();
        final List<Integer> open = new ArrayList<>();
        for (final Map.Entry<Integer, Desc> e : fds.entrySet())
        {
            if (e.getValue() != null)
            {
                open.add(e.getKey());
            }
        }
        open.sort(null);
        // Now and then a descriptor that is not open, to see EBADF.
        final int fd = open.isEmpty() || r.nextInt(20) == 0 ? 40 + r.nextInt(20) : open.get(r.nextInt(open.size()));
        final Desc d = fds.get(fd);
        final int op = r.nextInt(100);
        if (op < 4 && depth < 2)
        {
            fork(posix, model, fds, depth, failure);
        }
        else if (op < 12)
        {
            if (fds.size() - 3 >= MAX_FDS)
            {
                close(posix, model, fds, open.get(r.nextInt(open.size())), at);
                return;
            }
            final int access = r.nextInt(3);
            final boolean append = r.nextInt(4) == 0;
            final boolean trunc = r.nextInt(10) == 0;
            final int flags = access | (append ? Fcntl.O_APPEND : 0) | (trunc ? Fcntl.O_TRUNC : 0);
            final int got = r.nextBoolean() ? posix.open("f", flags)
                : posix.open(FileTestSupport.cString(posix, 0x10000, "/f"), flags, 0);
            assertEquals(lowestFree(fds), got, at + ": open returns the lowest free descriptor");
            fds.put(got, new Desc(access, append));
            model.log("open flags 0" + Integer.toOctalString(flags) + " = " + got);
            if (trunc && access != Fcntl.O_RDONLY)
            {
                model.content = new byte[0];
            }
        }
        else if (op < 18)
        {
            if (d == null)
            {
                FileTestSupport.assertFails(posix, Errno.EBADF, posix.close(fd), at + ": close");
            }
            else
            {
                close(posix, model, fds, fd, at);
            }
        }
        else if (op < 23)
        {
            if (d == null)
            {
                FileTestSupport.assertFails(posix, Errno.EBADF, posix.dup(fd), at + ": dup");
            }
            else if (fds.size() - 3 < MAX_FDS)
            {
                final int copy = posix.dup(fd);
                model.log("dup " + fd + " = " + copy);
                assertEquals(lowestFree(fds), copy, at + ": dup");
                fds.put(copy, d);
            }
        }
        else if (op < 40)
        {
            write(posix, model, fd, d, at);
        }
        else if (op < 55)
        {
            read(posix, model, fd, d, at);
        }
        else if (op < 63)
        {
            final byte[] bytes = bytes(r);
            final long offset = r.nextInt(model.content.length + 100);
            final long n = r.nextBoolean() ? posix.pwrite(fd, bytes, 0, bytes.length, offset)
                : posix.pwrite(fd, inMemory(posix, bytes), bytes.length, offset);
            if (d == null || !d.writable())
            {
                FileTestSupport.assertFails(posix, Errno.EBADF, n, at + ": pwrite");
                return;
            }
            assertEquals(bytes.length, n, at + ": pwrite");
            model.write(offset, bytes);
            model.log("pwrite " + fd + " " + bytes.length + " at " + offset);
        }
        else if (op < 71)
        {
            final int count = r.nextInt(300);
            final long offset = r.nextInt(model.content.length + 100);
            final byte[] got = new byte[count];
            final long n = posix.pread(fd, got, 0, count, offset);
            if (d == null || !d.readable())
            {
                FileTestSupport.assertFails(posix, Errno.EBADF, n, at + ": pread");
                return;
            }
            final byte[] expected = model.read(offset, count);
            assertEquals(expected.length, n, at + ": pread count");
            assertArrayEquals(expected, Arrays.copyOf(got, (int)n), at + ": pread bytes");
        }
        else if (op < 82)
        {
            final int whence = r.nextInt(4);
            final long delta = r.nextInt(model.content.length + 200) - 100;
            final long n = posix.lseek(fd, delta, whence == 3 ? 7 : whence);
            if (d == null)
            {
                FileTestSupport.assertFails(posix, Errno.EBADF, n, at + ": lseek");
                return;
            }
            final long target = switch (whence)
            {
                case Fcntl.SEEK_SET -> delta;
                case Fcntl.SEEK_CUR -> d.offset + delta;
                case Fcntl.SEEK_END -> model.content.length + delta;
                default -> -1;
            };
            if (target < 0)
            {
                FileTestSupport.assertFails(posix, Errno.EINVAL, n, at + ": lseek to " + target);
                return;
            }
            assertEquals(target, n, at + ": lseek");
            d.offset = target;
            model.log("lseek " + fd + " to " + target);
        }
        else if (op < 88)
        {
            final long length = r.nextInt(model.content.length + 100);
            final int result = posix.ftruncate(fd, length);
            if (d == null)
            {
                FileTestSupport.assertFails(posix, Errno.EBADF, result, at + ": ftruncate");
                return;
            }
            if (!d.writable())
            {
                FileTestSupport.assertFails(posix, Errno.EINVAL, result, at + ": ftruncate read-only");
                return;
            }
            assertEquals(0, result, at + ": ftruncate");
            model.content = Arrays.copyOf(model.content, (int)length);
            model.log("ftruncate " + fd + " " + length);
        }
        else if (op < 94)
        {
            final Stat stat = posix.fstat(fd);
            if (d == null)
            {
                assertEquals(Errno.EBADF, posix.lastError(), at + ": fstat");
                return;
            }
            assertEquals(model.content.length, stat.size(), at + ": fstat size");
            assertEquals(Stat.S_IFREG | 0644, stat.mode(), at + ": fstat mode");
        }
        else
        {
            final boolean append = r.nextBoolean();
            final int result = posix.fcntl(fd, Fcntl.F_SETFL, append ? Fcntl.O_APPEND : 0);
            if (d == null)
            {
                FileTestSupport.assertFails(posix, Errno.EBADF, result, at + ": F_SETFL");
                return;
            }
            assertEquals(0, result, at + ": F_SETFL");
            d.append = append;
            model.log("F_SETFL " + fd + " append " + append);
        }
    }

    private static void fork(final Posix posix, final Model model, final Map<Integer, Desc> fds, final int depth,
        final AtomicReference<Throwable> failure)
    {
        final int steps = 1 + model.random.nextInt(12);
        model.log("fork for " + steps + " steps");
        // The child's table: the same descriptions under the same numbers.
        final Map<Integer, Desc> childFds = new HashMap<>(fds);
        final int child = (int)PosixTestSupport.check(posix, posix.fork(PosixTestSupport.guarded(failure, c ->
        {
            for (int i = 0; i < steps && model.step < STEPS; i++)
            {
                step(c, model, childFds, depth + 1, failure);
            }
            return 0;
        })), "fork");
        final int[] status = new int[1];
        assertEquals(child, posix.waitpid(child, status, 0));
        assertEquals(0, status[0], model.where() + ": the child failed");
        if (failure.get() != null)
        {
            throw new AssertionError("in a child: " + failure.get().getMessage(), failure.get());
        }
    }

    private static void write(final Posix posix, final Model model, final int fd, final Desc d, final String at)
    {
        final byte[] bytes = bytes(model.random);
        final long n = model.random.nextBoolean() ? posix.write(fd, bytes, 0, bytes.length)
            : posix.write(fd, inMemory(posix, bytes), bytes.length);
        if (d == null || !d.writable())
        {
            FileTestSupport.assertFails(posix, Errno.EBADF, n, at + ": write");
            return;
        }
        assertEquals(bytes.length, n, at + ": write");
        if (bytes.length == 0)
        {
            // As on Linux: writing nothing has no effect, not even moving an O_APPEND description's offset to the end.
            model.log("write " + fd + " 0 (no effect)");
            return;
        }
        final long position = d.append ? model.content.length : d.offset;
        model.write(position, bytes);
        d.offset = position + bytes.length;
        model.log("write " + fd + " " + bytes.length + " at " + position + (d.append ? " (append)" : ""));
    }

    private static void read(final Posix posix, final Model model, final int fd, final Desc d, final String at)
    {
        final int count = model.random.nextInt(model.random.nextInt(8) == 0 ? 100_000 : 300);
        final byte[] got = new byte[count];
        final int asked;
        final long n;
        if (model.random.nextBoolean())
        {
            // Through memory, a regular file's read fills the buffer, however large.
            asked = count;
            final Capability buf = FileTestSupport.buffer(posix, 0x20000, Math.max(1, count));
            n = posix.read(fd, buf, count);
            if (n > 0)
            {
                posix.memory().loadBytes(buf, 0, got, 0, (int)n);
            }
        }
        else
        {
            // The array form reads at most one kernel buffer; ask for no more, so the model stays exact.
            asked = Math.min(count, Posix.KERNEL_BUFFER);
            n = posix.read(fd, got, 0, asked);
        }
        if (d == null || !d.readable())
        {
            FileTestSupport.assertFails(posix, Errno.EBADF, n, at + ": read");
            return;
        }
        final byte[] expected = model.read(d.offset, asked);
        model.log("read " + fd + " " + asked + " at " + d.offset + " = " + n);
        assertEquals(expected.length, n, at + ": read count at offset " + d.offset);
        assertArrayEquals(expected, Arrays.copyOf(got, (int)n), at + ": read bytes");
        d.offset += n;
    }

    private static Capability inMemory(final Posix posix, final byte[] bytes)
    {
        final Capability buf = FileTestSupport.buffer(posix, 0x40000, Math.max(1, bytes.length));
        posix.memory().storeBytes(buf, 0, bytes, 0, bytes.length);
        return buf;
    }

    private static byte[] bytes(final Random r)
    {
        final byte[] bytes = new byte[r.nextInt(12) == 0 ? 65_000 + r.nextInt(10_000) : r.nextInt(200)];
        r.nextBytes(bytes);
        return bytes;
    }

    private static void close(final Posix posix, final Model model, final Map<Integer, Desc> fds, final int fd,
        final String at)
    {
        assertEquals(0, posix.close(fd), at + ": close");
        fds.remove(fd);
        model.log("close " + fd);
    }

    private static int lowestFree(final Map<Integer, Desc> fds)
    {
        int fd = 0;
        while (fds.containsKey(fd))
        {
            fd++;
        }
        return fd;
    }
}
