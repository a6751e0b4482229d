using Microsoft.Extensions.Time.Testing;

namespace Licenzy.Testing;

/// <summary>
/// Where a test's tenants live: the standalone app (<see cref="LicenzyApp"/>), or Api and Ingest
/// replicas behind a Dapr sidecar double (<see cref="DaprCluster"/>). Tests reach it only as a
/// user would: the setup, runtime and webhook routes, Stripe's stand-in, and one clock.
/// </summary>
public interface ILicenzyHost
{
    FakeTimeProvider Clock { get; }

    StripeStandIn Stripe { get; }

    /// <summary>Every subscriber's results, to wait for a message instead of sleeping.</summary>
    DeliveryObserver Deliveries { get; }

    /// <summary>The Api app with no credentials.</summary>
    HttpClient ApiClient();

    /// <summary>The setup API, with the admin token.</summary>
    HttpClient AdminClient();

    /// <summary>The runtime API, with a runtime key.</summary>
    HttpClient RuntimeClient(string apiKey);

    /// <summary>The Stripe webhook route (the Ingest app).</summary>
    HttpClient IngestClient();

    /// <summary>The Dapr sidecar double, when the host runs on the Dapr binding.</summary>
    FakeDaprSidecar? Sidecar { get; }
}
