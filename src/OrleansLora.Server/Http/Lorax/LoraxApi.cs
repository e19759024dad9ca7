using System.Text;
using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Errors;
using OrleansLora.Generation;
using OrleansLora.Grains.Storage;
using OrleansLora.Server.Configuration;
using OrleansLora.Server.Http.Sse;
using OrleansLora.Server.Observability;

namespace OrleansLora.Server.Http.Lorax;

/// <summary>LoRAX's <c>/generate</c> and <c>/generate_stream</c> over adapter grains.</summary>
public static class LoraxApi
{
    public static IEndpointRouteBuilder MapLoraxApi(this IEndpointRouteBuilder app)
    {
        var lorax = app.MapGroup("").WithTags("LoRAX").WithMetadata(ParamNames.Lorax);
        lorax.MapPost("/generate", Generate)
            .Accepts<LoraxGenerateRequest>("application/json", "*/*")
            .Produces<LoraxGenerateResponse>()
            .Produces<ApiErrorResponse>(StatusCodes.Status400BadRequest);
        lorax.MapPost("/generate_stream", GenerateStream)
            .Accepts<LoraxGenerateRequest>("application/json", "*/*")
            .Produces<LoraxStreamEvent>(StatusCodes.Status200OK, "text/event-stream")
            .Produces<ApiErrorResponse>(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task Generate(HttpContext http, ClusterView cluster, AdapterStore store, IOptions<GatewayOptions> options)
    {
        var ct = http.RequestAborted;
        var (body, p, key, request) = await Prepare(http, cluster, store, options.Value);
        using var activity = GatewayTelemetry.StartGeneration("lorax.generate", key, stream: false);
        await using var stream = await GenerationStream.StartAsync(cluster.Adapter(key), request, ct);
        var text = new StringBuilder();
        var tokens = new List<LoraxToken>();
        await foreach (var chunk in stream.ReadAllAsync())
        {
            text.Append(chunk.TextDelta);
            AddTokens(tokens, chunk);
            if (!chunk.IsFinal)
                continue;
            var details = Details(chunk, p, request);
            GatewayTelemetry.Finish(activity, details.PromptTokens, details.GeneratedTokens, details.FinishReason);
            string generated = p.ReturnFullText ? body.Inputs + text : text.ToString();
            var response = new LoraxGenerateResponse(generated) { Details = p.Details ? details with { Tokens = tokens } : null };
            await http.Response.WriteAsJsonAsync(response, GatewayJson.Options, ct);
        }
    }

    private static async Task GenerateStream(HttpContext http, ClusterView cluster, AdapterStore store, IOptions<GatewayOptions> options)
    {
        var ct = http.RequestAborted;
        var (body, p, key, request) = await Prepare(http, cluster, store, options.Value);
        using var activity = GatewayTelemetry.StartGeneration("lorax.generate_stream", key, stream: true);
        await using var stream = await GenerationStream.StartAsync(cluster.Adapter(key), request, ct);
        var sse = new SseWriter(http);
        sse.Start();
        var text = new StringBuilder();
        LoraxToken? pending = null; // held back one token so the last one can carry generated_text and details
        try
        {
            await foreach (var chunk in stream.ReadAllAsync())
            {
                text.Append(chunk.TextDelta);
                var tokens = new List<LoraxToken>();
                AddTokens(tokens, chunk);
                foreach (var token in tokens)
                {
                    if (pending is not null)
                        await sse.WriteAsync(new LoraxStreamEvent(pending, null, null), ct);
                    pending = token;
                }
                if (tokens.Count == 0 && chunk.TextDelta.Length > 0 && pending is not null)
                    pending = pending with { Text = pending.Text + chunk.TextDelta };
                if (!chunk.IsFinal)
                    continue;
                var details = Details(chunk, p, request);
                GatewayTelemetry.Finish(activity, details.PromptTokens, details.GeneratedTokens, details.FinishReason);
                string generated = p.ReturnFullText ? body.Inputs + text : text.ToString();
                await sse.WriteAsync(new LoraxStreamEvent(pending ?? new LoraxToken(0, "", null, true), generated, details), ct);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await sse.WriteErrorAsync(ex, ct);
        }
    }

    private static async Task<(LoraxGenerateRequest Body, LoraxParameters Parameters, string Key, GenerateRequest Request)> Prepare(
        HttpContext http, ClusterView cluster, AdapterStore store, GatewayOptions options)
    {
        var body = await RequestBody.ReadAsync<LoraxGenerateRequest>(http.Request, http.RequestAborted);
        var p = body.Parameters ?? new LoraxParameters();
        string key = await AdapterKey(cluster, store, p);
        // As LoRAX (and TGI) decide: sample when asked to or when a sampling parameter is set; otherwise greedy.
        bool sample = p.DoSample || (p.Temperature is { } t && t != 1f) || p.TopK is > 0 || p.TopP is < 1f;
        var request = new GenerateRequest
        {
            Prompt = body.Inputs,
            MaxTokens = p.MaxNewTokens ?? options.DefaultMaxTokens,
            Temperature = sample ? p.Temperature ?? 1f : 0f,
            TopK = sample ? p.TopK ?? 0 : 0,
            TopP = sample ? p.TopP ?? 1f : 1f,
            RepetitionPenalty = p.RepetitionPenalty ?? 1f,
            Seed = p.Seed is { } s ? unchecked((ulong)s) : null,
            Stop = p.Stop ?? [],
        };
        return (body, p, key, request);
    }

    /// <summary>
    /// The adapter grain key: the base model for an empty adapter_id; with adapter_source "local" the id is a
    /// path under the adapter store root, checked against the sandbox here (and again on the worker), whose
    /// adapter id is the path itself when that is a valid id, else its segments joined by '.'. A local
    /// request only ever adds a registration (<see cref="IAdapterGrain.RegisterIfNew"/>): when its id is
    /// already registered from another path — an admin's load, or a path that makes the same id — it is
    /// refused (409 adapter_conflict), never re-pointed.
    /// </summary>
    private static async Task<string> AdapterKey(ClusterView cluster, AdapterStore store, LoraxParameters p)
    {
        string source = string.IsNullOrEmpty(p.AdapterSource) ? "hub" : p.AdapterSource; // checked by the request's Validate
        if (string.IsNullOrEmpty(p.AdapterId))
            return AdapterIds.BaseModel;
        if (source == "hub")
            return await cluster.AdapterKeyAsync(p.AdapterId, "parameters.adapter_id");
        // Checked here even for a plain name, so a symbolic link out of the root is refused as such (400),
        // not reported as a missing adapter.
        try
        {
            store.Resolve(p.AdapterId);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidRequestException(ErrorMapping.MessageOf(ex), "parameters.adapter_id");
        }
        var segments = p.AdapterId.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string path = string.Join('/', segments);
        string id = AdapterIds.IsValid(path) ? await cluster.AdapterKeyAsync(path, "parameters.adapter_id") : string.Join('.', segments);
        if (id == AdapterIds.BaseModel)
            return id;
        if (!AdapterIds.IsValid(id))
            throw new InvalidRequestException($"adapter path {FieldChecks.Quote(p.AdapterId)} does not make a valid adapter id.", "parameters.adapter_id");
        await cluster.Adapter(id).RegisterIfNew(new AdapterRegistration(id, path));
        return id;
    }

    private static void AddTokens(List<LoraxToken> tokens, GenerateChunk chunk)
    {
        for (int i = 0; i < chunk.TokenIds.Count; i++)
            tokens.Add(new LoraxToken(chunk.TokenIds[i], i == chunk.TokenIds.Count - 1 ? chunk.TextDelta : "", null, false));
    }

    private static LoraxDetails Details(GenerateChunk final, LoraxParameters p, GenerateRequest request)
    {
        var usage = final.Usage ?? new GenerateUsage(0, 0, 0);
        string reason = final.FinishReason == GenerateFinishReason.Length ? "length" : request.Stop.Count > 0 ? "stop_sequence" : "eos_token";
        return new LoraxDetails(reason, usage.PromptTokens, usage.CompletionTokens, p.DoSample || request.Temperature > 0 ? usage.Seed : null);
    }
}
