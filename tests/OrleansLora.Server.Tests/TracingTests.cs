using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using OrleansLora.Engine.Diagnostics;
using OrleansLora.Server.Observability;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>One trace from the HTTP request through the gateway's generation span and the adapter grain's call to the engine's request span, which the engine's step spans link to.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TracingTests(GatewayFixture server)
{
    [Fact]
    public async Task A_request_with_traceparent_yields_http_gateway_grain_and_engine_spans_in_that_trace()
    {
        // The server runs in this process: a listener sees its spans as they end.
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or GatewayTelemetry.SourceName or EngineTelemetry.SourceName || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var traceId = ActivityTraceId.CreateRandom();
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(Api.Chat("demo-poet", "trace me", 3)) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The HTTP span ends after the response is written: wait for it rather than for a fixed time.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!spans.Any(s => s.TraceId == traceId && s.Source.Name == "Microsoft.AspNetCore") && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var inTrace = spans.Where(s => s.TraceId == traceId).ToList();
        string seen = string.Join("\n", inTrace.Select(s => $"{s.Source.Name}: {s.DisplayName} ({s.Kind})"));

        var httpSpan = Assert.Single(inTrace, s => s.Source.Name == "Microsoft.AspNetCore");
        var generation = Assert.Single(inTrace, s => s.Source.Name == GatewayTelemetry.SourceName);
        Assert.Equal(httpSpan.SpanId, generation.ParentSpanId);
        Assert.Equal("demo-poet", generation.GetTagItem("olora.adapter"));
        Assert.Equal(3, generation.GetTagItem("olora.completion_tokens"));
        var grainCalls = inTrace.Where(s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.DisplayName.Contains("AdapterGrain", StringComparison.Ordinal)).ToList();
        Assert.True(grainCalls.Count > 0, $"no adapter-grain call span in the trace; seen:\n{seen}");

        // The engine's request span is in the trace, under one of the adapter grain's spans, and it saw the tokens.
        var engine = Assert.Single(inTrace, s => s.Source.Name == EngineTelemetry.SourceName && s.OperationName == "engine.generate");
        Assert.Contains(inTrace, s => s.SpanId == engine.ParentSpanId && s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));
        Assert.Equal("demo-poet", engine.GetTagItem("olora.adapter"));
        Assert.Equal(3, engine.GetTagItem("olora.completion_tokens"));
        Assert.Contains(engine.Events, e => e.Name == "first_token");
        // Steps serve many traces: they are roots in their own traces, linked to the requests they ran.
        var steps = spans.Where(s => s.OperationName == "engine.step" && s.Links.Any(l => l.Context.SpanId == engine.SpanId)).ToList();
        Assert.True(steps.Count >= 3, $"expected a step span per generated token linked to the request, found {steps.Count}");
        Assert.All(steps, s => Assert.NotEqual(traceId, s.TraceId));
    }
}
