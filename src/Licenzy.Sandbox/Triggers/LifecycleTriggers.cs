using Licenzy.Sandbox.Account;
using Licenzy.Sandbox.Wire;
using Microsoft.Extensions.Options;

namespace Licenzy.Sandbox.Triggers;

/// <summary>The things that happen to a purchase after checkout, which the sandbox can make happen on demand.</summary>
public enum LifecycleTrigger
{
    Renewal,
    PaymentFailure,
    Recovery,
    Cancellation,
    Refund,
    Dispute,
    DisputeWon,
    DisputeLost,
}

public static class LifecycleTriggerNames
{
    private static readonly Dictionary<string, LifecycleTrigger> ByName = new(StringComparer.Ordinal)
    {
        ["renewal"] = LifecycleTrigger.Renewal,
        ["payment_failure"] = LifecycleTrigger.PaymentFailure,
        ["recovery"] = LifecycleTrigger.Recovery,
        ["cancellation"] = LifecycleTrigger.Cancellation,
        ["refund"] = LifecycleTrigger.Refund,
        ["dispute"] = LifecycleTrigger.Dispute,
        ["dispute_won"] = LifecycleTrigger.DisputeWon,
        ["dispute_lost"] = LifecycleTrigger.DisputeLost,
    };

    /// <summary>The wire names, in the order a purchase usually meets them.</summary>
    public static IReadOnlyList<string> All { get; } = [.. ByName.Keys];

    public static bool TryParse(string? name, out LifecycleTrigger trigger) => ByName.TryGetValue(name ?? "", out trigger);
}

/// <summary>What a trigger did.</summary>
public abstract record TriggerOutcome
{
    /// <summary>The account changed; <see cref="Events"/> are what Stripe sends about it, in its usual order.</summary>
    public sealed record Happened(IReadOnlyList<SandboxEvent> Events) : TriggerOutcome;

    /// <summary>The subject has nothing this trigger can act on; nothing changed.</summary>
    public sealed record NothingToActOn(string Detail) : TriggerOutcome;

    /// <summary>No checkout in the sandbox names this tenant, so it has sold it nothing; nothing changed.</summary>
    public sealed record UnknownTenant(string Detail) : TriggerOutcome;
}

/// <summary>
/// Makes Stripe's lifecycle happen to what the sandbox sold a subject ("in the spirit of
/// <c>stripe trigger</c>"): picks the subject's latest subscription, charge or dispute that the
/// trigger applies to, changes it as Stripe would, and writes the events Stripe sends about it.
/// </summary>
public sealed class LifecycleTriggers(SandboxAccount account, TimeProvider clock, IOptions<SandboxOptions> options)
{
    private readonly StripeApiVersion _version = options.Value.EventApiVersion;

    private static readonly string[] Renewable = [SubscriptionStatuses.Active, SubscriptionStatuses.Trialing];
    private static readonly string[] Recoverable = [SubscriptionStatuses.PastDue, SubscriptionStatuses.Unpaid];
    private static readonly string[] Cancelable =
        [SubscriptionStatuses.Active, SubscriptionStatuses.Trialing, SubscriptionStatuses.PastDue, SubscriptionStatuses.Unpaid];

    public TriggerOutcome Apply(string tenantId, string subjectRef, string? productCode, LifecycleTrigger trigger) =>
        account.Transact<TriggerOutcome>(data =>
        {
            if (!data.Sessions.Values.Any(session => session.Owner?.TenantId == tenantId))
            {
                return new TriggerOutcome.UnknownTenant(
                    $"The sandbox knows no tenant '{tenantId}': no checkout was started for it here since Licenzy started. "
                    + "Check tenant_id (as POST /v1/admin/tenants answered it).");
            }

            var target = new Target(tenantId, subjectRef, productCode);
            var now = data.StepTime(tenantId, subjectRef, clock.GetUtcNow());
            var outcome = trigger switch
            {
                LifecycleTrigger.Renewal => Renew(data, target, now),
                LifecycleTrigger.PaymentFailure => FailPayment(data, target, now),
                LifecycleTrigger.Recovery => Recover(data, target, now),
                LifecycleTrigger.Cancellation => Cancel(data, target, now),
                LifecycleTrigger.Refund => Refund(data, target, now),
                LifecycleTrigger.Dispute => OpenDispute(data, target, now),
                LifecycleTrigger.DisputeWon => CloseDispute(data, target, DisputeStatuses.Won, now),
                LifecycleTrigger.DisputeLost => CloseDispute(data, target, DisputeStatuses.Lost, now),
                _ => throw new ArgumentOutOfRangeException(nameof(trigger), trigger, "Unknown trigger."),
            };
            if (outcome is TriggerOutcome.Happened) data.RecordStep(tenantId, subjectRef, now);
            return outcome;
        });

    /// <summary>The next period is invoiced and paid; the subscription moves on to it.</summary>
    private TriggerOutcome Renew(AccountData data, Target target, DateTimeOffset now)
    {
        if (LatestSubscription(data, target, Renewable) is not { } subscription)
            return new TriggerOutcome.NothingToActOn($"{target} has no active subscription to renew.");

        var invoice = StripeBilling.Invoice(data, subscription, "subscription_cycle", subscription.PeriodEnd, declined: false, now);
        var renewed = subscription with
        {
            Status = SubscriptionStatuses.Active, PeriodStart = invoice.PeriodStart, PeriodEnd = invoice.PeriodEnd, LatestInvoiceId = invoice.Id,
        };
        return new TriggerOutcome.Happened([Paid(invoice, now), Updated(data, subscription, renewed, now)]);
    }

    /// <summary>The next period starts, but its invoice's payment is declined: the subscription is past due.</summary>
    private TriggerOutcome FailPayment(AccountData data, Target target, DateTimeOffset now)
    {
        if (LatestSubscription(data, target, Renewable) is not { } subscription)
            return new TriggerOutcome.NothingToActOn($"{target} has no active subscription whose payment could fail.");

        var invoice = StripeBilling.Invoice(data, subscription, "subscription_cycle", subscription.PeriodEnd, declined: true, now);
        var pastDue = subscription with
        {
            Status = SubscriptionStatuses.PastDue, PeriodStart = invoice.PeriodStart, PeriodEnd = invoice.PeriodEnd, LatestInvoiceId = invoice.Id,
        };
        return new TriggerOutcome.Happened(
        [
            StripeEventJson.Create("invoice.payment_failed", StripeObjectJson.Invoice(invoice, _version), now, _version),
            Updated(data, subscription, pastDue, now),
        ]);
    }

    /// <summary>The open invoice of a past-due subscription is paid after all: active again.</summary>
    private TriggerOutcome Recover(AccountData data, Target target, DateTimeOffset now)
    {
        if (LatestSubscription(data, target, Recoverable) is not { } subscription)
            return new TriggerOutcome.NothingToActOn($"{target} has no past-due subscription to recover. Trigger payment_failure first.");

        var open = data.Invoices.GetValueOrDefault(subscription.LatestInvoiceId);
        var invoice = open is { IsPaid: false }
            ? StripeBilling.PayOpenInvoice(data, subscription, open, now)
            : StripeBilling.Invoice(data, subscription, "subscription_cycle", subscription.PeriodStart, declined: false, now);
        var active = subscription with { Status = SubscriptionStatuses.Active, LatestInvoiceId = invoice.Id };
        return new TriggerOutcome.Happened([Paid(invoice, now), Updated(data, subscription, active, now)]);
    }

    /// <summary>The subscription is canceled at once (not at the period's end).</summary>
    private TriggerOutcome Cancel(AccountData data, Target target, DateTimeOffset now)
    {
        if (LatestSubscription(data, target, Cancelable) is not { } subscription)
            return new TriggerOutcome.NothingToActOn($"{target} has no subscription to cancel.");

        var canceled = subscription with { Status = SubscriptionStatuses.Canceled, CanceledAt = now, EndedAt = now };
        data.Subscriptions[canceled.Id] = canceled;
        return new TriggerOutcome.Happened(
            [StripeEventJson.Create("customer.subscription.deleted", StripeObjectJson.Subscription(canceled, _version), now, _version)]);
    }

    /// <summary>The latest charge is refunded in full.</summary>
    private TriggerOutcome Refund(AccountData data, Target target, DateTimeOffset now)
    {
        var charge = AccountData.Latest(data.Charges.Values.Where(c => target.Owns(c.Owner) && !c.FullyRefunded), c => c.Sequence);
        if (charge is null) return new TriggerOutcome.NothingToActOn($"{target} has no charge left to refund.");

        var refunded = charge with { AmountRefunded = charge.Amount };
        data.Charges[refunded.Id] = refunded;
        var after = StripeObjectJson.Charge(refunded, _version);
        return new TriggerOutcome.Happened(
            [StripeEventJson.Create("charge.refunded", after, now, _version, StripeBilling.PreviousAttributes(StripeObjectJson.Charge(charge, _version), after))]);
    }

    /// <summary>The cardholder disputes the latest charge.</summary>
    private TriggerOutcome OpenDispute(AccountData data, Target target, DateTimeOffset now)
    {
        var charge = AccountData.Latest(
            data.Charges.Values.Where(c => target.Owns(c.Owner) && !c.Disputed && !c.FullyRefunded), c => c.Sequence);
        if (charge is null) return new TriggerOutcome.NothingToActOn($"{target} has no charge left to dispute.");

        data.Charges[charge.Id] = charge with { Disputed = true };
        var dispute = new SandboxDispute
        {
            Id = StripeIds.New("dp"), Sequence = data.NextSequence(), Owner = charge.Owner, ChargeId = charge.Id,
            PaymentIntentId = charge.PaymentIntentId, Amount = charge.Amount, Currency = charge.Currency,
            Status = DisputeStatuses.NeedsResponse, Created = now,
        };
        data.Disputes[dispute.Id] = dispute;
        return new TriggerOutcome.Happened([StripeEventJson.Create("charge.dispute.created", StripeObjectJson.Dispute(dispute), now, _version)]);
    }

    /// <summary>The card network decides the latest open dispute.</summary>
    private TriggerOutcome CloseDispute(AccountData data, Target target, string outcome, DateTimeOffset now)
    {
        var dispute = AccountData.Latest(
            data.Disputes.Values.Where(d => target.Owns(d.Owner) && DisputeStatuses.IsOpen(d.Status)), d => d.Sequence);
        if (dispute is null) return new TriggerOutcome.NothingToActOn($"{target} has no open dispute. Trigger dispute first.");

        var closed = dispute with { Status = outcome };
        data.Disputes[closed.Id] = closed;
        var after = StripeObjectJson.Dispute(closed);
        return new TriggerOutcome.Happened(
            [StripeEventJson.Create("charge.dispute.closed", after, now, _version, StripeBilling.PreviousAttributes(StripeObjectJson.Dispute(dispute), after))]);
    }

    private static SandboxSubscription? LatestSubscription(AccountData data, Target target, string[] statuses) =>
        AccountData.Latest(data.Subscriptions.Values.Where(s => target.Owns(s.Owner) && statuses.Contains(s.Status)), s => s.Sequence);

    private SandboxEvent Paid(SandboxInvoice invoice, DateTimeOffset now) =>
        StripeEventJson.Create("invoice.paid", StripeObjectJson.Invoice(invoice, _version), now, _version);

    /// <summary>Saves the changed subscription and writes its <c>customer.subscription.updated</c>.</summary>
    private SandboxEvent Updated(AccountData data, SandboxSubscription before, SandboxSubscription after, DateTimeOffset now)
    {
        data.Subscriptions[after.Id] = after;
        var json = StripeObjectJson.Subscription(after, _version);
        return StripeEventJson.Create("customer.subscription.updated", json, now, _version,
            StripeBilling.PreviousAttributes(StripeObjectJson.Subscription(before, _version), json));
    }

    private sealed record Target(string TenantId, string SubjectRef, string? ProductCode)
    {
        public bool Owns(Owner owner) => owner.Matches(TenantId, SubjectRef, ProductCode);

        public override string ToString() =>
            ProductCode is null
                ? $"Subject '{SubjectRef}' of tenant '{TenantId}'"
                : $"Subject '{SubjectRef}' of tenant '{TenantId}' (product '{ProductCode}')";
    }
}
