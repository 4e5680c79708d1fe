package dev.ufork.posix;

/**
 * The constants of the socket calls, with their Linux values: address and protocol families, socket types and their
 * flags, socket option levels and names, {@code shutdown} directions, {@code send}/{@code recv} flags, the
 * {@code poll} event for a peer's half-close, and the sizes of {@code struct sockaddr_in} and
 * {@code struct sockaddr_in6}.
 * <p>
 * {@code struct sockaddr_in} is 16 bytes as on Linux: {@code sa_family} (2 bytes, host order, little-endian here),
 * {@code sin_port} (2 bytes, network order), {@code sin_addr} (4 bytes, network order), 8 zero bytes.
 * {@code struct sockaddr_in6} is 28 bytes: {@code sin6_family} (2, host order), {@code sin6_port} (2, network order),
 * {@code sin6_flowinfo} (4, network order), {@code sin6_addr} (16), {@code sin6_scope_id} (4, host order).
 * <p>
 * Thread safety: constants and pure functions only.
 */
public final class Net
{
    /** Unspecified address family. */
    public static final int AF_UNSPEC = 0;
    /** IPv4. */
    public static final int AF_INET = 2;
    /** IPv6. */
    public static final int AF_INET6 = 10;

    /** A reliable byte stream (TCP). */
    public static final int SOCK_STREAM = 1;
    /** Datagrams: not supported here ({@code socket} fails with EPROTONOSUPPORT). */
    public static final int SOCK_DGRAM = 2;
    /** Or-ed into {@code socket}'s type: the new descriptor is non-blocking (O_NONBLOCK). */
    public static final int SOCK_NONBLOCK = Fcntl.O_NONBLOCK;
    /** Or-ed into {@code socket}'s type: FD_CLOEXEC on the new descriptor. */
    public static final int SOCK_CLOEXEC = Fcntl.O_CLOEXEC;

    /** The default protocol of the family and type. */
    public static final int IPPROTO_IP = 0;
    /** TCP; also the option level of TCP options. */
    public static final int IPPROTO_TCP = 6;

    /** Option level of the socket itself. */
    public static final int SOL_SOCKET = 1;
    /** Allow binding a port that connections in TIME_WAIT still use. */
    public static final int SO_REUSEADDR = 2;
    /** The socket's type (read only). */
    public static final int SO_TYPE = 3;
    /** The pending error, cleared by reading it (read only). */
    public static final int SO_ERROR = 4;
    /** Send buffer size (Linux reports double the size set). */
    public static final int SO_SNDBUF = 7;
    /** Receive buffer size (Linux reports double the size set). */
    public static final int SO_RCVBUF = 8;
    /** TCP keep-alive probes. */
    public static final int SO_KEEPALIVE = 9;
    /** Several sockets may bind the same address and port; the host spreads connections among them. */
    public static final int SO_REUSEPORT = 15;
    /** TCP: send small segments at once (no Nagle delay). */
    public static final int TCP_NODELAY = 1;

    /** shutdown: no more receptions. */
    public static final int SHUT_RD = 0;
    /** shutdown: no more transmissions; the peer reads end of file. */
    public static final int SHUT_WR = 1;
    /** shutdown: both. */
    public static final int SHUT_RDWR = 2;

    /** recv: return the data without consuming it. */
    public static final int MSG_PEEK = 0x2;
    /** send/recv: do not block, as if O_NONBLOCK were set for this call. */
    public static final int MSG_DONTWAIT = 0x40;
    /** recv: wait for the whole buffer (or end of file, an error, a signal). */
    public static final int MSG_WAITALL = 0x100;
    /** send: no SIGPIPE when the connection is broken; only EPIPE. */
    public static final int MSG_NOSIGNAL = 0x4000;

    /** poll: the peer shut down its writing half (read finds end of file); reported only if asked for. */
    public static final short POLLRDHUP = 0x2000;

    /** The IPv4 wildcard address 0.0.0.0, in host order. */
    public static final int INADDR_ANY = 0;
    /** The IPv4 loopback address 127.0.0.1, in host order. */
    public static final int INADDR_LOOPBACK = 0x7F000001;

    /** Bytes of {@code struct sockaddr_in}. */
    public static final int SOCKADDR_IN_SIZE = 16;
    /** Bytes of {@code struct sockaddr_in6}. */
    public static final int SOCKADDR_IN6_SIZE = 28;
    /** Bytes of {@code struct sockaddr_storage}: the longest address a call accepts. */
    public static final int SOCKADDR_STORAGE_SIZE = 128;
    /** Bytes of {@code struct pollfd}: {@code int fd}, {@code short events}, {@code short revents}. */
    public static final int POLLFD_SIZE = 8;

    private Net()
    {
    }

    /** @param host a 16-bit value in host order. @return it in network order, as C's {@code htons}. */
    public static short htons(final int host)
    {
        return Short.reverseBytes((short)host);
    }

    /** @param network a 16-bit value in network order. @return it in host order, as C's {@code ntohs}. */
    public static int ntohs(final short network)
    {
        return Short.reverseBytes(network) & 0xFFFF;
    }

    /** @param host a 32-bit value in host order. @return it in network order, as C's {@code htonl}. */
    public static int htonl(final int host)
    {
        return Integer.reverseBytes(host);
    }

    /** @param network a 32-bit value in network order. @return it in host order, as C's {@code ntohl}. */
    public static int ntohl(final int network)
    {
        return Integer.reverseBytes(network);
    }
}
