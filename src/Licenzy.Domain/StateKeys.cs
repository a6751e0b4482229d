namespace Licenzy.Domain;

/// <summary>
/// The state store keys, in one place. Every key that holds a tenant's data starts with the
/// tenant and mode, so test and live, and tenants, never share a document.
/// </summary>
public static class StateKeys
{
    public static string Tenant(string tenantId) => TenantPrefix + tenantId;

    /// <summary>What every <see cref="Tenant"/> key starts with.</summary>
    public const string TenantPrefix = "tenant|";

    /// <summary>Every tenant, in the order made: one small document, as a deployment has few tenants.</summary>
    public const string TenantList = "tenants";

    /// <summary>The entitlement tokens' signing keys: one ring for the deployment, as the key set is one.</summary>
    public const string TokenKeys = "tokenkeys";

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
        if (parts.Length != 3 || parts[0].Length == 0 || !Subjects.SubjectRef.IsValid(parts[2]) || !Modes.TryParse(parts[1], out mode)) return false;
        (tenantId, subjectRef) = (parts[0], parts[2]);
        return true;
    }

    /// <summary>
    /// The head of a subject's history (decision 019). '#' never occurs in a subject_ref, so in key
    /// order this comes right after the subject's document and the two, written together with
    /// every change, share a page of the embedded store; no subject key can be taken for it.
    /// </summary>
    public static string SubjectHistoryHead(string tenantId, Mode mode, string subjectRef) => Subject(tenantId, mode, subjectRef) + HistoryHeadSuffix;

    /// <summary>What a <see cref="SubjectHistoryHead"/> key ends with.</summary>
    public const string HistoryHeadSuffix = "#history";

    /// <summary>
    /// One full page of a subject's history: page <paramref name="page"/> holds the changes that
    /// made versions <c>from + page * size</c> onwards, so the writer knows which page it fills and
    /// a reader finds any version's page at once. The page number comes after the last '|', so a
    /// subject_ref holding '|' cannot make two keys meet.
    /// </summary>
    public static string SubjectHistoryPage(string tenantId, Mode mode, string subjectRef, long page) =>
        $"history|{tenantId}|{mode.ToWire()}|{subjectRef}|{page}";

    /// <summary>An API key record, found by the hash of the key: the key itself is never stored.</summary>
    public static string ApiKeyByHash(string keyHash) => ApiKeyByHashPrefix + keyHash;

    /// <summary>What <see cref="ApiKeyByHash"/> puts before the hash.</summary>
    public const string ApiKeyByHashPrefix = "apikey|";

    public static string ApiKeys(string tenantId, Mode mode) => $"apikeys|{tenantId}|{mode.ToWire()}";

    /// <summary>When each key of a tenant and mode was last used: apart from the keys, so that recording a use never races a revocation.</summary>
    public static string ApiKeyUses(string tenantId, Mode mode) => $"apikeyuses|{tenantId}|{mode.ToWire()}";

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

    /// <summary>
    /// A dead-lettered event as received, kept beside the list so an operator can retry it: the Api
    /// cannot read the event store, which is Ingest's alone.
    /// </summary>
    public static string DeadLetterEvent(string tenantId, Mode mode, string eventId) => $"deadletter|{tenantId}|{mode.ToWire()}|{eventId}";

    /// <summary>A received Stripe event, in the event store: written once per event id.</summary>
    public static string ReceivedEvent(string tenantId, Mode mode, string eventId) => $"event|{tenantId}|{mode.ToWire()}|{eventId}";

    /// <summary>A tenant's outbound webhook endpoints for a mode: one small document, as a tenant has few.</summary>
    public static string WebhookEndpoints(string tenantId, Mode mode) => $"webhookendpoints|{tenantId}|{mode.ToWire()}";

    /// <summary>
    /// An outbound message written in the transaction of the change it tells, waiting to be fanned
    /// out to the endpoints; gone once its deliveries exist.
    /// </summary>
    public static string OutboundMessage(string tenantId, Mode mode, string messageId) =>
        $"{OutboundMessagePrefix}{tenantId}|{mode.ToWire()}|{messageId}";

    /// <summary>What every <see cref="OutboundMessage"/> key starts with.</summary>
    public const string OutboundMessagePrefix = "outmsg|";

    /// <summary>One message's delivery to one endpoint, with its attempts.</summary>
    public static string WebhookDelivery(string tenantId, Mode mode, string deliveryId) =>
        $"{WebhookDeliveryPrefix}{tenantId}|{mode.ToWire()}|{deliveryId}";

    /// <summary>What every <see cref="WebhookDelivery"/> key starts with.</summary>
    public const string WebhookDeliveryPrefix = "webhookdelivery|";

    /// <summary>The ids of a tenant's recent deliveries for a mode, newest last: the delivery log, readable on any store.</summary>
    public static string WebhookDeliveryLog(string tenantId, Mode mode) => $"webhookdeliverylog|{tenantId}|{mode.ToWire()}";
}
