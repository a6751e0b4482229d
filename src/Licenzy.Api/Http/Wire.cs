using System.Text.Json;
using Licenzy.Infrastructure;

namespace Licenzy.Api.Http;

/// <summary>An enum value as the public contract spells it (snake_case), from the one JSON policy.</summary>
public static class Wire
{
    public static string Of<T>(T value) where T : struct, Enum => Names<T>.Of(value);

    /// <summary>Each value's name, asked of the JSON policy once per type: views name several enums per entitlement.</summary>
    private static class Names<T> where T : struct, Enum
    {
        private static readonly Dictionary<T, string> Known = Enum.GetValues<T>().ToDictionary(value => value, Spell);

        public static string Of(T value) => Known.TryGetValue(value, out var name) ? name : Spell(value);

        private static string Spell(T value) => JsonSerializer.SerializeToElement(value, LicenzyJson.Options).GetString()!;
    }
}
