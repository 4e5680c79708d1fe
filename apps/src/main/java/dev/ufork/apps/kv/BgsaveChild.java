package dev.ufork.apps.kv;

import dev.ufork.kernel.Errno;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixProgram;

import java.io.PrintStream;
import java.nio.ByteBuffer;

/**
 * The program of a BGSAVE child: waits for the parent's go (end of file on a pipe, which comes once fork has
 * returned in the parent), writes the keyspace it sees (the relocated copy, as it was at the fork) to the dump, and
 * reports its private bytes to the parent on a second pipe.
 * <p>
 * A named class rather than a lambda so that it can be linked once at start ({@link KvServer} does): the first
 * evaluation of a capturing lambda spins and links a hidden class, which took 1.6–5.4 ms here and would otherwise
 * land inside the first BGSAVE's fork latency.
 * <p>
 * Thread safety: immutable; runs on the child's thread. Lifetime: one fork.
 */
final class BgsaveChild implements PosixProgram
{
    private final int reportRead;
    private final int reportWrite;
    private final int goRead;
    private final int goWrite;
    private final String directory;
    private final String dbFilename;
    private final long forkTimeMillis;
    private final PrintStream log;

    /**
     * @param report         the pipe ({@code [read, write]}) on which the child reports its private bytes.
     * @param go             the pipe whose end of file tells the child to start.
     * @param directory      where the dump goes.
     * @param dbFilename     the dump's name in {@code directory}.
     * @param forkTimeMillis the snapshot's time, written into the dump.
     * @param log            the server's log.
     */
    BgsaveChild(final int[] report, final int[] go, final String directory, final String dbFilename,
        final long forkTimeMillis, final PrintStream log)
    {
        this.reportRead = report[0];
        this.reportWrite = report[1];
        this.goRead = go[0];
        this.goWrite = go[1];
        this.directory = directory;
        this.dbFilename = dbFilename;
        this.forkTimeMillis = forkTimeMillis;
        this.log = log;
    }

    @Override
    public int main(final Posix child)
    {
        child.close(reportRead);
        child.close(goWrite);
        final byte[] none = new byte[1];
        while (child.read(goRead, none, 0, 1) < 0 && child.errno() == Errno.EINTR.code())
        {
            // Interrupted by a handled signal: wait on. A signal whose action is to terminate ends the child.
        }
        child.close(goRead);
        if (!KvServer.writeSnapshot(child, KvServer.snapshotView(child), directory, dbFilename, forkTimeMillis, log))
        {
            return 1;
        }
        final long cow = child.context().privateBytes();
        final byte[] report = ByteBuffer.allocate(Long.BYTES).putLong(cow).array();
        child.write(reportWrite, report, 0, report.length);
        log.println(child.getpid() + ":C DB saved on disk");
        log.println(child.getpid() + ":C Fork CoW for RDB: current " + cow / (1 << 20) + " MB");
        return 0;
    }
}
