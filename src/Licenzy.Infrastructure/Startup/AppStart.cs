using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Startup;

/// <summary>
/// How every Licenzy app runs: a configuration mistake found at start ends the process with one
/// line on standard error that names the key and what is allowed, and exit code 1, rather than an
/// unhandled exception's stack trace. Every other failure keeps its usual behaviour. So does every
/// failure when the app runs inside a test host (WebApplicationFactory calls Main in the test's
/// process), which reports the exception to the test.
/// </summary>
public static partial class AppStart
{
    public const int InvalidSettingExitCode = 1;

    /// <summary>Builds the app with <paramref name="build"/> (composition and mapping), checks its settings, and runs it.</summary>
    public static async Task<int> RunAsync(Func<WebApplication> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        var ownProcess = Assembly.GetEntryAssembly() == build.Method.Module.Assembly;
        try
        {
            var app = build();
            // ValidateOnStart's checks, made here before the host starts: the host would log them with a stack trace first.
            app.Services.GetService<IStartupValidator>()?.Validate();
            await app.RunAsync();
            return 0;
        }
        catch (Exception exception) when (ownProcess && InvalidSetting(exception) is { } mistake)
        {
            await Console.Error.WriteLineAsync($"Licenzy cannot start: {mistake}");
            return InvalidSettingExitCode;
        }
    }

    /// <summary>What is wrong with the settings, in one line, if <paramref name="exception"/> is a configuration mistake.</summary>
    public static string? InvalidSetting(Exception exception) => exception switch
    {
        InvalidSettingException invalid => invalid.Message,
        // Several options types failed at once (ValidateOnStart checks them all): one line for all, if every one is a setting.
        AggregateException { InnerExceptions.Count: > 0 } several when several.InnerExceptions.Select(InvalidSetting).ToList() is var mistakes && mistakes.All(m => m is not null) =>
            string.Join(" ", mistakes),
        OptionsValidationException validation => string.Join(" ", validation.Failures.Select(Sentence)),
        InvalidOperationException binding when BinderFailure().Match(binding.Message) is { Success: true } failure =>
            $"{failure.Groups["key"].Value} is \"{failure.Groups["value"].Value}\"; {Allowed(failure.Groups["type"].Value)}.",
        _ => null,
    };

    private static string Sentence(string failure) => failure.EndsWith('.') ? failure : failure + ".";

    /// <summary>What the configuration binder accepts for a property of this type.</summary>
    private static string Allowed(string typeName)
    {
        var type = AppDomain.CurrentDomain.GetAssemblies().Select(assembly => assembly.GetType(typeName)).FirstOrDefault(found => found is not null)
            ?? Type.GetType(typeName);
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            { IsEnum: true } => $"allowed values: {string.Join(", ", Enum.GetNames(type))}",
            _ when type == typeof(int) || type == typeof(long) => "it must be a whole number",
            _ when type == typeof(TimeSpan) => "it must be a time span such as 00:00:30 (hh:mm:ss)",
            _ when type == typeof(bool) => "allowed values: true, false",
            _ when type == typeof(Uri) => "it must be a URL",
            _ => string.Create(CultureInfo.InvariantCulture, $"it must be a value of type {type?.Name ?? typeName}"),
        };
    }

    // Microsoft.Extensions.Configuration.Binder's message when a value cannot be converted to its property's type.
    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>.*)' to type '(?<type>.*)'\.$", RegexOptions.Singleline)]
    private static partial Regex BinderFailure();
}
