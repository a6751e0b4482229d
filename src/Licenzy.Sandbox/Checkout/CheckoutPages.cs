using Licenzy.Sandbox.Account;
using Licenzy.Sandbox.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Licenzy.Sandbox.Checkout;

/// <summary>
/// The pages a buyer sees: <c>GET /sandbox/checkout/{id}</c> with Pay and Cancel, the "payment
/// complete" and "canceled" pages that stand in when the session has no success or cancel URL.
/// Pay completes the session, delivers its webhooks to Licenzy, and redirects only once Licenzy
/// accepted all of them; a refusal is shown, not swallowed.
/// </summary>
public static class CheckoutPages
{
    public const string SessionIdPlaceholder = "{CHECKOUT_SESSION_ID}";

    public static RouteGroupBuilder MapSandboxCheckout(this RouteGroupBuilder sandbox)
    {
        var checkout = sandbox.MapGroup("/checkout/{id}");
        checkout.MapGet("", Show);
        checkout.MapPost("/pay", PayAsync);
        checkout.MapPost("/cancel", Cancel);
        checkout.MapGet("/complete", Show);
        checkout.MapGet("/canceled", Canceled);
        return sandbox;
    }

    private static IResult Show(string id, SandboxAccount account, WebhookDeliveries deliveries, TimeProvider clock)
    {
        var session = Find(account, id);
        if (session is null) return Unknown();
        return session.StatusAt(clock.GetUtcNow()) switch
        {
            SessionStatuses.Complete => Page(200, PaidView(session, deliveries)),
            SessionStatuses.Expired => Page(410, ExpiredView(session)),
            _ => Page(200, PayView(session)),
        };
    }

    private static CheckoutView PayView(SandboxCheckoutSession session) => new()
    {
        Heading = session.Request.Mode == CheckoutModes.Subscription ? "Subscribe" : "Pay",
        Session = session, CanPay = true, CanCancel = true,
        PayLabel = "Pay " + Money.Format(session.AmountTotal, session.Request.Price.Currency),
        Email = BuyerEmail.DefaultFor(session),
    };

    private static async Task<IResult> PayAsync(
        string id, HttpRequest request, SandboxAccount account, CheckoutCompletion completion, WebhookDeliveries deliveries,
        TimeProvider clock, CancellationToken ct)
    {
        var found = Find(account, id);
        if (found is null) return Unknown();
        if (found.Owner is not { } owner) return Page(422, NoTenantView(found));

        // The page sends the email the buyer left or typed; a Pay without a form takes the default.
        var email = BuyerEmail.DefaultFor(found);
        if (request.HasFormContentType && (await request.ReadFormAsync(ct))["email"].ToString() is { Length: > 0 } given)
        {
            if (BuyerEmail.Read(given) is { } read) email = read;
            else if (found.StatusAt(clock.GetUtcNow()) == SessionStatuses.Open)
                return Page(422, PayView(found) with { Alert = "Enter one email address, such as buyer@example.com.", Email = given });
        }

        await using var turn = await deliveries.BeginAsync(owner.TenantId, ct);
        SandboxCheckoutSession session;
        DeliveryReport report;
        switch (completion.Complete(id, email))
        {
            case Completion.Paid paid:
                session = paid.Session;
                report = await turn.DeliverAsync(paid.Events, ct);
                break;
            case Completion.AlreadyPaid already when turn.Waiting > 0:
                // Paid before, but Licenzy refused some of its webhooks: this Pay delivers them again.
                session = already.Session;
                report = await turn.DeliverAsync([], ct);
                break;
            case Completion.AlreadyPaid already:
                return Page(409, PaidView(already.Session, deliveries) with
                {
                    Heading = "Already paid", Lead = "This checkout session was paid before; a session can be paid once.",
                });
            case Completion.Expired expired:
                return Page(410, ExpiredView(expired.Session));
            case Completion.NoTenant noTenant:
                return Page(422, NoTenantView(noTenant.Session));
            default:
                return Unknown();
        }

        if (!report.AllDelivered)
        {
            return Page(502, PaidView(session, deliveries) with
            {
                Heading = "Paid, but Licenzy did not accept a webhook",
                Lead = null,
                Alert = $"{DeliveryProblem.Explain(report.Failure!)} {DeliveryProblem.Waiting(report)} Fix the cause, then deliver them again.",
                CanPay = true, PayLabel = "Deliver again",
            });
        }

        return SeeOther(session.Request.SuccessUrl is { } successUrl
            ? successUrl.Replace(SessionIdPlaceholder, session.Id, StringComparison.Ordinal)
            : CheckoutPage.PathOf(session.Id, "complete"));
    }

    /// <summary>Cancel changes nothing, as on Stripe: the session stays open until it is paid or expires.</summary>
    private static IResult Cancel(string id, SandboxAccount account)
    {
        var session = Find(account, id);
        if (session is null) return Unknown();
        return SeeOther(session.Request.CancelUrl?.Replace(SessionIdPlaceholder, session.Id, StringComparison.Ordinal)
            ?? CheckoutPage.PathOf(session.Id, "canceled"));
    }

    private static IResult Canceled(string id, SandboxAccount account, TimeProvider clock)
    {
        var session = Find(account, id);
        if (session is null) return Unknown();
        var open = session.StatusAt(clock.GetUtcNow()) == SessionStatuses.Open;
        return Page(200, new CheckoutView
        {
            Heading = "Checkout canceled",
            Lead = "Nothing was paid and Licenzy was told nothing.",
            Link = open ? (CheckoutPage.PathOf(session.Id), "Back to the checkout") : null,
        });
    }

    private static CheckoutView PaidView(SandboxCheckoutSession session, WebhookDeliveries deliveries)
    {
        var tenant = session.Owner?.TenantId ?? "";
        var sent = session.Events.Select(e => new SentEvent(e, deliveries.IsWaiting(tenant, e.Id))).ToList();
        var waiting = sent.Any(e => e.Waiting);
        return new CheckoutView
        {
            Heading = "Payment complete",
            Lead = waiting ? "Paid. Some webhooks still wait for Licenzy to accept them." : "Paid. Licenzy accepted every webhook below.",
            Session = session, Events = sent, CanPay = waiting, PayLabel = "Deliver again",
        };
    }

    private static CheckoutView ExpiredView(SandboxCheckoutSession session) => new()
    {
        Heading = "Checkout expired",
        Lead = "This checkout session expired unpaid, as Stripe's do after a day. Start a new checkout.",
        Session = session,
    };

    private static CheckoutView NoTenantView(SandboxCheckoutSession session) => new()
    {
        Heading = "Not a Licenzy checkout",
        Alert = "This session's metadata names no Licenzy tenant (licenzy_tenant), so the sandbox has nobody to send its webhooks to. "
            + "Start the checkout with Licenzy's POST /v1/checkout/session.",
        Session = session,
    };

    private static SandboxCheckoutSession? Find(SandboxAccount account, string id) =>
        account.Transact(data => data.Sessions.GetValueOrDefault(id));

    private static IResult Unknown() => Page(404, new CheckoutView
    {
        Heading = "No such checkout", Lead = "The sandbox has no checkout session with this id. Sessions live in memory and are gone after a restart.",
    });

    private static IResult Page(int status, CheckoutView view) => new HtmlPage(status, CheckoutPage.Render(view));

    private static IResult SeeOther(string location) => new SeeOtherRedirect(location);

    private sealed class HtmlPage(int status, string html) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "text/html; charset=utf-8";
            var headers = http.Response.Headers;
            headers.CacheControl = "no-store";
            headers.ContentSecurityPolicy = CheckoutPage.ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return http.Response.WriteAsync(html, http.RequestAborted);
        }
    }

    /// <summary>303, so that the browser follows a form's POST with a GET, as after Stripe's checkout.</summary>
    private sealed class SeeOtherRedirect(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = StatusCodes.Status303SeeOther;
            http.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}
