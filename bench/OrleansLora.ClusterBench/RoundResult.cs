using System.Diagnostics;

namespace OrleansLora.ClusterBench;

/// <summary>One round of a path: every request of the workload in flight at once, timed from the first submission to the last token.</summary>
internal sealed record RoundResult(string Path, double WallSeconds, IReadOnlyList<RequestResult> Requests)
{
    /// <summary>Processor seconds this process (the engine path's engine, or the client) used during the round.</summary>
    public double BenchCpuSeconds { get; init; }

    /// <summary>Processor seconds the server process used during the round.</summary>
    public double ServerCpuSeconds { get; init; }

    public int GeneratedTokens => Requests.Sum(r => r.CompletionTokens);
    public double TokensPerSecond => GeneratedTokens / WallSeconds;

    public static async Task<RoundResult> RunAsync(IGenerationPath path, IReadOnlyList<WorkItem> items, CpuMeter cpu, CancellationToken cancellationToken)
    {
        var (bench0, server0) = cpu.Sample();
        long start = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(items.Select(item => path.RunAsync(item, cancellationToken)));
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (bench1, server1) = cpu.Sample();
        return new RoundResult(path.Name, wall, results) { BenchCpuSeconds = bench1 - bench0, ServerCpuSeconds = server1 - server0 };
    }

    /// <summary>Requests that did not produce the full token count (their prompt's greedy continuation ended early).</summary>
    public IEnumerable<RequestResult> ShortRequests(int newTokens) => Requests.Where(r => r.CompletionTokens != newTokens || r.FinishReason != "length");

    /// <summary>Fails loudly unless every request generated exactly the expected tokens from the expected prompt length and streamed text.</summary>
    public void Verify(int promptTokens, int newTokens)
    {
        foreach (var r in Requests)
        {
            if (r.CompletionTokens != newTokens || r.FinishReason != "length")
                throw new InvalidOperationException($"{Path} request {r.Index}: {r.CompletionTokens} tokens ({r.FinishReason}); every request must generate {newTokens} (length).");
            if (r.PromptTokens != promptTokens)
                throw new InvalidOperationException($"{Path} request {r.Index}: prompt of {r.PromptTokens} tokens, expected {promptTokens}.");
            if (r.TtftMilliseconds < 0)
                throw new InvalidOperationException($"{Path} request {r.Index}: no chunk carried text.");
        }
    }
}
