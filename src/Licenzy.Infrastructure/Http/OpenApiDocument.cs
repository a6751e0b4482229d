using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Licenzy.Infrastructure.Http;

/// <summary>
/// The OpenAPI document of the public API (runtime, setup, Stripe ingest, JWKS), served at
/// <see cref="DocumentPath"/> in every environment, and browsable at <see cref="BrowserPath"/> in
/// Development. Each app adds it; a process that composes several apps serves one document of all.
/// Health, Dapr and sandbox routes are not part of the contract and are left out.
/// </summary>
public static class OpenApiDocument
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string BrowserPath = "/scalar";

    /// <summary>Security scheme names; routes name theirs with <see cref="RequiresBearer"/>.</summary>
    public const string RuntimeKey = "runtime_key";
    public const string AdminToken = "admin_token";

    private sealed class Marker;

    public static IServiceCollection AddLicenzyOpenApi(this IServiceCollection services)
    {
        if (services.Any(s => s.ServiceType == typeof(Marker))) return services;
        services.AddSingleton<Marker>();
        services.AddOpenApi(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.ShouldInclude = description => IsPublic(description.RelativePath);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Licenzy",
                    Version = "v1",
                    Description = "Entitlements on top of Stripe: the runtime API (runtime key), the setup API (admin token) and the Stripe webhook ingest route. The contract is docs/API.md.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[RuntimeKey] = Bearer("A runtime key of one tenant and mode: lz_test_... or lz_live_...");
                document.Components.SecuritySchemes[AdminToken] = Bearer("The admin token (Licenzy:AdminToken).");
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, ct) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<BearerScheme>().LastOrDefault() is { } scheme)
                    operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme.Name, context.Document)] = [] }];
                foreach (var header in metadata.OfType<RequestHeader>())
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = header.Name, In = ParameterLocation.Header, Required = header.Required, Description = header.Description,
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    });
                }
                foreach (var query in metadata.OfType<QueryParameter>())
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = query.Name, In = ParameterLocation.Query, Required = query.Required, Description = query.Description,
                        Schema = query.Minimum is null && query.Maximum is null
                            ? new OpenApiSchema { Type = JsonSchemaType.String }
                            : new OpenApiSchema
                            {
                                Type = JsonSchemaType.Integer,
                                Minimum = query.Minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                Maximum = query.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            },
                    });
                }
                if (metadata.OfType<JsonBody>().LastOrDefault() is { } body)
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = true,
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(body.Type, cancellationToken: ct) },
                        },
                    };
            });
        });
        return services;
    }

    public static WebApplication MapLicenzyOpenApi(this WebApplication app)
    {
        var properties = ((IApplicationBuilder)app).Properties;
        if (properties.ContainsKey(nameof(OpenApiDocument))) return app;
        properties[nameof(OpenApiDocument)] = true;

        app.MapOpenApi();
        // Scalar's page and script come from the package's embedded files, and its fonts are the
        // browser's own, so the page needs nothing from outside the app.
        if (app.Environment.IsDevelopment())
            app.MapScalarApiReference(BrowserPath, options => options.WithTitle("Licenzy API").DisableDefaultFonts());
        return app;
    }

    /// <summary>Says in the document that the routes of a group take this bearer scheme.</summary>
    public static TBuilder RequiresBearer<TBuilder>(this TBuilder builder, string scheme) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BearerScheme(scheme));

    /// <summary>Documents a problem+json answer (type, title, status, detail, code) for each status.</summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(Problem), ["application/problem+json"]));
        return builder;
    }

    /// <summary>
    /// Documents a JSON request body that the handler reads itself. Unlike <c>Accepts&lt;T&gt;</c>
    /// it adds no routing metadata, so content types are still judged by the handler, as before.
    /// </summary>
    public static RouteHandlerBuilder AcceptsJson<TBody>(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new JsonBody(typeof(TBody)));

    /// <summary>Documents a request header that the handler reads itself.</summary>
    public static RouteHandlerBuilder WithRequestHeader(this RouteHandlerBuilder builder, string name, bool required, string description) =>
        builder.WithMetadata(new RequestHeader(name, required, description));

    /// <summary>A query parameter the handler reads itself: a string, or a whole number between the bounds given.</summary>
    public static RouteHandlerBuilder WithQueryParameter(this RouteHandlerBuilder builder, string name, bool required, string description,
        long? minimum = null, long? maximum = null) =>
        builder.WithMetadata(new QueryParameter(name, required, description, minimum, maximum));

    private static bool IsPublic(string? relativePath) =>
        relativePath is not null && (relativePath.StartsWith("v1/", StringComparison.Ordinal) || relativePath.StartsWith(".well-known/", StringComparison.Ordinal));

    private static OpenApiSecurityScheme Bearer(string description) =>
        new() { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = description };

    private sealed record BearerScheme(string Name);

    private sealed record JsonBody(Type Type);

    private sealed record RequestHeader(string Name, bool Required, string Description);

    private sealed record QueryParameter(string Name, bool Required, string Description, long? Minimum, long? Maximum);

    /// <summary>The shape of every error (RFC 9457 with Licenzy's <c>code</c>); some carry more members.</summary>
    public sealed record Problem(string Type, string Title, int Status, string Detail, string Code);
}
