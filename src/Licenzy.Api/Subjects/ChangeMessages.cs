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
    /// The clock changes already announced for the subject's licenses as they stand before a
    /// change (license id and instant, as <see cref="Notices"/> makes them): the change announces
    /// only instants that are new. Take it before changing the document.
    /// </summary>
    public static HashSet<(string LicenseId, DateTimeOffset At)>? NoticedBefore(SubjectState state, DateTimeOffset now)
    {
        if (state.Licenses.Count == 0) return null;
        var noticed = new HashSet<(string, DateTimeOffset)>();
        foreach (var (license, _, at) in ClockChanges(state, now)) noticed.Add((license.Id, at));
        return noticed;
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
    /// period end with no renewal), a <c>license.updated</c> as the license will then stand; only
    /// for instants not in <paramref name="noticedBefore"/> (a consume does not announce again what
    /// the last billing change announced). The dispatcher sends it at that instant if the instant
    /// still holds, rendered from the subject as it is then (<see cref="NoticeAt"/>).
    /// </summary>
    public static List<(ChangeMessage Message, DateTimeOffset At, string LicenseId)> Notices(SubjectState after,
        HashSet<(string LicenseId, DateTimeOffset At)>? noticedBefore, IReadOnlyDictionary<string, string> issuedKeys, LicenseKeys keys,
        DateTimeOffset now)
    {
        var notices = new List<(ChangeMessage, DateTimeOffset, string)>();
        foreach (var (license, entitlement, at) in ClockChanges(after, now))
        {
            if (noticedBefore?.Contains((license.Id, at)) == true) continue;
            var key = issuedKeys.TryGetValue(license.Id, out var issued) ? issued : keys.Reveal(license.ProtectedKey!);
            notices.Add((Updated(license, after, key, at, license.Evaluate(entitlement, now)), at, license.Id));
        }
        return notices;
    }

    /// <summary>
    /// The notice of license <paramref name="licenseId"/> at <paramref name="at"/>, rendered from the
    /// subject as it stands now (its version, its facts); null when the instant no longer holds
    /// (a later change moved or ended the entitlement, or the license is gone).
    /// </summary>
    public static ChangeMessage? NoticeAt(SubjectState state, string licenseId, DateTimeOffset at, LicenseKeys keys)
    {
        if (state.FindLicense(licenseId) is not { HasKey: true } license || state.Find(license.EntitlementId) is not { } entitlement) return null;
        if (entitlement.AvailableUntil != at) return null;
        var was = license.Evaluate(entitlement, at.AddTicks(-1));
        return was == license.Evaluate(entitlement, at) ? null : Updated(license, state, keys.Reveal(license.ProtectedKey!), at, was);
    }

    /// <summary>Each license whose status the clock alone changes later, and the instant it does.</summary>
    private static IEnumerable<(License License, Domain.Entitlements.Entitlement Entitlement, DateTimeOffset At)> ClockChanges(
        SubjectState state, DateTimeOffset now)
    {
        foreach (var license in state.Licenses)
        {
            if (!license.HasKey || state.Find(license.EntitlementId) is not { } entitlement) continue;
            var at = entitlement.AvailableUntil;
            if (at <= now || at == DateTimeOffset.MaxValue) continue;
            if (license.Evaluate(entitlement, now) == license.Evaluate(entitlement, at)) continue;
            yield return (license, entitlement, at);
        }
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
