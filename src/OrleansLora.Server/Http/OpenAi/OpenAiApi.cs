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
        var items = body.Messages!.Select(m => ToItem(m!)).ToList();
        var (mode, function) = body.ToolChoiceOf();
        string? tools = FieldChecks.IsSet(body.Tools) ? body.Tools!.Value.GetRawText() : null;
        var constraint = ChatConstraint(body, tools, mode, function);
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        string model = await ModelName(cluster, key);
        var request = Sampling(new GenerateRequest { Messages = items, Tools = tools, Constraint = constraint }, body, body.MaxCompletionTokens ?? body.MaxTokens, options.Value);
        using var activity = GatewayTelemetry.StartGeneration("openai.chat", key, body.Stream);
        await using var streams = await GenerationStreams.StartAsync(cluster.Adapter(key), Samples(request, body.N ?? 1), cluster.AcceptTimeout, ct);
        string id = $"chatcmpl-{request.RequestId}";
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        bool parseTools = tools is not null && mode != ToolChoiceMode.None;
        bool logprobs = request.Logprobs is not null;
        if (!body.Stream)
        {
            var results = await streams.ReadToEndAsync();
            var choices = results.Select((r, i) =>
            {
                var (message, reason) = Answer(r.Text, FinishReason(r.FinishReason), parseTools, mode, function);
                return new ChatChoice(i, message, reason) { Logprobs = logprobs ? OpenAiLogprobs.Chat(r.Logprobs) : null };
            }).ToList();
            var usage = SumUsage(results);
            GatewayTelemetry.Finish(activity, usage.PromptTokens, usage.CompletionTokens, choices[0].FinishReason ?? "stop");
            await http.Response.WriteAsJsonAsync(new ChatCompletion(id, created, model, choices, usage), GatewayJson.Options, ct);
            return;
        }
        var sse = new SseWriter(http);
        sse.Start();
        for (int i = 0; i < streams.Count; i++)
            await sse.WriteAsync(new ChatCompletionChunk(id, created, model, [new ChatChunkChoice(i, new ChatDelta { Role = "assistant", Content = "" }, null)]), ct);
        ChatCompletionChunk Delta(int index, ChatDelta delta, IReadOnlyList<GeneratedLogprobs>? tokens, string? finish = null) =>
            new(id, created, model, [new ChatChunkChoice(index, delta, finish) { Logprobs = tokens is null ? null : OpenAiLogprobs.Chat(tokens) }]);
        await OpenAiStreaming.WriteAsync(sse, streams, activity, logprobs, ct,
            (index, delta, tokens) => Delta(index, new ChatDelta { Content = delta }, tokens),
            (index, finish, tokens) => Delta(index, new ChatDelta(), tokens, finish),
            usage => body.StreamOptions?.IncludeUsage == true ? new ChatCompletionChunk(id, created, model, []) { Usage = usage } : null,
            // With tools the text is held to the end: a call is only known to be one once it parses. Then the
            // content (if any) and delta.tool_calls with whole arguments.
            !parseTools ? null : (index, text, reason) =>
            {
                var (message, finalReason) = Answer(text, reason, parseTools: true, mode, function);
                var chunks = new List<ChatCompletionChunk>();
                if (!string.IsNullOrEmpty(message.Content))
                    chunks.Add(Delta(index, new ChatDelta { Content = message.Content }, null));
                if (message.ToolCalls is { } calls)
                    chunks.Add(Delta(index, new ChatDelta { ToolCalls = calls.Select((c, i) => c with { Index = i }).ToList() }, null));
                return (chunks, finalReason);
            });
    }

    internal static ChatMessageItem ToItem(ChatMessageDto m) => new(m.Role == "developer" ? "system" : m.Role!, m.Content ?? "")
    {
        ToolCalls = m.ToolCalls?.Select(c => new ToolCallItem(c.Id ?? ToolCalling.NewCallId(), c.Function!.Name!, c.Function.Arguments ?? "{}")).ToList(),
        ToolCallId = m.ToolCallId,
        Name = m.Name,
    };

    /// <summary>The grammar of a chat request: a required or named tool call, else response_format or vLLM's guided_*.</summary>
    private static OutputConstraint? ChatConstraint(ChatCompletionRequest body, string? tools, ToolChoiceMode mode, string? function)
    {
        var format = StructuredOutput.FromOpenAi(body.ResponseFormat) ?? StructuredOutput.FromGuided(body.GuidedJson, body.GuidedRegex, body.GuidedChoice);
        if (tools is null || mode is ToolChoiceMode.None or ToolChoiceMode.Auto)
            return format;
        if (format is not null)
            throw new InvalidRequestException("response_format (or guided_*) cannot be combined with a required or named tool_choice, which already fixes the output.", "response_format");
        return StructuredOutput.Checked(ToolCalling.Constraint(tools, mode, function)!, "tools");
    }

    /// <summary>The answer message: tool calls parsed from the text when tools are in play, else the text.</summary>
    private static (ChatMessageDto Message, string Reason) Answer(string text, string reason, bool parseTools, ToolChoiceMode mode, string? function)
    {
        if (parseTools && ToolCalling.Parse(text, mode, function) is { ToolCalls.Count: > 0 } parsed)
        {
            var calls = parsed.ToolCalls.Select(c => new ToolCallDto { Id = c.Id, Function = new FunctionCallDto(c.Name, c.Arguments) }).ToList();
            return (new ChatMessageDto { Role = "assistant", Content = parsed.Content, ToolCalls = calls }, reason == "length" ? reason : "tool_calls");
        }
        return (new ChatMessageDto { Role = "assistant", Content = text }, reason);
    }

    private static async Task Completions(HttpContext http, ClusterView cluster, IOptions<GatewayOptions> options)
    {
        var ct = http.RequestAborted;
        var body = await RequestBody.ReadAsync<CompletionRequest>(http.Request, ct);
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        string model = await ModelName(cluster, key);
        var constraint = StructuredOutput.FromOpenAi(body.ResponseFormat) ?? StructuredOutput.FromGuided(body.GuidedJson, body.GuidedRegex, body.GuidedChoice);
        var request = Sampling(new GenerateRequest { Prompt = body.Prompt![0], Constraint = constraint }, body, body.MaxTokens, options.Value);
        int n = body.N ?? 1, bestOf = body.BestOf ?? n;
        bool logprobs = request.Logprobs is not null;
        // best_of ranks the candidates by their tokens' mean log-probability, so they are computed even when not returned.
        var generate = bestOf > n && !logprobs ? request with { Logprobs = 0 } : request;
        // echo with logprobs: the prompt's tokens and log-probabilities first, as vLLM does. Each sample computes its own
        // (a request that wants them runs every prompt position, so the samples do not share the prefill).
        if (body.Echo && logprobs)
            generate = generate with { PromptLogprobs = request.Logprobs };
        using var activity = GatewayTelemetry.StartGeneration("openai.completions", key, body.Stream);
        await using var streams = await GenerationStreams.StartAsync(cluster.Adapter(key), Samples(generate, bestOf), cluster.AcceptTimeout, ct);
        string id = $"cmpl-{request.RequestId}";
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string echo = body.Echo ? body.Prompt[0] : "";
        if (!body.Stream)
        {
            var results = await streams.ReadToEndAsync();
            var best = bestOf > n ? Best(results, n) : results;
            var choices = best.Select((r, i) =>
            {
                int offset = 0;
                var tokens = r.PromptLogprobs is { } prompt ? [.. prompt, .. r.Logprobs] : r.Logprobs;
                return new CompletionChoice(i, echo + r.Text, FinishReason(r.FinishReason)) { Logprobs = logprobs ? OpenAiLogprobs.Completion(tokens, ref offset) : null };
            }).ToList();
            var usage = SumUsage(results); // every candidate was generated, as OpenAI counts them
            GatewayTelemetry.Finish(activity, usage.PromptTokens, usage.CompletionTokens, choices[0].FinishReason ?? "stop");
            await http.Response.WriteAsJsonAsync(new Completion(id, created, model, choices) { Usage = usage }, GatewayJson.Options, ct);
            return;
        }
        var sse = new SseWriter(http);
        sse.Start();
        if (echo.Length > 0 && !logprobs)
        {
            // As vLLM streams an echo: the prompt first, one chunk per choice (with logprobs: when its log-probabilities come).
            for (int i = 0; i < streams.Count; i++)
                await sse.WriteAsync(new Completion(id, created, model, [new CompletionChoice(i, echo, null)]), ct);
        }
        var offsets = new int[streams.Count]; // each choice's text length so far: text_offset continues across chunks
        CompletionLogprobs? Logprobs(int index, IReadOnlyList<GeneratedLogprobs>? tokens) =>
            tokens is null ? null : OpenAiLogprobs.Completion(tokens, ref offsets[index]);
        await OpenAiStreaming.WriteAsync(sse, streams, activity, logprobs, ct,
            (index, delta, tokens) => new Completion(id, created, model, [new CompletionChoice(index, delta, null) { Logprobs = Logprobs(index, tokens) }]),
            (index, finish, tokens) => new Completion(id, created, model, [new CompletionChoice(index, "", finish) { Logprobs = Logprobs(index, tokens) }]),
            usage => body.StreamOptions?.IncludeUsage == true ? new Completion(id, created, model, []) { Usage = usage } : null,
            prompt: echo.Length > 0 && logprobs
                ? (index, tokens) => new Completion(id, created, model, [new CompletionChoice(index, echo, null) { Logprobs = Logprobs(index, tokens) }])
                : null);
    }

    /// <summary>best_of: the <paramref name="n"/> candidates with the highest mean token log-probability (OpenAI's "best"), best first.</summary>
    private static GenerationResult[] Best(GenerationResult[] candidates, int n) =>
        candidates.Select((r, i) => (r, i)).OrderByDescending(c => c.r.MeanLogprob).ThenBy(c => c.i).Take(n).Select(c => c.r).ToArray();

    /// <summary>
    /// The requests of <paramref name="count"/> samples of one prompt: sample i seeded with seed + i (a seeded request stays
    /// reproducible, and its samples differ), each its own engine sequence, all in one prefix group so the engine
    /// prefills the prompt once and copies its keys and values to the others.
    /// </summary>
    internal static GenerateRequest[] Samples(GenerateRequest request, int count) =>
        count == 1 ? [request] : Enumerable.Range(0, count).Select(i => request with
        {
            RequestId = $"{request.RequestId}-{i}",
            Seed = request.Seed is { } seed ? unchecked(seed + (ulong)i) : null,
            PrefixGroup = request.RequestId,
        }).ToArray();

    /// <summary>OpenAI's usage of several samples: the prompt once, the completions summed.</summary>
    private static Usage SumUsage(IReadOnlyList<GenerationResult> results)
    {
        int prompt = results[0].Usage.PromptTokens, completion = results.Sum(r => r.Usage.CompletionTokens);
        return new Usage(prompt, completion, prompt + completion);
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

    /// <summary>The engine request's sampling fields from a validated body (<see cref="OpenAiSamplingRequest.Validate"/>).</summary>
    /// <summary>The body's sampling fields on <paramref name="request"/>, checked by the validator every API shares.</summary>
    internal static GenerateRequest Sampling(GenerateRequest request, OpenAiSamplingRequest body, int? maxTokens, GatewayOptions options)
    {
        var mapped = request with
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
            Logprobs = body.LogprobCount(),
        };
        GenerateRequestValidator.Validate(mapped, GenerateFieldNames.OpenAi);
        return mapped;
    }

    private static async Task<string> ModelName(ClusterView cluster, string key) =>
        key == AdapterIds.BaseModel ? await cluster.BaseModelNameAsync() : key;

    internal static string FinishReason(GenerateFinishReason reason) => reason == GenerateFinishReason.Length ? "length" : "stop";

}
