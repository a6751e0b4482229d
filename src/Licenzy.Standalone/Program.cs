using Licenzy.Api;
using Licenzy.Ingest;
using Licenzy.Sandbox;
using Licenzy.Sandbox.Cli;
using Licenzy.Standalone;

// Both apps in one process on embedded components: the README's run command.
if (SandboxCli.Handles(args)) return await SandboxCli.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddAdminTokenRule();
builder.AddLicenzyApi();
builder.AddLicenzyIngest();
builder.AddLicenzySandbox();

var app = builder.Build();
app.MapLicenzyApi();
app.MapLicenzyIngest();
app.MapLicenzySandbox();
await app.RunAsync();
return 0;
