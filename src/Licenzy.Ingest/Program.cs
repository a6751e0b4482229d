using Licenzy.Ingest;

var builder = WebApplication.CreateBuilder(args);
builder.AddLicenzyIngest();

var app = builder.Build();
app.MapLicenzyIngest();
app.Run();
