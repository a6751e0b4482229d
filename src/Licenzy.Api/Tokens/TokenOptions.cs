using Microsoft.Extensions.Options;

namespace Licenzy.Api.Tokens;

/// <summary>The entitlement token settings, bound from <c>Licenzy:Tokens</c>.</summary>
public sealed class TokenOptions
{
    public const string Section = "Licenzy:Tokens";

    /// <summary>The longest a token is valid; it ends sooner when the clock alone would change its answer.</summary>
    public int LifetimeSeconds { get; set; } = 300;

    /// <summary>How long a signing key signs before the next one takes over.</summary>
    public int RotationDays { get; set; } = 30;

    /// <summary>The most <see cref="LifetimeSeconds"/> may be; a retired key stays listed this long after its last token.</summary>
    public const int MaxLifetimeSeconds = 3600;

    internal const int MaxRotationDays = 365;
}

/// <summary>Stops the app at start, naming the key, when a token setting is out of range.</summary>
internal sealed class TokenOptionsValidator : IValidateOptions<TokenOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        var failures = new List<string>();
        if (options.LifetimeSeconds is < 1 or > TokenOptions.MaxLifetimeSeconds)
            failures.Add($"{TokenOptions.Section}:LifetimeSeconds is {options.LifetimeSeconds}; it must be from 1 to {TokenOptions.MaxLifetimeSeconds}.");
        if (options.RotationDays is < 1 or > TokenOptions.MaxRotationDays)
            failures.Add($"{TokenOptions.Section}:RotationDays is {options.RotationDays}; it must be from 1 to {TokenOptions.MaxRotationDays}.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
