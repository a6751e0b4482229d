namespace Licenzy.Sandbox.Account;

/// <summary>
/// The one Stripe test-mode account the sandbox plays, shared by every <c>sk_test_</c> key: its
/// prices, Checkout Sessions and the subscriptions, invoices, payments, charges and disputes that
/// paying made. Kept in memory only: a restart forgets everything but the seeded prices.
/// </summary>
public sealed class SandboxAccount
{
    private readonly Lock _gate = new();
    private readonly AccountData _data = new();

    public SandboxAccount(TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        foreach (var price in SeededPrices.All(now)) _data.Prices[price.Id] = price;
    }

    /// <summary>Reads or changes the account as one step; nothing else sees it half-changed.</summary>
    public T Transact<T>(Func<AccountData, T> change)
    {
        lock (_gate)
        {
            return change(_data);
        }
    }
}

/// <summary>The account's objects. Touched only inside <see cref="SandboxAccount.Transact{T}"/>.</summary>
public sealed class AccountData
{
    private long _sequence;

    public Dictionary<string, SandboxPrice> Prices { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SandboxCheckoutSession> Sessions { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SandboxSubscription> Subscriptions { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SandboxInvoice> Invoices { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SandboxPaymentIntent> PaymentIntents { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SandboxCharge> Charges { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SandboxDispute> Disputes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SandboxWebhookEndpoint> WebhookEndpoints { get; } = new(StringComparer.Ordinal);

    /// <summary>The secret of the newest endpoint registered for the tenant's ingest route, or null when none is.</summary>
    public string? WebhookSecretFor(string tenantId) =>
        Latest(WebhookEndpoints.Values.Where(endpoint => endpoint.IsIngestRouteOf(tenantId)), endpoint => endpoint.Sequence)?.Secret;

    /// <summary>One customer per tenant and subject, as a shop that reuses its Stripe customers would have.</summary>
    public Dictionary<(string TenantId, string SubjectRef), string> Customers { get; } = new();

    /// <summary>First answers to idempotent requests, per caller and key.</summary>
    public Dictionary<(string Caller, string Key), IdempotentAnswer> IdempotentAnswers { get; } = new();

    /// <summary>When the last step on each subject happened; see <see cref="StepTime"/>.</summary>
    private readonly Dictionary<(string TenantId, string SubjectRef), DateTimeOffset> _lastStep = new();

    public long NextSequence() => ++_sequence;

    /// <summary>
    /// When a step on a subject (a payment, a trigger) would happen now: in whole seconds, as
    /// Stripe's timestamps are, but at least a second after the subject's previous step. Licenzy
    /// orders a subject's events by these timestamps, so two quick steps (a payment failure, then
    /// its recovery) must not share a second; a burst of them runs a few seconds ahead of the clock.
    /// </summary>
    public DateTimeOffset StepTime(string tenantId, string? subjectRef, DateTimeOffset now)
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        return subjectRef is not null && _lastStep.TryGetValue((tenantId, subjectRef), out var last) && at <= last ? last.AddSeconds(1) : at;
    }

    /// <summary>Records that a step on the subject happened at <paramref name="at"/> (from <see cref="StepTime"/>).</summary>
    public void RecordStep(string tenantId, string? subjectRef, DateTimeOffset at)
    {
        if (subjectRef is not null) _lastStep[(tenantId, subjectRef)] = at;
    }

    public string CustomerFor(Owner owner)
    {
        if (owner.SubjectRef is null) return StripeIds.New("cus");
        var key = (owner.TenantId, owner.SubjectRef);
        if (!Customers.TryGetValue(key, out var id)) Customers[key] = id = StripeIds.New("cus");
        return id;
    }

    /// <summary>The most recent of <paramref name="items"/>, by creation.</summary>
    public static T? Latest<T>(IEnumerable<T> items, Func<T, long> sequence) where T : class =>
        items.OrderByDescending(sequence).FirstOrDefault();
}

/// <summary>What a request with an Idempotency-Key was first answered, and the request it answered.</summary>
public sealed record IdempotentAnswer(string RequestFingerprint, int Status, string Body, DateTimeOffset At);

/// <summary>Well-known test prices, there from the start, so a walk-through needs no setup.</summary>
public static class SeededPrices
{
    public const string ProMonthly = "price_sandbox_pro_monthly";
    public const string DayPass = "price_sandbox_day_pass";
    public const string Credits100 = "price_sandbox_credits_100";

    public static IEnumerable<SandboxPrice> All(DateTimeOffset now) =>
    [
        new(ProMonthly, PriceTypes.Recurring, 1900, "usd", Active: true, "Pro (monthly)", now),
        new(DayPass, PriceTypes.OneTime, 500, "usd", Active: true, "Day pass", now),
        new(Credits100, PriceTypes.OneTime, 1000, "usd", Active: true, "100 credits", now),
    ];
}
