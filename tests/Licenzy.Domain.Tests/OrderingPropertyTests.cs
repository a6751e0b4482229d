using System.Text.Json;
using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Licenses;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;
using Licenzy.Domain.Usage;

namespace Licenzy.Domain.Tests;

/// <summary>
/// Stripe delivers at least once and in any order. For generated lifecycles (purchases,
/// renewals, failures, recoveries, pauses, cancellations, refunds, disputes), every shuffle of
/// the events, each delivered one to three times, must end in exactly the state that one
/// in-order delivery gives. Fixed seeds, so a failure names a case that can be replayed.
/// </summary>
public class OrderingPropertyTests
{
    private const int Lifecycles = 2500;
    private const int ShufflesEach = 4;
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Any_order_and_any_repeats_end_in_the_in_order_state()
    {
        for (var seed = 1; seed <= Lifecycles; seed++)
        {
            var random = new Random(seed);
            var events = Lifecycle.Generate(random);
            var expected = Canonical(ApplyAll(events));

            for (var shuffle = 0; shuffle < ShufflesEach; shuffle++)
            {
                var delivered = events.SelectMany(e => Enumerable.Repeat(e, random.Next(1, 4))).OrderBy(_ => random.Next()).ToList();
                var actual = Canonical(ApplyAll(delivered));
                Assert.True(expected == actual,
                    $"lifecycle seed {seed}, shuffle {shuffle}: {Difference(expected, actual)}\nin order:\n{string.Join("\n", events.Select(Describe))}\n"
                    + $"delivered:\n{string.Join("\n", delivered.Select(e => e.EventId))}");
            }
        }
    }

    [Fact]
    public void The_generator_covers_every_outcome()
    {
        var seen = new HashSet<(EntitlementStatus, AvailabilityReason)>();
        for (var seed = 1; seed <= Lifecycles; seed++)
        {
            var events = Lifecycle.Generate(new Random(seed));
            var state = ApplyAll(events);
            var at = events.Max(e => e.OccurredAt);
            foreach (var entitlement in state.Entitlements)
            {
                var now = entitlement.Evaluate(at);
                seen.Add((now.Status, now.Reason));
            }
        }

        foreach (var expected in new[]
        {
            (EntitlementStatus.Active, AvailabilityReason.SubscriptionActive),
            (EntitlementStatus.Trialing, AvailabilityReason.SubscriptionTrialing),
            (EntitlementStatus.Suspended, AvailabilityReason.PaymentFailed),
            (EntitlementStatus.Suspended, AvailabilityReason.InGracePeriod),
            (EntitlementStatus.Suspended, AvailabilityReason.SubscriptionPaused),
            (EntitlementStatus.Suspended, AvailabilityReason.Disputed),
            (EntitlementStatus.Canceled, AvailabilityReason.InGracePeriod),
            (EntitlementStatus.Revoked, AvailabilityReason.Refunded),
            (EntitlementStatus.Revoked, AvailabilityReason.Disputed),
            (EntitlementStatus.Pending, AvailabilityReason.PaymentPending),
            (EntitlementStatus.Active, AvailabilityReason.PassActive),
            (EntitlementStatus.Active, AvailabilityReason.UsageAvailable),
            (EntitlementStatus.Expired, AvailabilityReason.PaymentFailed),
        })
        {
            Assert.Contains(expected, seen);
        }
    }

    [Fact]
    public void The_generator_takes_licenses_through_every_status_and_each_follows_its_entitlement()
    {
        var seen = new HashSet<LicenseStatus>();
        for (var seed = 1; seed <= Lifecycles; seed++)
        {
            var events = Lifecycle.Generate(new Random(seed));
            var state = ApplyAll(events);
            var at = events.Max(e => e.OccurredAt);
            foreach (var license in state.Licenses)
            {
                var entitlement = state.Find(license.EntitlementId)!;
                var now = license.Evaluate(entitlement, at);
                seen.Add(now.Status);
                // Valid exactly when its entitlement is available, unless its own payment was taken back.
                if (now.Status != LicenseStatus.Revoked) Assert.Equal(entitlement.Evaluate(at).Available, now.Valid);
                else Assert.False(now.Valid);
            }
            // One license per paid purchase of a license-issuing product, and none for anything else.
            var paid = state.Entitlements.Where(e => e.IssueLicense)
                .SelectMany(e => e.Purchases.Where(p => p.State == PurchaseState.Paid).Select(p => License.IdFor(e.Id, p.CheckoutSessionId)));
            Assert.Equal(paid.Order(StringComparer.Ordinal), state.Licenses.Select(l => l.Id));
        }
        // Pending needs a paid purchase whose subscription Stripe later calls incomplete: LicenseTests has it.
        Assert.Equal([LicenseStatus.Active, LicenseStatus.Suspended, LicenseStatus.Expired, LicenseStatus.Revoked], seen.Order());
    }

    [Fact]
    public void Available_until_agrees_with_evaluate_at_every_instant_of_every_state_on_the_way()
    {
        var checkedStates = 0;
        for (var seed = 1; seed <= Lifecycles; seed++)
        {
            var events = Lifecycle.Generate(new Random(seed));
            var state = SubjectState.Empty("user_1");
            foreach (var e in events)
            {
                BillingLifecycle.Apply(state, e);
                foreach (var entitlement in state.Entitlements)
                {
                    AssertAgrees(entitlement, Instants(entitlement, events), $"lifecycle seed {seed}, after {e.EventId}");
                    checkedStates++;
                }
            }
        }
        Assert.True(checkedStates > Lifecycles * 3, $"only {checkedStates} states checked");
    }

    [Fact]
    public void Available_until_follows_a_usage_pack_to_its_last_unit()
    {
        var state = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(state, new Events(Products.Credits).Checkout(T0, "cs_1", CheckoutPayment.Paid));
        var pack = Assert.Single(state.Entitlements);
        Assert.Equal(DateTimeOffset.MaxValue, pack.AvailableUntil);

        Assert.True(UsageLedger.Consume(state, pack.UsageRemaining!.Value, T0.AddMinutes(1)).Consumed);

        Assert.Equal(DateTimeOffset.MinValue, pack.AvailableUntil);
        AssertAgrees(pack, [T0, T0.AddMinutes(2), T0.AddYears(5)], "a used-up pack");
    }

    private static void AssertAgrees(Entitlement entitlement, IEnumerable<DateTimeOffset> instants, string where)
    {
        var until = entitlement.AvailableUntil;
        foreach (var at in instants)
        {
            Assert.True(entitlement.Evaluate(at).Available == at < until,
                $"{where}: {entitlement.Kind} {entitlement.Status} {entitlement.Reason} at {at:O}: Evaluate says {entitlement.Evaluate(at).Available}, AvailableUntil is {until:O}");
        }
    }

    /// <summary>Instants where an answer could turn: every date the entitlement holds and every event time, and a tick either side.</summary>
    private static IEnumerable<DateTimeOffset> Instants(Entitlement entitlement, List<BillingEvent> events)
    {
        var dates = new List<DateTimeOffset> { T0.AddDays(-1), events[^1].OccurredAt.AddDays(400) };
        dates.AddRange(events.Select(e => e.OccurredAt));
        foreach (var date in new[] { entitlement.StartsAt, entitlement.ExpiresAt, entitlement.ExpiresAt + Entitlement.RenewalLeeway, entitlement.GraceEndsAt })
        {
            if (date is { } known) dates.Add(known);
        }
        var until = entitlement.AvailableUntil;
        if (until != DateTimeOffset.MinValue && until != DateTimeOffset.MaxValue) dates.Add(until);
        return dates.SelectMany(d => new[] { d.AddTicks(-1), d, d.AddTicks(1) });
    }

    private static SubjectState ApplyAll(IEnumerable<BillingEvent> events)
    {
        var state = SubjectState.Empty("user_1");
        foreach (var e in events) BillingLifecycle.Apply(state, e);
        return state;
    }

    /// <summary>
    /// The entitlements and licenses as stored; the version and the remembered event ids are about
    /// delivery, not state. (A license's status and dates derive from its entitlement.)
    /// </summary>
    private static string Canonical(SubjectState state) => JsonSerializer.Serialize(new { state.Entitlements, state.Licenses });

    private static string Describe(BillingEvent e) => $"  {e.OccurredAt:MM-dd HH:mm:ss} {e.EventId} {e.GetType().Name} {e switch
    {
        SubscriptionChanged c => c.Status.ToString(),
        CheckoutCompleted c => c.Payment.ToString(),
        ChargeRefunded r => $"{r.PaymentIntentId} full={r.FullyRefunded}",
        DisputeOpened d => d.PaymentIntentId,
        DisputeClosed d => $"{d.PaymentIntentId} won={d.Won}",
        _ => "",
    }}";

    /// <summary>Where two canonical states first differ, with some context.</summary>
    private static string Difference(string expected, string actual)
    {
        var at = 0;
        while (at < expected.Length && at < actual.Length && expected[at] == actual[at]) at++;
        var from = Math.Max(0, at - 120);
        return $"\nexpected …{expected[from..Math.Min(expected.Length, at + 120)]}\nactual   …{actual[from..Math.Min(actual.Length, at + 120)]}";
    }

    /// <summary>Makes plausible event histories, in the order Stripe would send them.</summary>
    private sealed class Lifecycle(Random random)
    {
        private readonly List<BillingEvent> _events = [];
        private DateTimeOffset _now = T0;
        private int _ids;

        public static List<BillingEvent> Generate(Random random)
        {
            var lifecycle = new Lifecycle(random);
            if (random.Next(4) > 0) lifecycle.Subscription();
            if (random.Next(3) == 0) lifecycle.OneTime(Products.DayPass with { DurationDays = random.Next(1, 4), IssueLicense = random.Next(2) == 0 });
            if (random.Next(3) == 0) lifecycle.OneTime(Products.Credits with { IssueLicense = random.Next(2) == 0 });
            if (lifecycle._events.Count == 0) lifecycle.OneTime(Products.Credits);
            return lifecycle._events;
        }

        private void Subscription()
        {
            var product = Products.Pro with
            {
                IssueLicense = random.Next(2) == 0,
                GracePeriodDays = ProductRules.AllowedGracePeriodDays[random.Next(4)],
                PaymentFailureGraceDays = random.Next(3) == 0 ? random.Next(1, 8) : 0,
            };
            var events = new Events(product, "sub_" + random.Next(1000));
            var payments = new List<string>();
            var periodEnd = _now.AddDays(30);
            var trial = random.Next(5) == 0;
            var asyncPayment = random.Next(5) == 0;

            Add(events.Subscription(_now, trial ? SubscriptionStatus.Trialing : asyncPayment ? SubscriptionStatus.Incomplete : SubscriptionStatus.Active, periodEnd));
            Add(events.Checkout(_now, "cs_sub", trial ? CheckoutPayment.NoPaymentRequired : asyncPayment ? CheckoutPayment.Unpaid : CheckoutPayment.Paid));
            if (!trial) Add(events.Paid(_now, periodEnd), payments, "pi_first");
            if (asyncPayment)
            {
                Step();
                Add(random.Next(2) == 0
                    ? new CheckoutAsyncPaymentSucceeded { EventId = Id(), OccurredAt = _now, Product = product, CheckoutSessionId = "cs_sub", SubscriptionId = events.Checkout(_now).SubscriptionId }
                    : new CheckoutAsyncPaymentFailed { EventId = Id(), OccurredAt = _now, Product = product, CheckoutSessionId = "cs_sub", SubscriptionId = events.Checkout(_now).SubscriptionId });
            }

            var ended = false;
            for (var step = random.Next(1, 9); step > 0 && !ended; step--)
            {
                Step();
                switch (random.Next(9))
                {
                    case 0 or 1: // renewal
                        periodEnd = periodEnd.AddDays(30);
                        Add(events.Paid(_now, periodEnd), payments, $"pi_{step}");
                        Add(events.Subscription(_now, SubscriptionStatus.Active, periodEnd));
                        break;
                    case 2: // payment failure
                        Add(events.Failed(_now));
                        Add(events.Subscription(_now, random.Next(4) == 0 ? SubscriptionStatus.Unpaid : SubscriptionStatus.PastDue, periodEnd));
                        break;
                    case 3: // recovery
                        Add(events.Paid(_now, periodEnd), payments, $"pi_r{step}");
                        Add(events.Subscription(_now, SubscriptionStatus.Active, periodEnd));
                        break;
                    case 4: // pause, sometimes resumed
                        Add(events.Subscription(_now, SubscriptionStatus.Paused, periodEnd));
                        if (random.Next(2) == 0)
                        {
                            Step();
                            Add(events.Subscription(_now, SubscriptionStatus.Active, periodEnd));
                        }
                        break;
                    case 5: // cancellation
                        Add(events.Deleted(_now));
                        ended = true;
                        break;
                    case 6 when payments.Count > 0: // refund, full or partial
                        Add(events.Refunded(_now, payments[random.Next(payments.Count)], full: random.Next(2) == 0));
                        break;
                    case 7 when payments.Count > 0: // dispute, maybe closed
                        Dispute(events, payments[random.Next(payments.Count)], $"dp_{step}");
                        break;
                    default: // a quiet update
                        Add(events.Subscription(_now, trial ? SubscriptionStatus.Trialing : SubscriptionStatus.Active, periodEnd));
                        break;
                }
            }
        }

        private void OneTime(Product product)
        {
            var events = new Events(product);
            var payments = new List<string>();
            for (var purchase = random.Next(1, 4); purchase > 0; purchase--)
            {
                Step();
                var session = $"cs_{product.Code}_{purchase}";
                var paid = random.Next(4) > 0;
                Add(events.Checkout(_now, session, paid ? CheckoutPayment.Paid : CheckoutPayment.Unpaid));
                if (paid) payments.Add("pi_" + session);
                else if (random.Next(2) == 0)
                {
                    Step();
                    var succeeded = random.Next(2) == 0;
                    Add(succeeded
                        ? new CheckoutAsyncPaymentSucceeded { EventId = Id(), OccurredAt = _now, Product = product, CheckoutSessionId = session, PaymentIntentId = "pi_" + session }
                        : new CheckoutAsyncPaymentFailed { EventId = Id(), OccurredAt = _now, Product = product, CheckoutSessionId = session, PaymentIntentId = "pi_" + session });
                    if (succeeded) payments.Add("pi_" + session);
                }
            }
            if (payments.Count > 0 && random.Next(3) == 0)
            {
                Step();
                Add(events.Refunded(_now, payments[random.Next(payments.Count)], full: random.Next(3) > 0));
            }
            if (payments.Count > 0 && random.Next(4) == 0) Dispute(events, payments[random.Next(payments.Count)], "dp_" + product.Code);
        }

        private void Dispute(Events events, string payment, string dispute)
        {
            Add(events.DisputeOpened(_now, payment, dispute));
            if (random.Next(3) == 0) return;
            Step();
            Add(events.DisputeClosed(_now, payment, won: random.Next(2) == 0, dispute));
        }

        /// <summary>Time moves on: often by days, sometimes not at all (Stripe's seconds tie).</summary>
        private void Step() => _now = random.Next(5) switch
        {
            0 => _now,
            1 => _now.AddSeconds(1),
            _ => _now.AddHours(random.Next(1, 24 * 20)),
        };

        private void Add(BillingEvent e) => _events.Add(e with { EventId = Id() });

        private void Add(BillingEvent e, List<string> payments, string payment)
        {
            Add(e);
            payments.Add(payment);
        }

        private string Id() => $"evt_{++_ids}";
    }
}
