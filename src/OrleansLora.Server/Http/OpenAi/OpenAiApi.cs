using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Errors;
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
        RefuseN(body.N);
        if (body.Messages is not { Count: > 0 } messages)
            throw new InvalidRequestException("messages is required and must hold at least one message.", "messages");
        var items = new List<ChatMessageItem>(messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role is not ("system" or "user" or "assistant" or "developer"))
                throw new InvalidRequestException($"messages[{i}].role must be system, developer, user or assistant, got \"{messages[i].Role}\".", $"messages[{i}].role");
            if (messages[i].Content is null)
                throw new InvalidRequestException($"messages[{i}].content is required.", $"messages[{i}].content");
            items.Add(new ChatMessageItem(messages[i].Role == "developer" ? "system" : messages[i].Role!, messages[i].Content!));
        }
        if (body.MaxTokens is not null && body.MaxCompletionTokens is not null && body.MaxTokens != body.MaxCompletionTokens)
            throw new InvalidRequestException("give max_completion_tokens or max_tokens, not two different values.", "max_completion_tokens");
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        string model = await ModelName(cluster, key);
        var request = Sampling(new GenerateRequest { Messages = items }, body.MaxCompletionTokens ?? body.MaxTokens, body.Temperature, body.TopP, body.Seed, body.Stop, body.PresencePenalty, body.FrequencyPenalty, options.Value);
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
        RefuseN(body.N);
        if (body.BestOf is > 1)
            throw new InvalidRequestException($"best_of > 1 is not supported, got {body.BestOf}.", "best_of");
        if (body.Prompt is not { Count: 1 } prompts)
            throw new InvalidRequestException("prompt is required: one string (arrays of several prompts are not supported).", "prompt");
        if (body.Echo)
            throw new InvalidRequestException("echo is not supported.", "echo");
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        string model = await ModelName(cluster, key);
        var request = Sampling(new GenerateRequest { Prompt = prompts[0] }, body.MaxTokens, body.Temperature, body.TopP, body.Seed, body.Stop, body.PresencePenalty, body.FrequencyPenalty, options.Value);
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
            var (_, error, _) = ErrorMapping.Map(ex);
            await sse.WriteAsync(new ApiErrorResponse(error), ct);
        }
        await sse.WriteDoneAsync(ct);
    }

    internal static GenerateRequest Sampling(GenerateRequest request, int? maxTokens, float? temperature, float? topP, long? seed, IReadOnlyList<string>? stop,
        float? presencePenalty, float? frequencyPenalty, GatewayOptions options)
    {
        if (stop is { Count: > 4 })
            throw new InvalidRequestException($"stop holds at most 4 sequences, got {stop.Count}.", "stop");
        if (stop is not null && stop.Any(string.IsNullOrEmpty))
            throw new InvalidRequestException("stop sequences must not be empty.", "stop");
        if (temperature is < 0 or > 2)
            throw new InvalidRequestException($"temperature must be in [0, 2], got {temperature}.", "temperature");
        if (topP is <= 0 or > 1)
            throw new InvalidRequestException($"top_p must be in (0, 1], got {topP}.", "top_p");
        if (presencePenalty is < -2 or > 2)
            throw new InvalidRequestException($"presence_penalty must be in [-2, 2], got {presencePenalty}.", "presence_penalty");
        if (frequencyPenalty is < -2 or > 2)
            throw new InvalidRequestException($"frequency_penalty must be in [-2, 2], got {frequencyPenalty}.", "frequency_penalty");
        if (maxTokens is < 1)
            throw new InvalidRequestException($"max_tokens must be >= 1, got {maxTokens}.", "max_tokens");
        return request with
        {
            MaxTokens = maxTokens ?? options.DefaultMaxTokens,
            Temperature = temperature ?? 1f,
            TopP = topP ?? 1f,
            Seed = seed is { } s ? unchecked((ulong)s) : null,
            Stop = stop ?? [],
            PresencePenalty = presencePenalty ?? 0f,
            FrequencyPenalty = frequencyPenalty ?? 0f,
        };
    }

    private static void RefuseN(int? n)
    {
        if (n is not null and not 1)
            throw new InvalidRequestException($"n must be 1 (several choices per request are not supported), got {n}.", "n");
    }

    private static async Task<string> ModelName(ClusterView cluster, string key) =>
        key == AdapterIds.BaseModel ? await cluster.BaseModelNameAsync() : key;

    internal static string FinishReason(GenerateFinishReason reason) => reason == GenerateFinishReason.Length ? "length" : "stop";

    private static Usage ToUsage(GenerateUsage u) => new(u.PromptTokens, u.CompletionTokens, u.PromptTokens + u.CompletionTokens);
}
