using OrleansLora.Client;
using OrleansLora.Generation;

namespace OrleansLora.ClusterBench;

/// <summary>The workload through <see cref="OrleansLoraClient.StreamAsync"/>: client → silo gateway → adapter grain → the silo's engine.</summary>
internal sealed class OrleansPath(OrleansLoraClient client) : IGenerationPath
{
    public string Name => PathNames.Orleans;

    public async Task<RequestResult> RunAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var request = new GenerateRequest
        {
            Prompt = item.Prompt,
            MaxTokens = item.MaxTokens,
            Temperature = Workload.Temperature,
            Seed = Workload.Seed,
        };
        var collector = new StreamCollector(Name, item);
        await foreach (var chunk in client.StreamAsync(item.AdapterId, request, cancellationToken))
        {
            collector.Add(chunk.TextDelta, chunk.TokenIds.Count);
            if (chunk.Usage is { } usage)
                return collector.Finish(usage.CompletionTokens, usage.PromptTokens, chunk.FinishReason!.Value.ToString().ToLowerInvariant());
        }
        throw collector.Incomplete();
    }
}
