using Microsoft.Extensions.Hosting;

namespace Licenzy.Standalone;

/// <summary>
/// <c>dotnet run</c> starts the app in Development, yet an environment the caller names
/// (ASPNETCORE_ENVIRONMENT, DOTNET_ENVIRONMENT, --environment) always wins. The launch profile
/// cannot say this itself: its variables override the caller's. A published app, started without
/// dotnet run, keeps ASP.NET Core's default, Production.
/// </summary>
public static class RunEnvironment
{
    /// <summary>Set by <c>dotnet run</c> when it starts the app with a launch profile.</summary>
    public const string LaunchProfileVariable = "DOTNET_LAUNCH_PROFILE";

    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = args,
        EnvironmentName = IsNamed(args) || Environment.GetEnvironmentVariable(LaunchProfileVariable) is null ? null : Environments.Development,
    };

    /// <summary>Whether the host's own sources, read as the host reads them, name an environment.</summary>
    private static bool IsNamed(string[] args)
    {
        var host = new ConfigurationBuilder()
            .AddEnvironmentVariables("DOTNET_")
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddCommandLine(args)
            .Build();
        return !string.IsNullOrWhiteSpace(host[HostDefaults.EnvironmentKey]);
    }
}
