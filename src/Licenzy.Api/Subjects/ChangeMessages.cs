using System.Text.Json;
using System.Text.Json.Nodes;
using Licenzy.Api.Access;
using Licenzy.Api.Http;
using Licenzy.Api.Licenses;
using Licenzy.Api.Webhooks;
using Licenzy.Domain.Licenses;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;

namespace Licenzy.Api.Subjects;

/// <summary>A message about one committed change of a subject, for the tenant's webhook endpoints.</summary>
public sealed record ChangeMessage(string Type, JsonObject Data);

/// <summary>
/// What to tell the tenant's app about one change of a subject: <c>entitlements.updated</c> with
/// the customer view for every change, <c>license.created</c> for each license it provisioned,
/// and <c>license.updated</c> (with <c>previous_status</c>) for each license whose status or dates
/// it moved. Licenses are compared as they stood just before the change and just after, at the
/// same instant, so only the change itself counts, not the passing of time.
/// </summary>
public static class ChangeMessages
{
    /// <summary>The subject's licenses as they stand at <paramref name="now"/>: take it before changing the document.</summary>
    public static Dictionary<string, LicenseState>? LicensesBefore(SubjectState state, DateTimeOffset now)
    {
        if (state.Licenses.Count == 0) return null;
        var before = new Dictionary<string, LicenseState>(state.Licenses.Count, StringComparer.Ordinal);
        foreach (var license in state.Licenses)
        {
            if (license.HasKey && state.Find(license.EntitlementId) is { } entitlement) before[license.Id] = license.Evaluate(entitlement, now);
        }
        return before;
    }

    /// <summary>
    /// The messages for the change that made <paramref name="after"/>. <paramref name="issuedKeys"/>
    /// holds the keys this change made, by license id (the only moment they are known in clear
    /// without decrypting).
    /// </summary>
    public static List<ChangeMessage> For(SubjectState after, Dictionary<string, LicenseState>? before,
        IReadOnlyDictionary<string, string> issuedKeys, LicenseKeys keys, DateTimeOffset now, Func<string, bool> wanted)
    {
        var messages = new List<ChangeMessage>(1 + after.Licenses.Count);
        if (wanted(WebhookEventTypes.EntitlementsUpdated))
            messages.Add(new(WebhookEventTypes.EntitlementsUpdated, Node(AccessApi.CustomerAccessResponse.Of(after.SubjectRef, after, now))));
        foreach (var license in after.Licenses)
        {
            if (!license.HasKey || after.Find(license.EntitlementId) is not { } entitlement) continue;
            if (issuedKeys.TryGetValue(license.Id, out var key))
            {
                if (wanted(WebhookEventTypes.LicenseCreated))
                    messages.Add(new(WebhookEventTypes.LicenseCreated, Node(LicenseResponse.Of(license, after, key, now))));
                continue;
            }
            if (!wanted(WebhookEventTypes.LicenseUpdated) || before is null || !before.TryGetValue(license.Id, out var was)) continue;
            if (was == license.Evaluate(entitlement, now)) continue;
            messages.Add(Updated(license, after, keys.Reveal(license.ProtectedKey!), now, was));
        }
        return messages;
    }

    /// <summary>
    /// What the clock alone will do to each license after this change: at the instant its
    /// entitlement stops being available (a grace period's end, a pass's end, a subscription's
    /// period end with no renewal), a <c>license.updated</c> as the license will then stand. The
    /// dispatcher sends it at that instant only if nothing has changed the subject since.
    /// </summary>
    public static List<(ChangeMessage Message, DateTimeOffset At)> Notices(SubjectState after,
        IReadOnlyDictionary<string, string> issuedKeys, LicenseKeys keys, DateTimeOffset now)
    {
        var notices = new List<(ChangeMessage, DateTimeOffset)>();
        foreach (var license in after.Licenses)
        {
            if (!license.HasKey || after.Find(license.EntitlementId) is not { } entitlement) continue;
            var at = entitlement.AvailableUntil;
            if (at <= now || at == DateTimeOffset.MaxValue) continue;
            var was = license.Evaluate(entitlement, now);
            if (was == license.Evaluate(entitlement, at)) continue;
            var key = issuedKeys.TryGetValue(license.Id, out var issued) ? issued : keys.Reveal(license.ProtectedKey!);
            notices.Add((Updated(license, after, key, at, was), at));
        }
        return notices;
    }

    /// <summary>A <c>license.updated</c>: the license as it stands at <paramref name="at"/>, and the status it had.</summary>
    private static ChangeMessage Updated(License license, SubjectState state, string key, DateTimeOffset at, LicenseState was)
    {
        var data = Node(LicenseResponse.Of(license, state, key, at));
        data["previous_status"] = Wire.Of(was.Status);
        return new ChangeMessage(WebhookEventTypes.LicenseUpdated, data);
    }

    private static JsonObject Node<T>(T value) => JsonSerializer.SerializeToNode(value, LicenzyJson.Options)!.AsObject();
}
