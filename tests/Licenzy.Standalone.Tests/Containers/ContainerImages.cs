namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// The images the container suite runs, each overridable by an environment variable. Defaults are
/// the official images; for Redis, an image built without a registry by
/// tests/containers/build-redis-image.sh is taken when redis:7 is not there.
/// </summary>
internal static class ContainerImages
{
    public const string RedisVariable = "LICENZY_TEST_REDIS_IMAGE";
    public const string DaprdVariable = "LICENZY_TEST_DAPRD_IMAGE";
    public const string PlacementVariable = "LICENZY_TEST_PLACEMENT_IMAGE";

    /// <summary>A Dapr release of the 1.16 line; daprd and placement must be of the same release.</summary>
    public const string DaprVersion = "1.16.6";

    public const string OfficialRedis = "redis:7";
    public const string LocalRedis = "licenzy-test/redis:local";

    public static string Daprd => Configured(DaprdVariable) ?? $"daprio/daprd:{DaprVersion}";

    public static string Placement => Configured(PlacementVariable) ?? $"daprio/placement:{DaprVersion}";

    /// <summary>The configured Redis image, else the first of the defaults the engine holds.</summary>
    public static string? Redis(DockerEngine engine) =>
        Configured(RedisVariable) ?? new[] { OfficialRedis, LocalRedis }.FirstOrDefault(engine.HasImage);

    private static string? Configured(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } image ? image : null;
}
