using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure;

/// <summary>Which implementation serves the building blocks.</summary>
public enum ComponentsBinding
{
    /// <summary>SQLite and in-process dispatch; no sidecar needed.</summary>
    Embedded,

    /// <summary>The Dapr sidecar, through the Dapr .NET SDK.</summary>
    Dapr,
}

/// <summary>The <c>Licenzy</c> configuration section, as far as the building blocks read it.</summary>
public sealed class ComponentsOptions
{
    public const string SectionName = "Licenzy";

    public ComponentsBinding Components { get; set; } = ComponentsBinding.Embedded;

    /// <summary>Folder that holds the embedded binding's SQLite file (<c>licenzy.db</c>).</summary>
    public string DataPath { get; set; } = "./data";
}

/// <summary>Stops the app at start, naming the key, when the components settings cannot work.</summary>
internal sealed class ComponentsOptionsValidator : IValidateOptions<ComponentsOptions>
{
    public ValidateOptionsResult Validate(string? name, ComponentsOptions options)
    {
        var failures = new List<string>();

        if (!Enum.IsDefined(options.Components))
        {
            failures.Add($"{ComponentsOptions.SectionName}:Components is \"{options.Components}\"; allowed values: {string.Join(", ", Enum.GetNames<ComponentsBinding>())}.");
        }

        if (string.IsNullOrWhiteSpace(options.DataPath))
        {
            failures.Add($"{ComponentsOptions.SectionName}:DataPath must name a folder for the SQLite file.");
        }
        else if (options.DataPath.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"{ComponentsOptions.SectionName}:DataPath contains characters that are not allowed in a path.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
