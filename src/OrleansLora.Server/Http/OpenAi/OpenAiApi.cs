using System.Text.Json;
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
        RefuseUnsupported(body);
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
        if (body.Logprobs == true || body.TopLogprobs is > 0)
            throw new InvalidRequestException("logprobs is not supported: the engine returns no log-probabilities.", body.Logprobs == true ? "logprobs" : "top_logprobs");
        if (IsSet(body.Tools) || IsSet(body.Functions))
            throw new InvalidRequestException("tool and function calling is not supported.", IsSet(body.Tools) ? "tools" : "functions");
        if (body.ResponseFormat is { ValueKind: JsonValueKind.Object } format && !(format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"))
            throw new InvalidRequestException("response_format other than {\"type\": \"text\"} is not supported: no constrained decoding.", "response_format");
        if (body.MaxTokens is not null && body.MaxCompletionTokens is not null && body.MaxTokens != body.MaxCompletionTokens)
            throw new InvalidRequestException("give max_completion_tokens or max_tokens, not two different values.", "max_completion_tokens");
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
        RefuseUnsupported(body);
        if (body.BestOf is > 1)
            throw new InvalidRequestException($"best_of > 1 is not supported, got {body.BestOf}.", "best_of");
        if (body.Prompt is not { Count: 1 } prompts)
            throw new InvalidRequestException("prompt is required: one string (arrays of several prompts are not supported).", "prompt");
        if (body.Echo)
            throw new InvalidRequestException("echo is not supported.", "echo");
        if (body.Logprobs is > 0)
            throw new InvalidRequestException("logprobs is not supported: the engine returns no log-probabilities.", "logprobs");
        if (!string.IsNullOrEmpty(body.Suffix))
            throw new InvalidRequestException("suffix is not supported.", "suffix");
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        string model = await ModelName(cluster, key);
        var request = Sampling(new GenerateRequest { Prompt = prompts[0] }, body, body.MaxTokens, options.Value);
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

    internal static GenerateRequest Sampling(GenerateRequest request, OpenAiSamplingRequest body, int? maxTokens, GatewayOptions options)
    {
        if (body.Stop is { Count: > 4 })
            throw new InvalidRequestException($"stop holds at most 4 sequences, got {body.Stop.Count}.", "stop");
        if (body.Stop is not null && body.Stop.Any(string.IsNullOrEmpty))
            throw new InvalidRequestException("stop sequences must not be empty.", "stop");
        if (body.Temperature is < 0 or > 2)
            throw new InvalidRequestException($"temperature must be in [0, 2], got {body.Temperature}.", "temperature");
        if (body.TopP is <= 0 or > 1)
            throw new InvalidRequestException($"top_p must be in (0, 1], got {body.TopP}.", "top_p");
        if (body.TopK is < -1)
            throw new InvalidRequestException($"top_k must be -1 or 0 (off) or positive, got {body.TopK}.", "top_k");
        if (body.RepetitionPenalty is <= 0)
            throw new InvalidRequestException($"repetition_penalty must be > 0, got {body.RepetitionPenalty}.", "repetition_penalty");
        if (body.PresencePenalty is < -2 or > 2)
            throw new InvalidRequestException($"presence_penalty must be in [-2, 2], got {body.PresencePenalty}.", "presence_penalty");
        if (body.FrequencyPenalty is < -2 or > 2)
            throw new InvalidRequestException($"frequency_penalty must be in [-2, 2], got {body.FrequencyPenalty}.", "frequency_penalty");
        if (maxTokens is < 1)
            throw new InvalidRequestException($"max_tokens must be >= 1, got {maxTokens}.", "max_tokens");
        return request with
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
    }

    /// <summary>Refuses what neither endpoint supports: several choices and logit biases.</summary>
    private static void RefuseUnsupported(OpenAiSamplingRequest body)
    {
        if (body.N is not null and not 1)
            throw new InvalidRequestException($"n must be 1 (several choices per request are not supported), got {body.N}.", "n");
        if (IsSet(body.LogitBias))
            throw new InvalidRequestException("logit_bias is not supported.", "logit_bias");
    }

    /// <summary>Whether an optional JSON field holds something: not absent, null, an empty array or an empty object.</summary>
    private static bool IsSet(JsonElement? element) => element is { } e && e.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => false,
        JsonValueKind.Array => e.GetArrayLength() > 0,
        JsonValueKind.Object => e.EnumerateObject().Any(),
        _ => true,
    };

    private static async Task<string> ModelName(ClusterView cluster, string key) =>
        key == AdapterIds.BaseModel ? await cluster.BaseModelNameAsync() : key;

    internal static string FinishReason(GenerateFinishReason reason) => reason == GenerateFinishReason.Length ? "length" : "stop";

    private static Usage ToUsage(GenerateUsage u) => new(u.PromptTokens, u.CompletionTokens, u.PromptTokens + u.CompletionTokens);
}
