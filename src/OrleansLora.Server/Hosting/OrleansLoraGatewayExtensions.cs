using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using OrleansLora.Server.Configuration;
using OrleansLora.Server.Hosting.Drain;
using OrleansLora.Server.Http;
using OrleansLora.Server.Http.Health;
using OrleansLora.Server.Http.Lorax;
using OrleansLora.Server.Http.Management;
using OrleansLora.Server.Http.OpenAi;
using OrleansLora.Server.Http.Tokenize;
using OrleansLora.Server.Observability;

namespace OrleansLora.Server.Hosting;

public static class OrleansLoraGatewayExtensions
{
    /// <summary>
    /// The HTTP side of the silo: options from <c>OrleansLora:Gateway</c> (validated here), JSON conventions,
    /// OpenAPI and OpenTelemetry. Every role gets probes and <c>/metrics</c>; gateway roles the APIs too.
    /// </summary>
    public static GatewayOptions AddOrleansLoraGateway(this IHostApplicationBuilder builder)
    {
        var gateway = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        gateway.Validate();
        builder.Services.AddSingleton(Options.Create(gateway));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ClusterView>();
        builder.Services.AddSingleton<SiloReadiness>();
        builder.Services.AddSingleton<LoraRequestsInfo>();
        builder.AddOrleansLoraDrain();
        builder.Services.Configure<JsonOptions>(o => GatewayJson.Configure(o.SerializerOptions));
        // Every endpoint: reading a larger body throws BadHttpRequestException (413), which ErrorMapping shapes.
        builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = gateway.MaxRequestBodyBytes);
        builder.Services.AddOpenApi();
        builder.AddOrleansLoraObservability(gateway);
        return gateway;
    }

    /// <summary>Middleware and endpoints: bare statuses and errors in OpenAI's shape, playground files, API keys, then the APIs.</summary>
    public static WebApplication MapOrleansLoraGateway(this WebApplication app, ServerOptions server, GatewayOptions gateway)
    {
        bool isGateway = server.Role != ServerRole.Worker;
        // Statuses the framework sets without a body (unknown path 404, wrong method 405) get OpenAI's error shape.
        app.UseStatusCodePages(context => ErrorMapping.WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode, ErrorMapping.ForBareStatus(context.HttpContext)));
        if (isGateway && gateway.Playground)
        {
            var files = new EmbeddedFileProvider(typeof(OrleansLoraGatewayExtensions).Assembly, "OrleansLora.Server.wwwroot");
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }
        app.UseRouting();
        app.UseMiddleware<ApiErrorMiddleware>();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseMiddleware<DrainMiddleware>();
        app.UseMiddleware<LoraRequestsInfoMiddleware>();
        app.MapProbes();
        // The exporter maps every method; a scrape is a GET (a POST is a 405 like on any other GET endpoint).
        app.MapPrometheusScrapingEndpoint().WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
        if (isGateway)
        {
            app.MapInfo();
            app.MapOpenAiApi();
            app.MapLoraxApi();
            app.MapTokenizeApi();
            app.MapAdaptersApi();
            app.MapOpenApi().WithMetadata(PublicEndpoint.Instance);
        }
        return app;
    }
}
