using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Generation;
using OrleansLora.Grains;
using OrleansLora.Server.Configuration;
using OrleansLora.Server.Http.Sse;
using OrleansLora.Server.Observability;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>OpenAI's chat completions, completions and models endpoints over adapter grains.</summary>
public static class OpenAiApi
{
    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("OpenAI");
        v1.MapPost("/chat/completions", ChatCompletions)
            .WithMetadata(ParamNames.Chat)
            .Accepts<ChatCompletionRequest>("application/json", "*/*")
            .Produces<ChatCompletion>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<ApiErrorResponse>(StatusCodes.Status400BadRequest);
        v1.MapPost("/completions", Completions)
            .WithMetadata(ParamNames.Completions)
            .Accepts<CompletionRequest>("application/json", "*/*")
            .Produces<Completion>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<ApiErrorResponse>(StatusCodes.Status400BadRequest);
        v1.MapGet("/models", Models).Produces<ModelList>();
        return app;
    }

    private static async Task ChatCompletions(HttpContext http, ClusterView cluster, IOptions<GatewayOptions> options)
    {
        var ct = http.RequestAborted;
        var body = await RequestBody.ReadAsync<ChatCompletionRequest>(http.Request, ct);
        var items = body.Messages!.Select(m => new ChatMessageItem(m!.Role == "developer" ? "system" : m.Role!, m.Content!)).ToList();
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        string model = await ModelName(cluster, key);
        var request = Sampling(new GenerateRequest { Messages = items }, body, body.MaxCompletionTokens ?? body.MaxTokens, options.Value);
        using var activity = GatewayTelemetry.StartGeneration("openai.chat", key, body.Stream);
        await using var stream = await GenerationStream.StartAsync(cluster.Adapter(key), request, ct);
        string id = $"chatcmpl-{request.RequestId}";
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (!body.Stream)
        {
            var (text, _, finish, usage) = await stream.ReadToEndAsync();
            GatewayTelemetry.Finish(activity, usage.PromptTokens, usage.CompletionTokens, FinishReason(finish));
            var message = new ChatMessageDto { Role = "assistant", Content = text };
            await http.Response.WriteAsJsonAsync(new ChatCompletion(id, created, model, [new ChatChoice(0, message, FinishReason(finish))], ToUsage(usage)), GatewayJson.Options, ct);
            return;
        }
        var sse = new SseWriter(http);
        sse.Start();
        await sse.WriteAsync(new ChatCompletionChunk(id, created, model, [new ChatChunkChoice(0, new ChatDelta { Role = "assistant", Content = "" }, null)]), ct);
        await Streamed(sse, stream, activity, ct,
            delta => new ChatCompletionChunk(id, created, model, [new ChatChunkChoice(0, new ChatDelta { Content = delta }, null)]),
            finish => new ChatCompletionChunk(id, created, model, [new ChatChunkChoice(0, new ChatDelta(), finish)]),
            usage => body.StreamOptions?.IncludeUsage == true ? new ChatCompletionChunk(id, created, model, []) { Usage = usage } : null);
    }

    private static async Task Completions(HttpContext http, ClusterView cluster, IOptions<GatewayOptions> options)
    {
        var ct = http.RequestAborted;
        var body = await RequestBody.ReadAsync<CompletionRequest>(http.Request, ct);
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        string model = await ModelName(cluster, key);
        var request = Sampling(new GenerateRequest { Prompt = body.Prompt![0] }, body, body.MaxTokens, options.Value);
        using var activity = GatewayTelemetry.StartGeneration("openai.completions", key, body.Stream);
        await using var stream = await GenerationStream.StartAsync(cluster.Adapter(key), request, ct);
        string id = $"cmpl-{request.RequestId}";
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (!body.Stream)
        {
            var (text, _, finish, usage) = await stream.ReadToEndAsync();
            GatewayTelemetry.Finish(activity, usage.PromptTokens, usage.CompletionTokens, FinishReason(finish));
            await http.Response.WriteAsJsonAsync(new Completion(id, created, model, [new CompletionChoice(0, text, FinishReason(finish))]) { Usage = ToUsage(usage) }, GatewayJson.Options, ct);
            return;
        }
        var sse = new SseWriter(http);
        sse.Start();
        await Streamed(sse, stream, activity, ct,
            delta => new Completion(id, created, model, [new CompletionChoice(0, delta, null)]),
            finish => new Completion(id, created, model, [new CompletionChoice(0, "", finish)]),
            usage => body.StreamOptions?.IncludeUsage == true ? new Completion(id, created, model, []) { Usage = usage } : null);
    }

    private static async Task<ModelList> Models(ClusterView cluster, IGrainFactory grains)
    {
        string baseName = await cluster.BaseModelNameAsync();
        var adapters = await grains.GetGrain<IAdapterCatalogGrain>(0).List();
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var cards = new List<ModelCard> { new(baseName, created, "orleans-lora", baseName, null) };
        cards.AddRange(adapters.OrderBy(a => a.AdapterId, StringComparer.Ordinal).Select(a => new ModelCard(a.AdapterId, created, "orleans-lora", a.Source ?? a.AdapterId, baseName)));
        return new ModelList(cards);
    }

    /// <summary>Writes the text chunks, the finish chunk, the usage chunk when asked, then [DONE]; an error after the first event becomes an error event.</summary>
    private static async Task Streamed<T>(SseWriter sse, GenerationStream stream, System.Diagnostics.Activity? activity, CancellationToken ct,
        Func<string, T> content, Func<string, T> finish, Func<Usage, T?> usageChunk)
        where T : class
    {
        try
        {
            await foreach (var chunk in stream.ReadAllAsync())
            {
                if (chunk.TextDelta.Length > 0)
                    await sse.WriteAsync(content(chunk.TextDelta), ct);
                if (chunk.IsFinal)
                {
                    string reason = FinishReason(chunk.FinishReason!.Value);
                    await sse.WriteAsync(finish(reason), ct);
                    var usage = chunk.Usage ?? new GenerateUsage(0, 0, 0);
                    GatewayTelemetry.Finish(activity, usage.PromptTokens, usage.CompletionTokens, reason);
                    if (usageChunk(ToUsage(usage)) is { } u)
                        await sse.WriteAsync(u, ct);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await sse.WriteErrorAsync(ex, ct);
        }
        await sse.WriteDoneAsync(ct);
    }

    /// <summary>The engine request's sampling fields from a validated body (<see cref="OpenAiSamplingRequest.Validate"/>).</summary>
    internal static GenerateRequest Sampling(GenerateRequest request, OpenAiSamplingRequest body, int? maxTokens, GatewayOptions options) =>
        request with
        {
            MaxTokens = maxTokens ?? options.DefaultMaxTokens,
            Temperature = body.Temperature ?? 1f,
            TopP = body.TopP ?? 1f,
            TopK = body.TopK is > 0 ? body.TopK.Value : 0, // vLLM spells "off" -1; the engine 0
            RepetitionPenalty = body.RepetitionPenalty ?? 1f,
            Seed = body.Seed is { } s ? unchecked((ulong)s) : null,
            Stop = body.Stop ?? [],
            PresencePenalty = body.PresencePenalty ?? 0f,
            FrequencyPenalty = body.FrequencyPenalty ?? 0f,
            IgnoreEos = body.IgnoreEos ?? false,
        };

    private static async Task<string> ModelName(ClusterView cluster, string key) =>
        key == AdapterIds.BaseModel ? await cluster.BaseModelNameAsync() : key;

    internal static string FinishReason(GenerateFinishReason reason) => reason == GenerateFinishReason.Length ? "length" : "stop";

    private static Usage ToUsage(GenerateUsage u) => new(u.PromptTokens, u.CompletionTokens, u.PromptTokens + u.CompletionTokens);
}
