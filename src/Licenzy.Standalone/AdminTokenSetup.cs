using System.Security.Cryptography;
using Licenzy.Infrastructure.Startup;

namespace Licenzy.Standalone;

/// <summary>
/// The standalone app's rule for the admin token: required in Production (the app will not start
/// without one); in Development, generated on first start, kept under the data path and printed,
/// so that a newcomer can use the setup API at once.
/// </summary>
public static class AdminTokenSetup
{
    public const string Key = "Licenzy:AdminToken";
    public const string FileName = "dev-admin-token";

    public static WebApplicationBuilder AddAdminTokenRule(this WebApplicationBuilder builder)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration[Key])) return builder;

        if (!builder.Environment.IsDevelopment())
        {
            throw new InvalidSettingException(
                $"{Key} is not set; in {builder.Environment.EnvironmentName} it must be a long random secret (environment variable "
                + "Licenzy__AdminToken), which the setup API needs. Only the Development environment generates one for you.");
        }

        var dataPath = Path.GetFullPath(builder.Configuration["Licenzy:DataPath"] ?? "./data");
        Directory.CreateDirectory(dataPath);
        var file = Path.Combine(dataPath, FileName);
        var fresh = !File.Exists(file);
        if (fresh) File.WriteAllText(file, "lzadm_" + RandomNumberGenerator.GetHexString(40, lowercase: true));
        var token = File.ReadAllText(file).Trim();
        builder.Configuration[Key] = token;

        Console.WriteLine(fresh
            ? $"Licenzy (Development): generated an admin token for the setup API, kept in {file}:\n  {token}"
            : $"Licenzy (Development): the admin token for the setup API is in {file}");
        return builder;
    }
}
