using System.Diagnostics;
using System.Text.Json;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Licenzy.Api.Reads;

/// <summary>
/// Fills the <see cref="AccessIndex"/> from every subject document in the store, at start and in
/// the background: until it is done, checks of subjects not yet held read the store, and the
/// readiness probe says the app is still loading. Writes meanwhile are recorded as usual, and a
/// document read here never replaces a newer one recorded.
/// </summary>
public sealed class AccessIndexLoader(AccessIndex index, IStateStoreFactory stores, ILogger<AccessIndexLoader> log) : BackgroundService
{
    private const int PageSize = 2_000;
    private const int ManyDocuments = 10_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!index.IsOn) return;
        if (stores.Get(Components.StateStore) is not IStateScanner scanner)
        {
            log.LogWarning("The state store cannot be scanned; access checks will read subjects from the store");
            index.MarkLoaded(partial: true);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var documents = 0;
            await foreach (var page in scanner.ScanAsync(StateKeys.SubjectPrefix, PageSize, stoppingToken))
            {
                foreach (var (key, json) in page) Load(key, json);
                documents += page.Count;
            }
            index.TrimExcess();
            index.MarkLoaded(partial: false);
            if (documents >= ManyDocuments)
            {
                // Reading every document made garbage many times the index's size, once: give it back now
                // rather than carry it as committed memory until the collector next looks.
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }
            log.LogInformation("Access index loaded: {Subjects} subjects in {Seconds:0.0} s; the managed heap is {HeapMegabytes} MB",
                index.Count, Stopwatch.GetElapsedTime(started).TotalSeconds, GC.GetGCMemoryInfo().HeapSizeBytes >> 20);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            // Still correct, only slower: subjects not held are read from the store.
            log.LogError(exception, "Loading the access index failed after {Subjects} subjects; access checks of the others will read the store", index.Count);
            index.MarkLoaded(partial: true);
        }
    }

    private void Load(string key, string json)
    {
        // A subject's history head sits beside its document (decision 019): not a subject, not news.
        if (key.EndsWith(StateKeys.HistoryHeadSuffix, StringComparison.Ordinal)) return;
        if (!StateKeys.TryParseSubject(key, out var tenantId, out var mode, out var subjectRef))
        {
            log.LogWarning("Skipped a state key that is not a subject's: {Key}", key);
            return;
        }
        var stored = JsonSerializer.Deserialize<StoredSubject>(json, LicenzyJson.Options)!;
        index.Load(new SubjectKey(tenantId, mode, subjectRef), stored.Version, stored.Entitlements.Select(e =>
            ((IReadOnlyList<string>)e.Features,
             Entitlement.AvailabilityEnd(e.Kind, e.Status, e.Reason, e.ExpiresAt, e.GraceEndsAt, Entitlement.Remaining(e.UsageGranted, e.UsageConsumed)))));
    }

    /// <summary>The part of a stored subject document that access depends on; the rest is skipped unread.</summary>
    private sealed class StoredSubject
    {
        public long Version { get; init; }
        public List<StoredEntitlement> Entitlements { get; init; } = [];
    }

    private sealed class StoredEntitlement
    {
        public ProductKind Kind { get; init; }
        public EntitlementStatus Status { get; init; }
        public AvailabilityReason? Reason { get; init; }
        public List<string> Features { get; init; } = [];
        public DateTimeOffset? ExpiresAt { get; init; }
        public DateTimeOffset? GraceEndsAt { get; init; }
        public long? UsageGranted { get; init; }
        public long UsageConsumed { get; init; }
    }
}

/// <summary>Not ready while the access index is loading: until then checks may read the store, which is slower.</summary>
public sealed class AccessIndexHealthCheck(AccessIndex index) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(!index.IsOn || index.IsLoaded
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"Loading the access index: {index.Count} subjects so far"));
}
