using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Subjects;

/// <summary>Reads a subject's document directly from the state store; readers never wait on the actor.</summary>
public sealed class SubjectReader(IStateStoreFactory stores)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);

    public async Task<SubjectState?> GetAsync(SubjectKey subject, CancellationToken ct) =>
        (await _state.GetAsync<SubjectState>(subject.StateKey, ct))?.Value;
}
