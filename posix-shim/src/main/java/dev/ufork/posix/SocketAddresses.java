package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * {@code struct sockaddr_in} and {@code struct sockaddr_in6} as Linux lays them out (see {@link Net}), to and from
 * {@link InetSocketAddress}. Decoding works on a private copy of the caller's bytes, so a µprocess cannot change an
 * address between its validation and its use.
 * <p>
 * Thread safety: stateless.
 */
final class SocketAddresses
{
    /** The shortest {@code sockaddr_in6} Linux accepts (RFC 2133's, without the scope id). */
    private static final int SOCKADDR_IN6_MIN = 24;

    private SocketAddresses()
    {
    }

    /**
     * Checks an {@code addrlen} as Linux does before it copies the address in.
     *
     * @throws ErrnoException EINVAL if negative or longer than {@code struct sockaddr_storage}.
     */
    static void checkLength(final int addrlen)
    {
        if (addrlen < 0 || addrlen > Net.SOCKADDR_STORAGE_SIZE)
        {
            throw new ErrnoException(Errno.EINVAL, "address length " + addrlen + " outside [0, "
                + Net.SOCKADDR_STORAGE_SIZE + "]");
        }
    }

    /**
     * Decodes an address for a socket of {@code family}.
     *
     * @param bytes  the caller's address bytes (already copied in).
     * @param family the socket's family, {@link Net#AF_INET} or {@link Net#AF_INET6}.
     * @return the address.
     * @throws ErrnoException EINVAL if too short for the family; EAFNOSUPPORT if of another family.
     */
    static InetSocketAddress decode(final byte[] bytes, final int family)
    {
        final int length = bytes.length;
        final int minimum = family == Net.AF_INET ? Net.SOCKADDR_IN_SIZE : SOCKADDR_IN6_MIN;
        if (length < minimum)
        {
            throw new ErrnoException(Errno.EINVAL, "address of " + length + " bytes is shorter than " + minimum);
        }
        final int given = (bytes[0] & 0xFF) | (bytes[1] & 0xFF) << 8;
        if (given != family)
        {
            throw new ErrnoException(Errno.EAFNOSUPPORT, "address family " + given + " on a socket of family "
                + family);
        }
        final int port = (bytes[2] & 0xFF) << 8 | (bytes[3] & 0xFF);
        try
        {
            if (family == Net.AF_INET)
            {
                final byte[] ip = {bytes[4], bytes[5], bytes[6], bytes[7]};
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            }
            final byte[] ip = new byte[16];
            System.arraycopy(bytes, 8, ip, 0, 16);
            final int scope = length >= Net.SOCKADDR_IN6_SIZE
                ? (bytes[24] & 0xFF) | (bytes[25] & 0xFF) << 8 | (bytes[26] & 0xFF) << 16 | (bytes[27] & 0xFF) << 24
                : 0;
            final InetAddress address = scope != 0 ? Inet6Address.getByAddress(null, ip, scope)
                : InetAddress.getByAddress(ip);
            return new InetSocketAddress(address, port);
        }
        catch (final UnknownHostException e)
        {
            // Only for an array of the wrong length, which the checks above exclude.
            throw new IllegalStateException(e);
        }
    }

    /**
     * Checks a Java caller's address for a socket of {@code family}.
     *
     * @return the address, its wildcard and IPv4 forms as the family needs.
     * @throws ErrnoException EINVAL if null or unresolved; EAFNOSUPPORT if of another family.
     */
    static InetSocketAddress check(final InetSocketAddress address, final int family)
    {
        if (address == null || address.isUnresolved())
        {
            throw new ErrnoException(Errno.EINVAL, "no resolved address: " + address);
        }
        if (family == Net.AF_INET && !(address.getAddress() instanceof Inet4Address))
        {
            throw new ErrnoException(Errno.EAFNOSUPPORT, address + " on an AF_INET socket");
        }
        return address;
    }

    /**
     * Encodes an address as a socket of {@code family} reports it: an AF_INET6 socket reports an IPv4 peer as an
     * IPv4-mapped IPv6 address.
     *
     * @param address the address, or null for the unbound wildcard.
     * @param family  the socket's family.
     * @return 16 or 28 bytes.
     */
    static byte[] encode(final InetSocketAddress address, final int family)
    {
        final byte[] out = new byte[family == Net.AF_INET ? Net.SOCKADDR_IN_SIZE : Net.SOCKADDR_IN6_SIZE];
        out[0] = (byte)family;
        out[1] = (byte)(family >>> 8);
        if (address == null)
        {
            return out;
        }
        final int port = address.getPort();
        out[2] = (byte)(port >>> 8);
        out[3] = (byte)port;
        final InetAddress ip = address.getAddress();
        final byte[] raw = ip.getAddress();
        if (family == Net.AF_INET)
        {
            System.arraycopy(raw, 0, out, 4, 4);
            return out;
        }
        if (raw.length == 4)
        {
            out[18] = (byte)0xFF;
            out[19] = (byte)0xFF;
            System.arraycopy(raw, 0, out, 20, 4);
            return out;
        }
        System.arraycopy(raw, 0, out, 8, 16);
        final int scope = ((Inet6Address)ip).getScopeId();
        out[24] = (byte)scope;
        out[25] = (byte)(scope >>> 8);
        out[26] = (byte)(scope >>> 16);
        out[27] = (byte)(scope >>> 24);
        return out;
    }

    /** @return the wildcard address of a family with a port (0 for an ephemeral one). */
    static InetSocketAddress wildcard(final int family, final int port)
    {
        try
        {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[family == Net.AF_INET ? 4 : 16]), port);
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalStateException(e);
        }
    }
}
