using System.Text.Json;
using Licenzy.Infrastructure;

namespace Licenzy.Api.Http;

/// <summary>An enum value as the public contract spells it (snake_case), from the one JSON policy.</summary>
public static class Wire
{
    public static string Of<T>(T value) where T : struct, Enum =>
        JsonSerializer.SerializeToElement(value, LicenzyJson.Options).GetString()!;
}
