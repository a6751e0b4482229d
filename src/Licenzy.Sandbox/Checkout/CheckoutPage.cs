using System.Text;
using System.Text.Encodings.Web;
using Licenzy.Sandbox.Account;

namespace Licenzy.Sandbox.Checkout;

/// <summary>A webhook sent for a session, and whether Licenzy has accepted it yet.</summary>
public sealed record SentEvent(SandboxEvent Event, bool Waiting);

/// <summary>What one checkout page shows.</summary>
public sealed record CheckoutView
{
    public required string Heading { get; init; }
    public string? Lead { get; init; }
    public SandboxCheckoutSession? Session { get; init; }

    /// <summary>A problem to announce; read out at once by screen readers.</summary>
    public string? Alert { get; init; }

    public bool CanPay { get; init; }
    public string PayLabel { get; init; } = "Pay";

    /// <summary>Ask for the buyer's email with Pay, filled in with this; null when there is nothing to pay.</summary>
    public string? Email { get; init; }

    public bool CanCancel { get; init; }
    public IReadOnlyList<SentEvent> Events { get; init; } = [];
    public (string Href, string Text)? Link { get; init; }
}

/// <summary>
/// The sandbox's hosted checkout page: one self-contained HTML document (no scripts, no external
/// assets), plain forms for Pay and Cancel, and every value from the session HTML-encoded.
/// </summary>
public static class CheckoutPage
{
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static string Render(CheckoutView view)
    {
        var page = new StringBuilder();
        page.Append($"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex">
            <title>{E(view.Heading)} · Licenzy sandbox</title>
            <style>{Style}</style>
            </head>
            <body>
            <main aria-labelledby="heading">
            <p class="badge">Sandbox · test mode</p>
            <h1 id="heading">{E(view.Heading)}</h1>

            """);
        if (view.Lead is not null) page.Append($"<p class=\"lead\">{E(view.Lead)}</p>\n");
        if (view.Alert is not null) page.Append($"<div class=\"alert\" role=\"alert\">{E(view.Alert)}</div>\n");
        if (view.Session is { } session) AppendSummary(page, session);
        AppendActions(page, view);
        AppendEvents(page, view.Events);
        if (view.Link is { } link) page.Append($"<p class=\"link\"><a href=\"{E(link.Href)}\">{E(link.Text)}</a></p>\n");
        page.Append("""
            <p class="note">This is Licenzy's offline Stripe sandbox. No card is asked for and no money moves: Pay completes the
            session as Stripe would, with the email given, and sends Licenzy the signed webhooks Stripe would send.</p>
            </main>
            </body>
            </html>

            """);
        return page.ToString();
    }

    public static string PathOf(string sessionId, string? action = null) =>
        $"/sandbox/checkout/{Uri.EscapeDataString(sessionId)}" + (action is null ? "" : "/" + action);

    private static void AppendSummary(StringBuilder page, SandboxCheckoutSession session)
    {
        var interval = session.Request.Price.IsRecurring ? "<span class=\"interval\"> per month</span>" : "";
        var quantity = session.Request.Quantity > 1 ? $" × {session.Request.Quantity}" : "";
        page.Append($"""
            <section class="summary" aria-label="Order summary">
            <p class="product">{E(session.Request.Price.Nickname)}{E(quantity)}</p>
            <p class="amount" id="amount">{E(Money.Format(session.AmountTotal, session.Request.Price.Currency))}{interval}</p>
            <dl>

            """);
        Row(page, "Product", session.Owner?.ProductCode);
        Row(page, "For", session.Owner?.SubjectRef);
        Row(page, "Tenant", session.Owner?.TenantId);
        Row(page, "Billing", session.Request.Mode == CheckoutModes.Subscription ? "Subscription, renews every 30 days" : "One-time payment");
        Row(page, "Session", session.Id);
        page.Append("</dl>\n</section>\n");
    }

    private static void Row(StringBuilder page, string term, string? value)
    {
        if (!string.IsNullOrEmpty(value)) page.Append($"<dt>{E(term)}</dt><dd>{E(value)}</dd>\n");
    }

    private static void AppendActions(StringBuilder page, CheckoutView view)
    {
        if (view.Session is not { } session || (!view.CanPay && !view.CanCancel)) return;
        if (view.CanPay && view.Email is { } email)
        {
            // Outside the Pay form for the layout, but sent with it (the form attribute).
            page.Append($"<p class=\"field\"><label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" form=\"pay-form\" "
                + $"autocomplete=\"email\" required maxlength=\"512\" value=\"{E(email)}\"></p>\n");
        }

        page.Append("<div class=\"actions\">\n");
        if (view.CanPay)
        {
            page.Append($"<form id=\"pay-form\" method=\"post\" action=\"{E(PathOf(session.Id, "pay"))}\"><button id=\"pay\" type=\"submit\">{E(view.PayLabel)}</button></form>\n");
        }

        if (view.CanCancel)
        {
            page.Append($"<form method=\"post\" action=\"{E(PathOf(session.Id, "cancel"))}\"><button id=\"cancel\" type=\"submit\">Cancel</button></form>\n");
        }

        page.Append("</div>\n");
    }

    private static void AppendEvents(StringBuilder page, IReadOnlyList<SentEvent> events)
    {
        if (events.Count == 0) return;
        page.Append("<section aria-labelledby=\"events-heading\">\n<h2 id=\"events-heading\">Webhooks sent to Licenzy</h2>\n<ol class=\"events\">\n");
        foreach (var sent in events)
        {
            var (state, label) = sent.Waiting ? ("waiting", "waiting") : ("delivered", "delivered");
            page.Append($"<li data-event-id=\"{E(sent.Event.Id)}\" data-event-type=\"{E(sent.Event.Type)}\" data-state=\"{state}\">"
                + $"<code>{E(sent.Event.Type)}</code> <span class=\"state {state}\">{label}</span><br><small>{E(sent.Event.Id)}</small></li>\n");
        }

        page.Append("</ol>\n</section>\n");
    }

    private static string E(string value) => Html.Encode(value);

    // Plain system fonts and high-contrast colours (text at least 4.5:1 on its background).
    private const string Style = """
        :root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #4338ca; --accent-dark: #3730a3; }
        * { box-sizing: border-box; }
        body { margin: 0; min-height: 100vh; background: #f3f4f6; color: var(--ink);
          font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 30rem; margin: 3rem auto; padding: 2rem; background: #fff; border: 1px solid var(--line);
          border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.06), 0 8px 24px rgba(0,0,0,.06); }
        .badge { display: inline-block; margin: 0; padding: .15rem .65rem; border-radius: 999px; background: #fef3c7; color: #78350f;
          font-size: .75rem; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; }
        h1 { margin: .75rem 0 .25rem; font-size: 1.35rem; line-height: 1.3; }
        h2 { margin: 1.75rem 0 .5rem; font-size: 1rem; }
        .lead { margin: 0 0 1rem; color: var(--muted); }
        .product { margin: 1rem 0 0; font-weight: 600; }
        .amount { margin: .1rem 0 1.25rem; font-size: 2.25rem; font-weight: 700; letter-spacing: -.01em; }
        .interval { font-size: 1rem; font-weight: 400; color: var(--muted); }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0; padding: 1rem 0;
          border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); font-size: .9rem; }
        dt { color: var(--muted); }
        dd { margin: 0; overflow-wrap: anywhere; }
        .field { margin: 1.25rem 0 0; }
        .field label { display: block; margin-bottom: .35rem; font-weight: 600; font-size: .9rem; }
        .field input { width: 100%; padding: .65rem .75rem; border: 1px solid #8c959f; border-radius: 8px; font: inherit; color: var(--ink); }
        .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
        .actions form { flex: 1; margin: 0; }
        button { width: 100%; padding: .8rem 1rem; border-radius: 8px; border: 1px solid transparent; cursor: pointer;
          font: inherit; font-weight: 600; }
        #pay { background: var(--accent); color: #fff; }
        #pay:hover { background: var(--accent-dark); }
        #cancel { background: #fff; color: var(--ink); border-color: var(--line); }
        #cancel:hover { background: #f6f8fa; }
        button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
        .alert { margin: 1rem 0; padding: .75rem 1rem; border-left: 4px solid #cf222e; border-radius: 6px; background: #ffebe9; color: #82071e; }
        .events { margin: 0; padding-left: 1.25rem; font-size: .9rem; }
        .events li { margin: .35rem 0; }
        .events small { color: var(--muted); overflow-wrap: anywhere; }
        .state { margin-left: .35rem; padding: 0 .45rem; border-radius: 999px; font-size: .75rem; font-weight: 600; }
        .state.delivered { background: #dafbe1; color: #116329; }
        .state.waiting { background: #fff8c5; color: #7d4e00; }
        a { color: var(--accent); }
        .note { margin: 1.75rem 0 0; font-size: .8rem; color: var(--muted); }
        """;
}
