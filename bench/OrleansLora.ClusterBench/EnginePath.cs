using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.ClusterBench;

/// <summary>The workload called on an <see cref="InferenceEngine"/> in this process: the baseline the other paths are measured against.</summary>
internal sealed class EnginePath(InferenceEngine engine) : IGenerationPath
{
    public string Name => PathNames.Engine;

    public async Task<RequestResult> RunAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var request = new GenerationRequest
        {
            Prompt = item.Prompt,
            AdapterId = item.AdapterId,
            Sampling = new SamplingParams { Temperature = Workload.Temperature, Seed = Workload.Seed, MaxNewTokens = item.MaxTokens },
        };
        var collector = new StreamCollector(Name, item);
        await foreach (var chunk in engine.GenerateAsync(request, cancellationToken))
        {
            collector.Add(chunk.TextDelta, chunk.TokenIds.Count);
            if (chunk.Usage is { } usage)
                return collector.Finish(usage.CompletionTokens, usage.PromptTokens, chunk.FinishReason!.Value.ToString().ToLowerInvariant());
        }
        throw collector.Incomplete();
    }
}
