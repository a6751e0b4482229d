using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Licenzy.Infrastructure.Secrets;
using Licenzy.Infrastructure.Startup;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Infrastructure.Tests;

public sealed class KeyRingTests : IDisposable
{
    private const string Password = "key-ring-test-password";
    private readonly TempDataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string KeysFolder => Path.Combine(_folder.Path, "keys");

    [Fact]
    public void With_a_certificate_the_key_ring_is_written_encrypted_and_read_back_after_a_restart()
    {
        var certificate = WriteCertificate("ring.pfx", withPrivateKey: true);

        string protectedSecret;
        using (var first = Provider(certificate, Password))
            protectedSecret = Protector(first).Protect("sk_test_123");

        var files = Directory.GetFiles(KeysFolder, "*.xml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var xml = File.ReadAllText(file);
            Assert.Contains("<encryptedSecret", xml);
            Assert.DoesNotContain("<value>", xml);
        }
        using var restarted = Provider(certificate, Password);
        Assert.Equal("sk_test_123", Protector(restarted).Unprotect(protectedSecret));
    }

    [Fact]
    public void Without_a_certificate_the_key_ring_is_written_as_before()
    {
        using (var provider = Provider(certificatePath: null, password: null))
            Protector(provider).Protect("sk_test_123");

        Assert.Contains("<value>", File.ReadAllText(Directory.GetFiles(KeysFolder, "*.xml").Single()));
    }

    [Fact]
    public void A_missing_certificate_file_stops_the_start_and_names_the_key()
    {
        var error = Assert.Throws<InvalidSettingException>(() => Provider(Path.Combine(_folder.Path, "absent.pfx"), Password));

        Assert.Contains(SecretsRegistration.CertificatePathKey, error.Message);
        Assert.Contains("absent.pfx", error.Message);
    }

    [Fact]
    public void A_wrong_password_stops_the_start_and_names_both_keys()
    {
        var certificate = WriteCertificate("ring.pfx", withPrivateKey: true);

        var error = Assert.Throws<InvalidSettingException>(() => Provider(certificate, "not-the-password"));

        Assert.Contains(SecretsRegistration.CertificatePathKey, error.Message);
        Assert.Contains(SecretsRegistration.CertificatePasswordKey, error.Message);
    }

    [Fact]
    public void A_certificate_without_its_private_key_stops_the_start()
    {
        var certificate = WriteCertificate("public-only.pfx", withPrivateKey: false);

        var error = Assert.Throws<InvalidSettingException>(() => Provider(certificate, Password));

        Assert.Contains("no private key", error.Message);
    }

    private ServiceProvider Provider(string? certificatePath, string? password)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _folder.Path,
            [SecretsRegistration.CertificatePathKey] = certificatePath,
            [SecretsRegistration.CertificatePasswordKey] = password,
        }).Build();
        return new ServiceCollection().AddLicenzySecrets(configuration).BuildServiceProvider();
    }

    private static IDataProtector Protector(IServiceProvider provider) =>
        provider.GetRequiredService<IDataProtectionProvider>().CreateProtector("key-ring-test");

    private string WriteCertificate(string name, bool withPrivateKey)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=licenzy-key-ring-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        var exported = withPrivateKey ? certificate : publicOnly;
        Directory.CreateDirectory(_folder.Path);
        var path = Path.Combine(_folder.Path, name);
        File.WriteAllBytes(path, exported.Export(X509ContentType.Pkcs12, Password));
        return path;
    }
}
