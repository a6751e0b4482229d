using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// One thing to tell a tenant's backend, in the wire shape of API.md: the body of every delivery
/// attempt, whose id is the <c>webhook-id</c> of each.
/// </summary>
public sealed record OutboundMessage(string Id, string Type, DateTimeOffset CreatedAt, string TenantId, Mode Mode, JsonElement Data)
{
    [JsonIgnore]
    public string StateKey => StateKeys.OutboundMessage(TenantId, Mode, Id);

    /// <summary>The body sent, byte for byte what is signed.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LicenzyJson.Options);
}

/// <summary>
/// The entry point for code that changes a subject: the message is a write in the change's own
/// transaction, so a committed change is told even if the process dies right after it. The
/// dispatcher finds it in the store; <see cref="Committed"/> only makes that immediate.
/// </summary>
public sealed class OutboundMessages(TimeProvider clock, WebhookDispatcher dispatcher)
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>
    /// A new message of <paramref name="type"/> (one of <see cref="WebhookEventTypes"/>) whose
    /// <c>data</c> is <paramref name="data"/> in Licenzy's JSON, and the write that stores it: add
    /// the write to the transaction of the change it tells.
    /// </summary>
    public (OutboundMessage Message, StateOperation Write) Enqueue(string tenantId, Mode mode, string type, object data)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentNullException.ThrowIfNull(data);
        if (!WebhookEventTypes.IsKnown(type)) throw new ArgumentException($"'{type}' is not an outbound event type", nameof(type));
        var message = new OutboundMessage("msg_" + RandomNumberGenerator.GetString(Alphabet, 24), type, clock.GetUtcNow(), tenantId, mode,
            JsonSerializer.SerializeToElement(data, data.GetType(), LicenzyJson.Options));
        return (message, new StateOperation.Upsert(message.StateKey, message, MustNotExist: true));
    }

    /// <summary>
    /// Tells this process's dispatcher that the transaction with these messages committed, so they
    /// go out now rather than at its next look at the store. Call only after the commit.
    /// </summary>
    public void Committed(IEnumerable<OutboundMessage> messages)
    {
        foreach (var message in messages) dispatcher.FanOut(message.StateKey);
    }
}
