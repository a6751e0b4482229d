using Dapr.Actors;
using Dapr.Actors.Runtime;
using Licenzy.Api.Idempotency;
using Licenzy.Domain.Billing;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.Actors;

namespace Licenzy.Api.Subjects;

/// <summary>
/// One actor per subject (tenant, mode, subject_ref): the only writer of the subject's document.
/// Each call is one turn, and the actor binding runs one turn at a time per subject.
/// </summary>
public interface ISubjectActor : IActor
{
    Task<ApplyResult> ApplyAsync(ApplyBillingEvent request, CancellationToken cancellationToken);

    Task<ConsumeBatchResult> ConsumeAsync(ConsumeBatch batch, CancellationToken cancellationToken);
}

/// <summary>The subject actor as the Dapr runtime hosts it: its id names the subject; its turns are <see cref="SubjectWriter"/>'s.</summary>
public sealed class SubjectActor(ActorHost host, SubjectWriter writer) : Actor(host), ISubjectActor
{
    public const string ActorType = "SubjectActor";

    private readonly SubjectKey _subject = SubjectKey.FromActorId(host.Id.GetId());

    public Task<ApplyResult> ApplyAsync(ApplyBillingEvent request, CancellationToken cancellationToken) =>
        writer.ApplyAsync(_subject, request, cancellationToken);

    public Task<ConsumeBatchResult> ConsumeAsync(ConsumeBatch batch, CancellationToken cancellationToken) =>
        writer.ConsumeAsync(_subject, batch, cancellationToken);

    /// <summary>Reaches the subject's actor, on either binding.</summary>
    public static ISubjectActor For(IActorProxies actors, SubjectKey subject) => actors.Get<ISubjectActor>(ActorType, subject.ActorId);

    /// <summary>Serves the subject actor: hosted by Dapr, or in this process with its turns in <see cref="ActorTurns"/>.</summary>
    public static IServiceCollection AddSubjectActor(IServiceCollection services)
    {
        services.AddSingleton<SubjectWriter>();
        return services.AddActor<ISubjectActor, SubjectActor>(ActorType, static (provider, actorId) =>
            new InProcess(SubjectKey.FromActorId(actorId), provider.GetRequiredService<SubjectWriter>(), provider.GetRequiredService<ActorTurns>()));
    }

    /// <summary>The subject actor in this process (embedded binding): the same turns, one at a time per subject.</summary>
    private sealed class InProcess(SubjectKey subject, SubjectWriter writer, ActorTurns turns) : ISubjectActor
    {
        public Task<ApplyResult> ApplyAsync(ApplyBillingEvent request, CancellationToken cancellationToken) =>
            turns.RunAsync(ActorType, subject.ActorId, () => writer.ApplyAsync(subject, request, cancellationToken), cancellationToken);

        public Task<ConsumeBatchResult> ConsumeAsync(ConsumeBatch batch, CancellationToken cancellationToken) =>
            turns.RunAsync(ActorType, subject.ActorId, () => writer.ConsumeAsync(subject, batch, cancellationToken), cancellationToken);
    }
}

/// <summary>
/// Asks the subject actor to apply one billing event; <paramref name="Type"/> is the Stripe event's
/// type, for the subject's history (null from a sender that predates it).
/// </summary>
public sealed record ApplyBillingEvent(BillingEvent Event, string? Type = null);

public sealed record ApplyResult(bool Changed, long Version);

/// <summary>One request to spend units, once per idempotency key.</summary>
public sealed record ConsumeUnits(long Units, string IdempotencyKey, string RequestHash);

public sealed record ConsumeResult(IdempotentResponse Response, bool Replayed, bool KeyReused);

/// <summary>
/// Asks the subject actor to spend units for several requests in one turn, in order, as if each
/// had its own turn: one read of the document and one write for all of them.
/// </summary>
public sealed record ConsumeBatch(List<ConsumeUnits> Requests);

/// <summary>The results, in the order of the requests.</summary>
public sealed record ConsumeBatchResult(List<ConsumeResult> Results);
