using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Infrastructure.Secrets;

public static class SecretsRegistration
{
    /// <summary>
    /// ASP.NET Core Data Protection with its key ring under <c>Licenzy:DataPath</c>/keys. Api and
    /// Ingest share the application name so that what one protects the other can read.
    /// </summary>
    public static IServiceCollection AddLicenzySecrets(this IServiceCollection services, IConfiguration configuration)
    {
        var dataPath = configuration["Licenzy:DataPath"] ?? "./data";
        var keys = new DirectoryInfo(Path.Combine(Path.GetFullPath(dataPath), "keys"));
        services.AddDataProtection()
            .SetApplicationName("Licenzy")
            .PersistKeysToFileSystem(keys);
        return services;
    }
}
