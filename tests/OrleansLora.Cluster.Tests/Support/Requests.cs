using OrleansLora.Generation;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>Requests the cluster tests send.</summary>
internal static class Requests
{
    /// <summary>Greedy, exactly <paramref name="maxTokens"/> tokens (EOS ignored): output comparable token for token.</summary>
    public static GenerateRequest Greedy(string prompt, int maxTokens) => new()
    {
        Prompt = prompt,
        MaxTokens = maxTokens,
        Temperature = 0,
        IgnoreEos = true,
    };
}
