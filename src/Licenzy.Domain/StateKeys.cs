namespace Licenzy.Domain;

/// <summary>
/// The state store keys, in one place. Every key that holds a tenant's data starts with the
/// tenant and mode, so test and live, and tenants, never share a document.
/// </summary>
public static class StateKeys
{
    public static string Tenant(string tenantId) => $"tenant|{tenantId}";

    public static string StripeConnection(string tenantId, Mode mode) => $"stripe|{tenantId}|{mode.ToWire()}";

    public static string Products(string tenantId, Mode mode) => $"products|{tenantId}|{mode.ToWire()}";

    public static string Subject(string tenantId, Mode mode, string subjectRef) => $"{SubjectPrefix}{tenantId}|{mode.ToWire()}|{subjectRef}";

    /// <summary>What every subject document's key starts with.</summary>
    public const string SubjectPrefix = "subject|";

    /// <summary>The parts of a <see cref="Subject"/> key. Tenant ids never contain '|'; subject_refs may.</summary>
    public static bool TryParseSubject(string key, out string tenantId, out Mode mode, out string subjectRef)
    {
        (tenantId, mode, subjectRef) = ("", default, "");
        if (!key.StartsWith(SubjectPrefix, StringComparison.Ordinal)) return false;
        var parts = key[SubjectPrefix.Length..].Split('|', 3);
        if (parts.Length != 3 || parts[0].Length == 0 || parts[2].Length == 0 || !Modes.TryParse(parts[1], out mode)) return false;
        (tenantId, subjectRef) = (parts[0], parts[2]);
        return true;
    }

    /// <summary>An API key record, found by the hash of the key: the key itself is never stored.</summary>
    public static string ApiKeyByHash(string keyHash) => ApiKeyByHashPrefix + keyHash;

    /// <summary>What <see cref="ApiKeyByHash"/> puts before the hash.</summary>
    public const string ApiKeyByHashPrefix = "apikey|";

    public static string ApiKeys(string tenantId, Mode mode) => $"apikeys|{tenantId}|{mode.ToWire()}";

    public static string Idempotency(string tenantId, Mode mode, string operation, string key) =>
        $"idempotency|{tenantId}|{mode.ToWire()}|{operation}|{key}";

    public static string CheckoutAttempt(string tenantId, Mode mode, string attemptId) => $"attempt|{tenantId}|{mode.ToWire()}|{attemptId}";

    /// <summary>Who a Stripe payment (payment intent) belongs to, so refunds and disputes find their purchase.</summary>
    public static string Payment(string tenantId, Mode mode, string paymentIntentId) => $"payment|{tenantId}|{mode.ToWire()}|{paymentIntentId}";

    /// <summary>Which subject holds a license, found by the hash of its key: the key itself is stored only encrypted.</summary>
    public static string LicenseByKeyHash(string tenantId, Mode mode, string keyHash) => $"licensekey|{tenantId}|{mode.ToWire()}|{keyHash}";

    /// <summary>Which subject holds a license, found by its id.</summary>
    public static string License(string tenantId, Mode mode, string licenseId) => $"license|{tenantId}|{mode.ToWire()}|{licenseId}";

    public static string DeadLetters(string tenantId, Mode mode) => $"deadletters|{tenantId}|{mode.ToWire()}";

    /// <summary>A received Stripe event, in the event store: written once per event id.</summary>
    public static string ReceivedEvent(string tenantId, Mode mode, string eventId) => $"event|{tenantId}|{mode.ToWire()}|{eventId}";
}
