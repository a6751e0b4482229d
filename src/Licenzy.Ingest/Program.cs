using Licenzy.Infrastructure.Startup;
using Licenzy.Ingest;

return await AppStart.RunAsync(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddLicenzyIngest();

    var app = builder.Build();
    app.MapLicenzyIngest();
    return app;
});
