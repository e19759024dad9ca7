using System.Text;
using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Errors;
using OrleansLora.Generation;
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

    private static async Task Generate(HttpContext http, ClusterView cluster, IOptions<GatewayOptions> options)
    {
        var ct = http.RequestAborted;
        var (body, p, key, request) = await Prepare(http, cluster, options.Value, stream: false);
        using var activity = GatewayTelemetry.StartGeneration("lorax.generate", key, stream: false);
        await using var stream = await GenerationStream.StartAsync(cluster.Adapter(key), request, cluster.AcceptTimeout, ct);
        var text = new StringBuilder();
        var tokens = new List<(LoraxToken Token, IReadOnlyList<LoraxToken>? Top)>();
        IReadOnlyList<LoraxPrefillToken>? prefill = null;
        await foreach (var chunk in stream.ReadAllAsync())
        {
            prefill ??= chunk.PromptLogprobs?.Select(t => new LoraxPrefillToken(t.Chosen.TokenId, t.Chosen.Text, JsonLogprob.OrNull(t.Chosen.Logprob))).ToList();
            text.Append(chunk.TextDelta);
            AddTokens(tokens, chunk);
            if (!chunk.IsFinal)
                continue;
            var details = Details(chunk, p, request);
            GatewayTelemetry.Finish(activity, details.PromptTokens, details.GeneratedTokens, details.FinishReason);
            string generated = p.ReturnFullText ? body.Inputs + text : text.ToString();
            var response = new LoraxGenerateResponse(generated)
            {
                Details = p.Details ? details with { Prefill = prefill, Tokens = tokens.Select(t => t.Token).ToList(), TopTokens = p.TopNTokens is > 0 ? tokens.Select(t => t.Top!).ToList() : null } : null,
            };
            await http.Response.WriteAsJsonAsync(response, GatewayJson.Options, ct);
        }
    }

    private static async Task GenerateStream(HttpContext http, ClusterView cluster, IOptions<GatewayOptions> options)
    {
        var ct = http.RequestAborted;
        var (body, p, key, request) = await Prepare(http, cluster, options.Value, stream: true);
        using var activity = GatewayTelemetry.StartGeneration("lorax.generate_stream", key, stream: true);
        await using var stream = await GenerationStream.StartAsync(cluster.Adapter(key), request, cluster.AcceptTimeout, ct);
        var sse = new SseWriter(http);
        sse.Start();
        var text = new StringBuilder();
        LoraxStreamEvent? pending = null; // held back one token so the last one can carry generated_text and details
        try
        {
            await foreach (var chunk in stream.ReadAllAsync())
            {
                text.Append(chunk.TextDelta);
                var tokens = new List<(LoraxToken Token, IReadOnlyList<LoraxToken>? Top)>();
                AddTokens(tokens, chunk);
                foreach (var (token, top) in tokens)
                {
                    if (pending is not null)
                        await sse.WriteAsync(pending, ct);
                    pending = new LoraxStreamEvent(token, null, null) { TopTokens = p.TopNTokens is > 0 ? top : null };
                }
                if (tokens.Count == 0 && chunk.TextDelta.Length > 0 && pending is not null)
                    pending = pending with { Token = pending.Token with { Text = pending.Token.Text + chunk.TextDelta } };
                if (!chunk.IsFinal)
                    continue;
                var details = Details(chunk, p, request);
                GatewayTelemetry.Finish(activity, details.PromptTokens, details.GeneratedTokens, details.FinishReason);
                string generated = p.ReturnFullText ? body.Inputs + text : text.ToString();
                await sse.WriteAsync((pending ?? new LoraxStreamEvent(new LoraxToken(0, "", null, true), null, null)) with { GeneratedText = generated, Details = details }, ct);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await sse.WriteErrorAsync(ex, ct);
        }
    }

    private static async Task<(LoraxGenerateRequest Body, LoraxParameters Parameters, string Key, GenerateRequest Request)> Prepare(
        HttpContext http, ClusterView cluster, GatewayOptions options, bool stream)
    {
        var body = await RequestBody.ReadAsync<LoraxGenerateRequest>(http.Request, http.RequestAborted);
        var p = body.Parameters ?? new LoraxParameters();
        string key = await AdapterKey(cluster, p);
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
            Constraint = StructuredOutput.FromLorax(p.ResponseFormat),
            // TGI's stream carries every token's log-probability; /generate only in details.
            Logprobs = stream || p.Details ? p.TopNTokens ?? 0 : null,
            // As TGI: the prompt's log-probabilities in details.prefill, computed only when they will be shown.
            PromptLogprobs = p.DecoderInputDetails && p.Details ? 0 : null, // refused below for a stream
        };
        if (stream && p.DecoderInputDetails)
            throw new InvalidRequestException("parameters.decoder_input_details is not supported with /generate_stream (as in TGI): use /generate.", "parameters.decoder_input_details");
        GenerateRequestValidator.Validate(request, GenerateFieldNames.Lorax);
        return (body, p, key, request);
    }

    /// <summary>
    /// The adapter grain key: the base model for an empty adapter_id; with adapter_source "local" the id is a
    /// path under the adapter store root (its form checked here, where it leads by the worker that registers it), whose
    /// adapter id is the path itself when that is a valid id, else its segments joined by '.'. The gateway checks
    /// the path's form; where it leads (a symbolic link out of the root) the worker that registers it checks. A local
    /// request only ever adds a registration (<see cref="IAdapterGrain.RegisterIfNew"/>): when its id is
    /// already registered from another path — an admin's load, or a path that makes the same id — it is
    /// refused (409 adapter_conflict), never re-pointed.
    /// </summary>
    private static async Task<string> AdapterKey(ClusterView cluster, LoraxParameters p)
    {
        string source = string.IsNullOrEmpty(p.AdapterSource) ? "hub" : p.AdapterSource; // checked by the request's Validate
        if (string.IsNullOrEmpty(p.AdapterId))
            return AdapterIds.BaseModel;
        if (source == "hub")
            return await cluster.AdapterKeyAsync(p.AdapterId, "parameters.adapter_id");
        if (!AdapterSources.IsWellFormed(p.AdapterId, out var why))
            throw new InvalidRequestException(AdapterSources.Refusal(p.AdapterId, why), "parameters.adapter_id");
        var segments = p.AdapterId.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string path = string.Join('/', segments);
        string id = AdapterIds.IsValid(path) ? await cluster.AdapterKeyAsync(path, "parameters.adapter_id") : string.Join('.', segments);
        if (id == AdapterIds.BaseModel)
            return id;
        if (!AdapterIds.IsValid(id))
            throw new InvalidRequestException($"adapter path {FieldChecks.Quote(p.AdapterId)} does not make a valid adapter id.", "parameters.adapter_id");
        try
        {
            // Registering checks the path on a worker even for a plain name, so a symbolic link out of the root
            // is refused as such (400), not reported as a missing adapter.
            await cluster.Adapter(id).RegisterIfNew(new AdapterRegistration(id, path));
        }
        catch (AdapterSourceRefusedException ex)
        {
            throw new InvalidRequestException(ex.Message, "parameters.adapter_id");
        }
        return id;
    }

    /// <summary>A chunk's tokens with their log-probabilities and most likely alternatives (when computed); the chunk's text goes to its last token.</summary>
    private static void AddTokens(List<(LoraxToken Token, IReadOnlyList<LoraxToken>? Top)> tokens, GenerateChunk chunk)
    {
        for (int i = 0; i < chunk.TokenIds.Count; i++)
        {
            string text = i == chunk.TokenIds.Count - 1 ? chunk.TextDelta : "";
            if (chunk.Logprobs?[i] is not { } l)
            {
                tokens.Add((new LoraxToken(chunk.TokenIds[i], text, null, false), null));
                continue;
            }
            var top = l.Top.Select(t => new LoraxToken(t.TokenId, t.Text, JsonLogprob.Clamp(t.Logprob), t.Special)).ToArray();
            tokens.Add((new LoraxToken(chunk.TokenIds[i], text, JsonLogprob.Clamp(l.Chosen.Logprob), l.Chosen.Special), top));
        }
    }

    private static LoraxDetails Details(GenerateChunk final, LoraxParameters p, GenerateRequest request)
    {
        var usage = final.Usage ?? new GenerateUsage(0, 0, 0);
        string reason = final.FinishReason switch
        {
            GenerateFinishReason.Length => "length",
            GenerateFinishReason.StopSequence => "stop_sequence",
            _ => "eos_token",
        };
        return new LoraxDetails(reason, usage.PromptTokens, usage.CompletionTokens, p.DoSample || request.Temperature > 0 ? usage.Seed : null);
    }
}
