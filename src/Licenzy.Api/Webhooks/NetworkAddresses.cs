using System.Net;
using System.Net.Sockets;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// Which addresses a tenant's webhook may reach: only public unicast ones. Loopback, private,
/// link-local, unique-local, carrier-grade NAT, unspecified, multicast and reserved ranges are
/// the network Licenzy runs in (or no network at all), and so are IPv6 forms that embed such an
/// IPv4 address (mapped, compatible, NAT64, 6to4).
/// </summary>
public static class NetworkAddresses
{
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork) return IsPublicV4(address.GetAddressBytes());
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;

        var bytes = address.GetAddressBytes();
        if (address.IsIPv4MappedToIPv6) return IsPublicV4(bytes[12..]);
        if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0) return false; // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
        if (bytes[0] == 0xff) return false; // multicast
        if (bytes[0] == 0xfe && (bytes[1] & 0xc0) is 0x80 or 0xc0) return false; // link-local fe80::/10, site-local fec0::/10
        if ((bytes[0] & 0xfe) == 0xfc) return false; // unique-local fc00::/7
        if (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b) return IsPublicV4(bytes[12..]); // NAT64 64:ff9b::/96
        if (bytes[0] == 0x20 && bytes[1] == 0x02) return IsPublicV4(bytes[2..6]); // 6to4 2002::/16
        if (bytes[0] == 0x01 && bytes[1] == 0x00 && bytes.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0) return false; // discard 100::/64
        return true;
    }

    private static bool IsPublicV4(ReadOnlySpan<byte> b) => !(
        b[0] == 0                                   // 0.0.0.0/8, "this network"
        || b[0] == 10                               // 10/8
        || b[0] == 127                              // loopback
        || (b[0] == 100 && (b[1] & 0xc0) == 64)     // 100.64/10, carrier-grade NAT
        || (b[0] == 169 && b[1] == 254)             // link-local (cloud metadata lives here)
        || (b[0] == 172 && (b[1] & 0xf0) == 16)     // 172.16/12
        || (b[0] == 192 && b[1] == 0 && b[2] == 0)  // 192.0.0/24, IETF protocol assignments
        || (b[0] == 192 && b[1] == 168)             // 192.168/16
        || (b[0] == 198 && (b[1] & 0xfe) == 18)     // 198.18/15, benchmarking
        || b[0] >= 224);                            // multicast, reserved, broadcast
}
