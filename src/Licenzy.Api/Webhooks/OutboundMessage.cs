using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Microsoft.AspNetCore.DataProtection;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// One thing to tell a tenant's backend: its id is the <c>webhook-id</c> of every delivery
/// attempt. Its <c>data</c> is kept encrypted (<see cref="MessageBodies"/>) for as long as the
/// message and its deliveries are stored, because it may carry a license key and a buyer's email.
/// A notice (<see cref="NotBefore"/> set) tells what the clock alone will do to license
/// <see cref="LicenseId"/> of <see cref="SubjectRef"/> at that instant; it is rendered again from
/// the subject then, and sent only if the instant still holds. (A notice stored before notices
/// named their license carries <see cref="SubjectVersion"/> instead, and is sent only if the
/// subject is still at that version.)
/// </summary>
public sealed record OutboundMessage(string Id, string Type, DateTimeOffset CreatedAt, string TenantId, Mode Mode, string ProtectedData,
    DateTimeOffset? NotBefore = null, string? SubjectRef = null, long? SubjectVersion = null, string? LicenseId = null)
{
    [JsonIgnore]
    public string StateKey => StateKeys.OutboundMessage(TenantId, Mode, Id);
}

/// <summary>What a message's body is on the wire (API.md's shape); <c>data</c> in clear only here.</summary>
public sealed record OutboundMessageBody(string Id, string Type, DateTimeOffset CreatedAt, string TenantId, Mode Mode, JsonElement Data);

/// <summary>
/// Encrypts a message's data for the store and makes the body that is sent, byte for byte what is
/// signed, under the application's Data Protection key ring (as Stripe and endpoint secrets are).
/// </summary>
public sealed class MessageBodies(IDataProtectionProvider protection)
{
    public const string ProtectionPurpose = "Licenzy.OutboundMessage.Data";

    private readonly IDataProtector _protector = protection.CreateProtector(ProtectionPurpose);

    public string Protect(object data) =>
        _protector.Protect(JsonSerializer.Serialize(data, data.GetType(), LicenzyJson.Options));

    public string ToJson(OutboundMessage message)
    {
        using var data = JsonDocument.Parse(_protector.Unprotect(message.ProtectedData));
        return JsonSerializer.Serialize(new OutboundMessageBody(message.Id, message.Type, message.CreatedAt, message.TenantId, message.Mode,
            data.RootElement), LicenzyJson.Options);
    }
}

/// <summary>
/// The entry point for code that changes a subject: the message is a write in the change's own
/// transaction, so a committed change is told even if the process dies right after it. The
/// dispatcher finds it in the store (embedded) or a reminder registered by
/// <see cref="BeforeCommitAsync"/> brings it back (Dapr); <see cref="Committed"/> only makes that immediate.
/// </summary>
public sealed class OutboundMessages(TimeProvider clock, WebhookDispatcher dispatcher, MessageBodies bodies, OutboundReminders reminders)
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>
    /// A new message of <paramref name="type"/> (one of <see cref="WebhookEventTypes"/>) whose
    /// <c>data</c> is <paramref name="data"/> in Licenzy's JSON, and the write that stores it: add
    /// the write to the transaction of the change it tells.
    /// </summary>
    public (OutboundMessage Message, StateOperation Write) Enqueue(string tenantId, Mode mode, string type, object data) =>
        Written(New(tenantId, mode, type, data));

    /// <summary>
    /// A notice of <paramref name="type"/> about license <paramref name="licenseId"/>, due at
    /// <paramref name="notBefore"/>: rendered again and sent then if the instant still holds, and
    /// otherwise withdrawn. Add the write to the transaction of the change that made it.
    /// </summary>
    public (OutboundMessage Message, StateOperation Write) Notice(string tenantId, Mode mode, string type, object data,
        DateTimeOffset notBefore, string subjectRef, string licenseId) =>
        Written(New(tenantId, mode, type, data) with { NotBefore = notBefore, SubjectRef = subjectRef, LicenseId = licenseId });

    private OutboundMessage New(string tenantId, Mode mode, string type, object data)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentNullException.ThrowIfNull(data);
        if (!WebhookEventTypes.IsKnown(type)) throw new ArgumentException($"'{type}' is not an outbound event type", nameof(type));
        return new OutboundMessage("msg_" + RandomNumberGenerator.GetString(Alphabet, 24), type, clock.GetUtcNow(), tenantId, mode,
            bodies.Protect(data));
    }

    private static (OutboundMessage, StateOperation) Written(OutboundMessage message) =>
        (message, new StateOperation.Upsert(message.StateKey, message, MustNotExist: true));

    /// <summary>
    /// Call before committing the transaction with these messages: where the store cannot be
    /// scanned, this makes sure they are found even if this process dies between the commit and
    /// <see cref="Committed"/> (<see cref="OutboundReminders"/>).
    /// </summary>
    public Task BeforeCommitAsync(IReadOnlyCollection<OutboundMessage> messages, CancellationToken ct) =>
        reminders.BeforeMessagesAsync(messages, ct);

    /// <summary>
    /// Tells this process's dispatcher that the transaction with these messages committed, so they
    /// go out now rather than at its next look at the store. Call only after the commit.
    /// </summary>
    public void Committed(IEnumerable<OutboundMessage> messages)
    {
        foreach (var message in messages) dispatcher.FanOut(message.StateKey);
    }
}
