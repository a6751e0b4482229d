using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Licenzy.Infrastructure.Startup;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Infrastructure.Secrets;

public static class SecretsRegistration
{
    public const string CertificatePathKey = "Licenzy:KeyRing:CertificatePath";
    public const string CertificatePasswordKey = "Licenzy:KeyRing:CertificatePassword";

    /// <summary>
    /// ASP.NET Core Data Protection with its key ring under <c>Licenzy:DataPath</c>/keys. Api and
    /// Ingest share the application name so that what one protects the other can read. With
    /// <c>Licenzy:KeyRing:CertificatePath</c>, the keys it writes are encrypted with that
    /// certificate, so the key ring's files alone no longer decrypt the Stripe secrets.
    /// </summary>
    public static IServiceCollection AddLicenzySecrets(this IServiceCollection services, IConfiguration configuration)
    {
        var dataPath = configuration["Licenzy:DataPath"] ?? "./data";
        var keys = new DirectoryInfo(Path.Combine(Path.GetFullPath(dataPath), "keys"));
        var protection = services.AddDataProtection()
            .SetApplicationName("Licenzy")
            .PersistKeysToFileSystem(keys);
        var certificatePath = configuration[CertificatePathKey];
        if (!string.IsNullOrWhiteSpace(certificatePath))
            protection.ProtectKeysWithCertificate(LoadCertificate(certificatePath, configuration[CertificatePasswordKey]));
        return services;
    }

    /// <summary>The key ring's certificate, or a start-up error that says what is wrong with it.</summary>
    private static X509Certificate2 LoadCertificate(string path, string? password)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
            throw new InvalidSettingException($"{CertificatePathKey}: there is no file at '{fullPath}'.");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(fullPath, password, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException e)
        {
            throw new InvalidSettingException(
                $"{CertificatePathKey}: '{fullPath}' could not be read as a PKCS #12 (.pfx) file with the password in " +
                $"{CertificatePasswordKey} ({e.Message}).");
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidSettingException(
                $"{CertificatePathKey}: '{fullPath}' holds no private key; the key ring could be encrypted with it but never read back.");
        }
        return certificate;
    }
}
