using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OrleansLora.Generation;

namespace OrleansLora.Client;

/// <summary>
/// <see cref="IChatClient"/> over the cluster: <see cref="ChatOptions.ModelId"/> names the adapter (empty,
/// or the base model's name, for none); the worker applies the model's chat template.
/// </summary>
public sealed class OrleansLoraChatClient(OrleansLoraClient client, IOptions<OrleansLoraClientOptions> options) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("orleans-lora", defaultModelId: options.Value.BaseModelName);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null, CancellationToken cancellationToken = default)
    {
        var request = ToRequest(messages, chatOptions);
        var result = await client.GenerateAsync(AdapterId(chatOptions), request, cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Text))
        {
            ResponseId = request.RequestId,
            ModelId = chatOptions?.ModelId ?? options.Value.BaseModelName,
            FinishReason = ToFinishReason(result.FinishReason),
            Usage = ToUsage(result.Usage),
            CreatedAt = DateTimeOffset.UtcNow,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? chatOptions = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = ToRequest(messages, chatOptions);
        string? model = chatOptions?.ModelId ?? options.Value.BaseModelName;
        await foreach (var chunk in client.StreamAsync(AdapterId(chatOptions), request, cancellationToken))
        {
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
        var items = new List<ChatMessageItem>();
        foreach (var m in messages)
        {
            var text = new StringBuilder();
            foreach (var content in m.Contents)
            {
                if (content is TextContent t)
                    text.Append(t.Text);
                else
                    throw new NotSupportedException($"message content of type {content.GetType().Name} is not supported; OrleansLora serves text models.");
            }
            items.Add(new ChatMessageItem(m.Role.Value, text.ToString()));
        }
        var request = new GenerateRequest { Messages = items };
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
