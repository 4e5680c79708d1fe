package dev.ufork.apps.kv;

import java.util.Arrays;

/**
 * One connection: its socket descriptor, the bytes it sent that are not yet parsed, and the replies not yet
 * written. These are the server's protocol buffers, in Java memory; the data the commands act on is in the
 * µprocess's memory.
 * <p>
 * Thread safety: confined to the server's thread.
 */
final class Client
{
    final long id;
    final int fd;
    final Reply reply = new Reply();
    byte[] query = new byte[16 * 1024];
    int queryStart;
    int queryEnd;
    String name;
    /** Set after a protocol error or QUIT: the server closes the connection once the reply is written. */
    boolean closeAfterReply;
    /** Commands executed, for INFO. */
    long commands;
    /** The client's slot in the server's poll set; 0 once it is closed. */
    int pollSlot;

    Client(final long id, final int fd)
    {
        this.id = id;
        this.fd = fd;
    }

    /** Makes room for at least {@code more} bytes after {@link #queryEnd}. */
    void ensureQueryRoom(final int more)
    {
        if (queryEnd + more <= query.length)
        {
            return;
        }
        if (queryStart > 0)
        {
            System.arraycopy(query, queryStart, query, 0, queryEnd - queryStart);
            queryEnd -= queryStart;
            queryStart = 0;
            if (queryEnd + more <= query.length)
            {
                return;
            }
        }
        query = Arrays.copyOf(query, Math.max(query.length * 2, queryEnd + more));
    }

    /** Drops parsed bytes, and a large buffer once it is empty. */
    void compactQuery()
    {
        if (queryStart == queryEnd)
        {
            queryStart = 0;
            queryEnd = 0;
            if (query.length > 1 << 20)
            {
                query = new byte[16 * 1024];
            }
        }
    }
}
