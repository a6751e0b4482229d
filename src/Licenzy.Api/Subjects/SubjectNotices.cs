using Licenzy.Api.Licenses;
using Licenzy.Api.Webhooks;
using Licenzy.Domain;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Subjects;

/// <summary>
/// A notice, when it comes due, as the subject stands then: the clock change it announces may have
/// been moved or made moot by a later change (then there is nothing to send), and the subject may
/// have changed in other ways since it was written (then it is told with the subject's version now,
/// so that a receiver ordering by version does not take it for old news).
/// </summary>
public sealed class SubjectNotices(IStateStoreFactory stores, LicenseKeys keys, MessageBodies bodies)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);

    /// <summary>The notice to send now, or null when it no longer holds and is to be withdrawn.</summary>
    public async Task<OutboundMessage?> AsItStandsAsync(OutboundMessage notice, CancellationToken ct)
    {
        var subject = await _state.GetAsync<SubjectState>(StateKeys.Subject(notice.TenantId, notice.Mode, notice.SubjectRef!), ct);
        if (notice.LicenseId is null)
        {
            // Written before notices named their license: it holds only while the subject is unchanged.
            return (subject?.Value.Version ?? 0) == notice.SubjectVersion ? notice : null;
        }
        if (subject is null || notice.NotBefore is not { } at) return null;
        var message = ChangeMessages.NoticeAt(subject.Value, notice.LicenseId, at, keys);
        return message is null ? null : notice with { ProtectedData = bodies.Protect(message.Data), SubjectVersion = subject.Value.Version };
    }
}
