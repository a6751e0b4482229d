using System.Reflection;

namespace Licenzy.Deployment.Tests;

/// <summary>Where the repository's files are, as the test build recorded it.</summary>
public static class Repository
{
    public static string Root { get; } = Metadata("RepositoryRoot");

    public static string ValidatorDirectory { get; } = Metadata("ManifestValidatorDirectory");

    public static string PathOf(string relative) => Path.GetFullPath(Path.Combine(Root, relative));

    /// <summary>The path relative to the repository root, with forward slashes, for messages.</summary>
    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    public static IReadOnlyList<string> YamlFilesIn(string folder) =>
        Directory.EnumerateFiles(PathOf(folder), "*.*", SearchOption.AllDirectories)
            .Where(file => file.EndsWith(".yaml", StringComparison.Ordinal) || file.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static string Metadata(string key) =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == key).Value
        ?? throw new InvalidOperationException($"The test build did not record {key}.");
}

/// <summary>
/// The Dapr app ids. They are deployment names, not code constants: the apps never name
/// themselves, so these are the one list the YAML files are checked against.
/// </summary>
public static class AppIds
{
    public const string Api = "licenzy-api";
    public const string Ingest = "licenzy-ingest";

    /// <summary>Both ids, in ordinal order.</summary>
    public static IReadOnlyList<string> All { get; } = [Api, Ingest];
}
