global using Licenzy.Infrastructure.Http;
