using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Licenzy.Deployment.Tests;

/// <summary>One YAML document's result from node/validate-manifests.mjs.</summary>
public sealed record SchemaResult(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("document")] int Document,
    [property: JsonPropertyName("apiVersion")] string? ApiVersion,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("errors")] IReadOnlyList<string>? Errors)
{
    public override string ToString() =>
        $"{Repository.Relative(File)}#{Document} ({Kind} {Name}): {Result}{(Errors is { Count: > 0 } ? ": " + string.Join("; ", Errors) : "")}";
}

/// <summary>
/// Runs the Kubernetes schema check (kubernetes-models, installed by the test build with npm).
/// Missing node or a missing package fails the test that uses it, saying so.
/// </summary>
public static class ManifestValidator
{
    public static async Task<IReadOnlyList<SchemaResult>> ValidateAsync(IEnumerable<string> files)
    {
        var directory = Repository.ValidatorDirectory;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "kubernetes-models")))
            throw new InvalidOperationException(
                $"The kubernetes-models npm package is not installed in {directory}. Install Node.js 18+ with npm and rebuild " +
                "(the test build runs `npm ci` there), or run `npm ci` in that folder.");

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(directory, "validate-manifests.mjs"));
        foreach (var file in files) start.ArgumentList.Add(file);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("The Kubernetes schema check needs Node.js (`node`) on PATH.", e);
        }
        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var error = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"validate-manifests.mjs failed (exit code {process.ExitCode}): {await error}");
            return JsonSerializer.Deserialize<List<SchemaResult>>(await output)
                ?? throw new InvalidOperationException("validate-manifests.mjs printed no results.");
        }
    }
}
