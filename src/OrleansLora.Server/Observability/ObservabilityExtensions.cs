using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrleansLora.Engine.Diagnostics;
using OrleansLora.Grains.Metrics;
using OrleansLora.Server.Configuration;
using OrleansLora.Server.Http.Health;

namespace OrleansLora.Server.Observability;

public static class ObservabilityExtensions
{
    /// <summary>Orleans' meter (request, messaging, grain and membership figures).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>
    /// OpenTelemetry for the silo: metrics from the <c>OrleansLora</c> meter, Orleans' meter and ASP.NET
    /// Core's HTTP meters, exposed at <c>/metrics</c> for Prometheus; traces from HTTP requests through the
    /// gateway's generation spans to Orleans' grain-call spans, collected and exported over OTLP only when an endpoint is set.
    /// </summary>
    public static IHostApplicationBuilder AddOrleansLoraObservability(this IHostApplicationBuilder builder, GatewayOptions gateway)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("olora-server", serviceVersion: HealthApi.Version))
            .WithMetrics(metrics => metrics
                .AddMeter(OrleansLoraMetrics.MeterName, OrleansMeterName)
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter());
        // Tracing only where spans go somewhere: a listening tracer makes Orleans create and propagate an
        // activity for every grain call, one per streamed token batch, which cost CPU on the hot path.
        if (gateway.OtlpEndpoint is { } endpoint)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(GatewayTelemetry.SourceName, EngineTelemetry.SourceName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddAspNetCoreInstrumentation(o => o.Filter = http => http.Request.Path != "/metrics")
                .AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)));
        }
        return builder;
    }
}
