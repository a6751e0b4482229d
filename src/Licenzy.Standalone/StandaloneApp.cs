namespace Licenzy.Standalone;

/// <summary>
/// Names this assembly for WebApplicationFactory. Api, Ingest and this app each have a top-level
/// Program, so tests refer to the standalone app by this type instead.
/// </summary>
public sealed class StandaloneApp
{
    private StandaloneApp()
    {
    }
}
