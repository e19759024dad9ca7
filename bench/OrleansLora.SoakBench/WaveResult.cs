using System.Text.Json.Nodes;
using OrleansLora.ClusterBench;

namespace OrleansLora.SoakBench;

/// <summary>A wave's counts by outcome, tokens/s over its whole length, TTFT percentiles, and a sample of what failed.</summary>
internal sealed record WaveResult(int Wave, int Requests, int Completed, int RateLimited, int ServerErrors, int ClientErrors, int Dropped,
    long Tokens, double Seconds, double TtftP50, double TtftP95, IReadOnlyList<string> Failures)
{
    public double TokensPerSecond => Tokens / Seconds;

    public static WaveResult From(int wave, IReadOnlyList<StreamResult> results, TimeSpan elapsed)
    {
        int Count(StreamOutcome o) => results.Count(r => r.Outcome == o);
        var ttft = results.Where(r => r.Outcome == StreamOutcome.Completed && r.TtftMs >= 0).Select(r => r.TtftMs).ToList();
        var failures = results.Where(r => r.Outcome is not (StreamOutcome.Completed or StreamOutcome.RateLimited))
            .GroupBy(r => $"{r.Outcome}: {r.Detail}").OrderByDescending(g => g.Count()).Take(5).Select(g => $"{g.Count()} x {g.Key}").ToList();
        return new WaveResult(wave, results.Count, Count(StreamOutcome.Completed), Count(StreamOutcome.RateLimited), Count(StreamOutcome.ServerError),
            Count(StreamOutcome.ClientError), Count(StreamOutcome.Dropped), results.Sum(r => (long)r.Tokens), elapsed.TotalSeconds,
            ttft.Count > 0 ? Percentiles.Of(ttft, 50) : double.NaN, ttft.Count > 0 ? Percentiles.Of(ttft, 95) : double.NaN, failures);
    }

    /// <summary>The figures of shared/BENCH-FORMAT.md, units in their names.</summary>
    public IEnumerable<KeyValuePair<string, JsonNode?>> Fields(SoakOptions options, int models, long? rssBytes) =>
    [
        new("streams", options.Streams), new("seconds", options.Seconds), new("adapters", models), new("new_tokens", options.MaxTokens),
        new("lorax_share", options.LoraxShare), new("requests", Requests), new("completed", Completed), new("rejected_429", RateLimited),
        new("errors_5xx", ServerErrors), new("errors_4xx", ClientErrors), new("dropped", Dropped),
        new("tokens_per_s", Math.Round(TokensPerSecond, 1)), new("wave_s", Math.Round(Seconds, 1)),
        new("ttft_ms_p50", double.IsNaN(TtftP50) ? null : Math.Round(TtftP50, 1)), new("ttft_ms_p95", double.IsNaN(TtftP95) ? null : Math.Round(TtftP95, 1)),
        new("rss_mb_after", rssBytes is { } b ? Math.Round(b / 1048576.0, 1) : null),
        new("failures", new JsonArray(Failures.Select(f => (JsonNode)JsonValue.Create(f)).ToArray())),
    ];
}
