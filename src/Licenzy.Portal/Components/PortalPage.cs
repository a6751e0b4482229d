using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

namespace Licenzy.Portal.Components;

/// <summary>What every signed-in page has: the request, the setup API, and what to do when the API no longer takes the session's token.</summary>
public abstract class PortalPage : ComponentBase
{
    [CascadingParameter] protected HttpContext HttpContext { get; set; } = null!;
    [Inject] protected SetupClient Setup { get; set; } = null!;
    [Inject] protected NavigationManager Navigation { get; set; } = null!;

    /// <summary>A message for the operator after an action: said politely (role=status).</summary>
    protected string? Notice { get; set; }

    /// <summary>A refusal or failure: said at once (role=alert).</summary>
    protected string? Problem { get; set; }

    /// <summary>Calls the setup API; a 401 (the admin token was changed) ends the session and goes to sign-in.</summary>
    protected async Task<ApiAnswer> CallAsync(Func<SetupClient, Task<ApiAnswer>> call)
    {
        var answer = await call(Setup);
        if (answer.Status == StatusCodes.Status401Unauthorized)
        {
            await HttpContext.SignOutAsync(PortalApp.CookieScheme);
            Navigation.NavigateTo("/portal/sign-in");
        }
        return answer;
    }

    protected static string Escape(string segment) => Uri.EscapeDataString(segment);

    protected static string Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString() ?? "",
                JsonValueKind.Null or JsonValueKind.Undefined => "",
                JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())),
                _ => value.GetRawText(),
            }
            : "";

    /// <summary>An ISO 8601 time as "2026-12-05 19:20 UTC"; empty stays empty.</summary>
    protected static string When(JsonElement element, string name) =>
        DateTimeOffset.TryParse(Text(element, name), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture)
            : Text(element, name);
}
