using Licenzy.Api;
using Licenzy.Infrastructure.Startup;
using Licenzy.Ingest;
using Licenzy.Sandbox;
using Licenzy.Sandbox.Cli;
using Licenzy.Standalone;

// Both apps in one process on embedded components: the README's run command.
if (SandboxCli.Handles(args)) return await SandboxCli.RunAsync(args);
if (HealthProbe.Handles(args)) return await HealthProbe.RunAsync(args);

return await AppStart.RunAsync(() =>
{
    var builder = WebApplication.CreateBuilder(RunEnvironment.Options(args));
    builder.AddAdminTokenRule();
    builder.AddLicenzyApi();
    builder.AddLicenzyIngest();
    builder.AddLicenzySandbox();

    var app = builder.Build();
    app.MapLicenzyApi();
    app.MapLicenzyIngest();
    app.MapLicenzySandbox();
    return app;
});
