using Licenzy.Api;
using Licenzy.Ingest;
using Licenzy.Standalone;

// Both apps in one process on embedded components: the README's run command.
var builder = WebApplication.CreateBuilder(args);
builder.AddAdminTokenRule();
builder.AddLicenzyApi();
builder.AddLicenzyIngest();

var app = builder.Build();
app.MapLicenzyApi();
app.MapLicenzyIngest();
app.Run();
