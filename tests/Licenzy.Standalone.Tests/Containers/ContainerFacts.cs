using System.Runtime.CompilerServices;

namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// Why the container suite cannot run here, decided before any test starts (xunit 2 cannot skip
/// from inside a test). Unlike chromium, Docker is not something .ci/run can always provide, so
/// these tests are skipped, saying why, under CI too.
/// </summary>
internal static class ContainerSuite
{
    /// <summary>
    /// Skips with <paramref name="reason"/>, also written into the test's name: `dotnet test` at
    /// its default verbosity names a skipped test but leaves out xunit's reason.
    /// </summary>
    public static void SkipSayingWhy(FactAttribute fact, string test, string? reason)
    {
        if (reason is null) return;
        fact.Skip = reason;
        fact.DisplayName = $"{test} (skipped: {reason})";
    }

    public static string? WhyNotRedis()
    {
        var engine = DockerEngine.Current;
        if (engine.Unavailable is not null) return engine.Unavailable + "; the container suite needs a running Docker engine";
        if (ContainerImages.Redis(engine) is { } redis)
            return engine.HasImage(redis) ? null : $"the Docker engine has no image {redis} ({ContainerImages.RedisVariable}); the suite pulls nothing";
        return $"the Docker engine has no Redis image: neither {ContainerImages.OfficialRedis} nor {ContainerImages.LocalRedis} " +
            $"(the suite pulls nothing: docker pull {ContainerImages.OfficialRedis}, or build one with tests/containers/build-redis-image.sh, " +
            $"or set {ContainerImages.RedisVariable})";
    }

    public static string? WhyNotDapr()
    {
        if (WhyNotRedis() is { } noRedis) return noRedis;
        var engine = DockerEngine.Current;
        if (engine.Rootless)
            return "the Docker engine is rootless: its host network is not this machine's loopback, where the apps and daprd must meet";
        var missing = new[] { ContainerImages.Daprd, ContainerImages.Placement }.Where(image => !engine.HasImage(image)).ToList();
        return missing.Count == 0
            ? null
            : $"the Docker engine does not hold {string.Join(" and ", missing)} (the suite pulls nothing: docker pull them, or set " +
              $"{ContainerImages.DaprdVariable} / {ContainerImages.PlacementVariable}); the Dapr binding is tested against the sidecar test double instead";
    }
}

/// <summary>Runs where the Docker engine answers and holds a Redis image; otherwise skipped, saying why.</summary>
public sealed class RedisContainerFactAttribute : FactAttribute
{
    public RedisContainerFactAttribute([CallerMemberName] string test = "") => ContainerSuite.SkipSayingWhy(this, test, ContainerSuite.WhyNotRedis());
}

/// <summary>Runs where the Docker engine holds Redis, daprd and placement images; otherwise skipped, saying why.</summary>
public sealed class DaprContainersFactAttribute : FactAttribute
{
    public DaprContainersFactAttribute([CallerMemberName] string test = "") => ContainerSuite.SkipSayingWhy(this, test, ContainerSuite.WhyNotDapr());
}

/// <summary>Runs where the Docker engine answers and holds base images for the Dockerfile; otherwise skipped, saying why.</summary>
public sealed class StandaloneImageFactAttribute : FactAttribute
{
    public StandaloneImageFactAttribute([CallerMemberName] string test = "") => ContainerSuite.SkipSayingWhy(this, test, StandaloneImage.WhyNot());
}
