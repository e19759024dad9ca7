namespace OrleansLora.ClusterBench;

/// <summary>One way to run a streaming generation of the workload: the engine directly, the Orleans client, or HTTP.</summary>
internal interface IGenerationPath
{
    string Name { get; }

    /// <summary>
    /// Streams <paramref name="item"/> to the end. Time to first token is measured from the call to the first
    /// chunk that carries text, the same definition on every path (HTTP sends no event for an empty delta).
    /// </summary>
    Task<RequestResult> RunAsync(WorkItem item, CancellationToken cancellationToken);
}

/// <summary>What one request produced: the text, generated tokens as the server counted them, and when text first arrived.</summary>
internal sealed record RequestResult(int Index, string Text, int CompletionTokens, int PromptTokens, string FinishReason, double TtftMilliseconds);
