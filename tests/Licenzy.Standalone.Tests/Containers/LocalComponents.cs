using System.Reflection;
using YamlDotNet.RepresentationModel;

namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// The repository's components/local as a test's daprd reads them. The files are copied under
/// components/local of a folder that becomes daprd's working directory, so the secrets file is
/// found by the same relative path as with `dapr run -f .`; the only change is that every
/// <c>redisHost</c> (localhost:6379 in the repository, where `dapr init` puts Redis) names the
/// test's Redis instead. The value is replaced in place, so everything else stays byte for byte.
/// </summary>
internal static class LocalComponents
{
    public const string Folder = "components/local";
    public const string RedisHostKey = "redisHost";

    public static string RepositoryFolder { get; } = Path.Combine(
        typeof(LocalComponents).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!,
        Folder);

    /// <summary>Writes the copy into <paramref name="root"/>/components/local and returns that folder.</summary>
    public static string Prepare(string root, string redisAddress)
    {
        var target = Path.Combine(root, Folder);
        Directory.CreateDirectory(target);
        var replaced = 0;
        foreach (var source in Directory.EnumerateFiles(RepositoryFolder))
        {
            var text = File.ReadAllText(source);
            if (IsYaml(source))
            {
                var hosts = RedisHostValues(text, source);
                // From the end, so that earlier offsets stay valid.
                foreach (var (start, end) in hosts.OrderByDescending(host => host.Start))
                    text = string.Concat(text.AsSpan(0, start), redisAddress, text.AsSpan(end));
                replaced += hosts.Count;
            }
            File.WriteAllText(Path.Combine(target, Path.GetFileName(source)), text);
        }
        if (replaced == 0)
            throw new InvalidOperationException(
                $"no component in {Folder} has a {RedisHostKey}: the container suite no longer knows how to point the local components at its Redis");
        return target;
    }

    /// <summary>Each component's <c>redisHost</c> value in <paramref name="folder"/>, by file.</summary>
    public static IReadOnlyList<(string File, string Value)> RedisHosts(string folder) =>
        Directory.EnumerateFiles(folder).Where(IsYaml).Order(StringComparer.Ordinal)
            .SelectMany(file =>
            {
                var text = File.ReadAllText(file);
                return RedisHostValues(text, file).Select(host => (Path.GetFileName(file), text[host.Start..host.End]));
            })
            .ToList();

    private static bool IsYaml(string file) =>
        file.EndsWith(".yaml", StringComparison.Ordinal) || file.EndsWith(".yml", StringComparison.Ordinal);

    /// <summary>Where, in <paramref name="text"/>, each <c>spec.metadata</c> item named redisHost has its value.</summary>
    private static List<(int Start, int End)> RedisHostValues(string text, string file)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(text)) stream.Load(reader);
        var found = new List<(int Start, int End)>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root || Child(root, "spec") is not YamlMappingNode spec ||
                Child(spec, "metadata") is not YamlSequenceNode metadata)
                continue;
            foreach (var item in metadata.Children.OfType<YamlMappingNode>())
            {
                if ((Child(item, "name") as YamlScalarNode)?.Value != RedisHostKey) continue;
                if (Child(item, "value") is not YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } value)
                    throw new InvalidOperationException($"{Path.GetFileName(file)}: {RedisHostKey} is not a plain value; the container suite cannot point it at its Redis");
                found.Add(((int)value.Start.Index, (int)value.End.Index));
            }
        }
        return found;
    }

    private static YamlNode? Child(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;
}
