using Licenzy.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddLicenzyApi();

var app = builder.Build();
app.MapLicenzyApi();
app.Run();
