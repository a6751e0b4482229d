using Licenzy.Api;
using Licenzy.Infrastructure.Startup;

return await AppStart.RunAsync(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddLicenzyApi();

    var app = builder.Build();
    app.MapLicenzyApi();
    return app;
});
