using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Licenzy.Api.Webhooks;

/// <summary>Resolves a host name to its addresses: DNS in the app, a table in tests that change what a name resolves to.</summary>
public interface IHostResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

internal sealed class DnsHostResolver : IHostResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>A host that may not be called: it is, or resolves to, an address that is not public.</summary>
public sealed class WebhookAddressRefusedException(string message) : Exception(message);

/// <summary>
/// The one check of where a webhook may go, made when an endpoint is created and again at every
/// connection, so that a name that later resolves to a private address reaches nothing.
/// </summary>
public sealed class WebhookAddressGuard(IHostResolver resolver, IOptionsMonitor<WebhookOptions> options)
{
    public bool PrivateNetworksAllowed => options.CurrentValue.PrivateNetworksAllowed;

    /// <summary>The addresses to connect to for <paramref name="host"/>; throws when any of them is not public (and that is not allowed).</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var literal = host.Trim('[', ']');
        IPAddress[] addresses;
        if (IPAddress.TryParse(literal, out var address)) addresses = [address];
        else
        {
            try
            {
                addresses = await resolver.ResolveAsync(host, cancellationToken);
            }
            catch (Exception e) when (e is SocketException or ArgumentException)
            {
                throw new WebhookAddressRefusedException($"the host '{host}' could not be resolved");
            }
        }
        if (addresses.Length == 0) throw new WebhookAddressRefusedException($"the host '{host}' resolves to no address");
        if (PrivateNetworksAllowed) return addresses;
        var refused = addresses.FirstOrDefault(a => !NetworkAddresses.IsPublic(a));
        if (refused is not null)
            throw new WebhookAddressRefusedException(
                $"the host '{host}' is or resolves to {refused}, a loopback, private or reserved address (allowed only with Licenzy:Webhooks:AllowPrivateNetworks)");
        return addresses;
    }
}
