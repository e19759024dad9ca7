using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OrleansLora.Generation;

namespace OrleansLora.Client;

/// <summary>
/// <see cref="IChatClient"/> over the cluster: <see cref="ChatOptions.ModelId"/> names the adapter (empty,
/// or the base model's name, for none); the worker applies the model's chat template. Tools, tool modes and
/// JSON response formats map to grammar-constrained decoding and tool calls as on the HTTP gateway.
/// </summary>
public sealed class OrleansLoraChatClient(OrleansLoraClient client, IOptions<OrleansLoraClientOptions> options) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("orleans-lora", defaultModelId: options.Value.BaseModelName);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null, CancellationToken cancellationToken = default)
    {
        var request = ToRequest(messages, chatOptions);
        var (mode, function) = ChatToolMapping.Choice(chatOptions, request.Tools);
        var result = await client.GenerateAsync(AdapterId(chatOptions), request, cancellationToken);
        var (contents, hasCalls) = ChatToolMapping.Contents(result.Text, mode, function, request.Tools is not null);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents))
        {
            ResponseId = request.RequestId,
            ModelId = chatOptions?.ModelId ?? options.Value.BaseModelName,
            FinishReason = hasCalls && result.FinishReason != GenerateFinishReason.Length ? ChatFinishReason.ToolCalls : ToFinishReason(result.FinishReason),
            Usage = ToUsage(result.Usage),
            CreatedAt = DateTimeOffset.UtcNow,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = ToRequest(messages, chatOptions);
        string? model = chatOptions?.ModelId ?? options.Value.BaseModelName;
        var (mode, function) = ChatToolMapping.Choice(chatOptions, request.Tools);
        bool toolsInPlay = request.Tools is not null && mode != ToolChoiceMode.None;
        var held = new StringBuilder(); // with tools the text is held: a call is only known once it parses
        await foreach (var chunk in client.StreamAsync(AdapterId(chatOptions), request, cancellationToken))
        {
            if (toolsInPlay)
            {
                held.Append(chunk.TextDelta);
                if (!chunk.IsFinal)
                    continue;
                var (contents, hasCalls) = ChatToolMapping.Contents(held.ToString(), mode, function, toolsInPlay: true);
                var last = new ChatResponseUpdate(ChatRole.Assistant, contents)
                {
                    ResponseId = request.RequestId,
                    MessageId = request.RequestId,
                    ModelId = model,
                    FinishReason = hasCalls && chunk.FinishReason != GenerateFinishReason.Length ? ChatFinishReason.ToolCalls : ToFinishReason(chunk.FinishReason!.Value),
                };
                last.Contents.Add(new UsageContent(ToUsage(chunk.Usage!)));
                yield return last;
                continue;
            }
            var update = new ChatResponseUpdate(ChatRole.Assistant, chunk.TextDelta)
            {
                ResponseId = request.RequestId,
                MessageId = request.RequestId,
                ModelId = model,
            };
            if (chunk.IsFinal)
            {
                update.FinishReason = ToFinishReason(chunk.FinishReason!.Value);
                update.Contents.Add(new UsageContent(ToUsage(chunk.Usage!)));
            }
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : serviceType.IsInstanceOfType(client) ? client
        : null;

    public void Dispose()
    {
    }

    private string? AdapterId(ChatOptions? chatOptions)
    {
        string? model = chatOptions?.ModelId;
        return string.IsNullOrEmpty(model) || model == options.Value.BaseModelName ? null : model;
    }

    private static GenerateRequest ToRequest(IEnumerable<ChatMessage> messages, ChatOptions? o)
    {
        var items = messages.Select(ChatToolMapping.Item).ToList();
        string? tools = ChatToolMapping.Tools(o);
        var (mode, function) = ChatToolMapping.Choice(o, tools);
        var request = new GenerateRequest { Messages = items, Tools = tools, Constraint = ChatToolMapping.Constraint(o, tools, mode, function) };
        if (o is null)
            return request;
        return request with
        {
            MaxTokens = o.MaxOutputTokens ?? request.MaxTokens,
            Temperature = o.Temperature ?? request.Temperature,
            TopP = o.TopP ?? request.TopP,
            TopK = o.TopK ?? request.TopK,
            PresencePenalty = o.PresencePenalty ?? 0,
            FrequencyPenalty = o.FrequencyPenalty ?? 0,
            Seed = o.Seed is { } seed ? unchecked((ulong)seed) : null,
            Stop = o.StopSequences?.ToArray() ?? [],
        };
    }

    private static ChatFinishReason ToFinishReason(GenerateFinishReason reason) =>
        reason == GenerateFinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails ToUsage(GenerateUsage usage) => new()
    {
        InputTokenCount = usage.PromptTokens,
        OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.PromptTokens + usage.CompletionTokens,
    };
}
