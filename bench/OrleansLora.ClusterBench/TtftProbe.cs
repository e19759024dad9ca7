namespace OrleansLora.ClusterBench;

/// <summary>
/// Time to first token with no batch in the way: single one-token requests, one at a time, paths interleaved.
/// At 32 concurrent requests TTFT is seconds of prefill queueing, which hides what a path adds; here the
/// engine's share is one short prefill, so the milliseconds a path adds (grain calls, HTTP) stand out.
/// </summary>
internal static class TtftProbe
{
    public static async Task<Dictionary<string, List<double>>> RunAsync(IReadOnlyDictionary<string, IGenerationPath> paths, IReadOnlyList<string> order, IReadOnlyList<WorkItem> items, int probes, CancellationToken cancellationToken)
    {
        var ttfts = order.ToDictionary(n => n, _ => new List<double>());
        for (int k = 0; k < probes; k++)
        {
            foreach (string name in order)
            {
                var item = items[k % items.Count] with { MaxTokens = 1 };
                var r = await paths[name].RunAsync(item, cancellationToken);
                if (r.CompletionTokens != 1 || r.TtftMilliseconds < 0)
                    throw new InvalidOperationException($"{name} probe {k}: {r.CompletionTokens} tokens, ttft {r.TtftMilliseconds}; expected one token with text.");
                ttfts[name].Add(r.TtftMilliseconds);
            }
        }
        return ttfts;
    }
}
