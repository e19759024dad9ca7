using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OrleansLora.ClusterBench;

namespace OrleansLora.SoakBench;

/// <summary>
/// Issue 12 item 10 measured: long prompts on one adapter, all at once (half of them past the server's character
/// bound, half just inside it, so they are tokenized and refused for their token count), while short requests on the
/// same adapter run one after another. Reports their answers, the short requests' latency, and the server's RSS
/// before, at its peak (sampled every 50 ms) and after.
/// </summary>
internal static partial class LongPrompts
{
    public static async Task<IEnumerable<KeyValuePair<string, JsonNode?>>> RunAsync(HttpClient http, string model, int count, int? pid, CancellationToken ct)
    {
        long bound = await CharBoundAsync(http, model, ct);
        long? before = ServerRss.Bytes(pid);
        long peak = before ?? 0;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ServerRss.Bytes(pid) ?? 0);
                await Task.Delay(50, CancellationToken.None);
            }
        }, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        var longOnes = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            // Over the bound: a 7 MB prompt (under the default 8 MiB body limit); inside it: distinct words.
            string prompt = i % 2 == 0 ? new string('a', 7_000_000) : Words((int)bound, seed: i);
            var start = Stopwatch.GetTimestamp();
            using var response = await http.PostAsJsonAsync("v1/completions", new { model, prompt, max_tokens = 2 }, ct);
            return ((int)response.StatusCode, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }, ct)).ToList();
        var shortLatencies = new List<double>();
        while (longOnes.Any(t => !t.IsCompleted))
        {
            var start = Stopwatch.GetTimestamp();
            using var response = await http.PostAsJsonAsync("v1/completions", new { model, prompt = "Hello", max_tokens = 2 }, ct);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"a short request during the long prompts: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            shortLatencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        var results = await Task.WhenAll(longOnes);
        double elapsed = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        await Task.Delay(TimeSpan.FromSeconds(5), ct); // let the collector return what the tokenizer took
        long? after = ServerRss.Bytes(pid);
        double Mb(long? b) => b is { } v ? Math.Round(v / 1048576.0, 1) : double.NaN;
        return
        [
            new("prompts", count), new("prompt_chars_bound", bound), new("answered_413", results.Count(r => r.Item1 == 413)),
            new("answered_other", results.Count(r => r.Item1 != 413)), new("long_ms_max", Math.Round(results.Max(r => r.Item2), 0)),
            new("wall_s", Math.Round(elapsed, 1)), new("short_requests", shortLatencies.Count),
            new("short_ms_p50", shortLatencies.Count > 0 ? Math.Round(Percentiles.Of(shortLatencies, 50), 1) : null),
            new("short_ms_max", shortLatencies.Count > 0 ? Math.Round(shortLatencies.Max(), 1) : null),
            new("rss_mb_before", pid is null ? null : Mb(before)), new("rss_mb_peak", pid is null ? null : Mb(peak)), new("rss_mb_after", pid is null ? null : Mb(after)),
        ];
    }

    /// <summary>The server's prompt bound in characters, from the 413 a prompt far past it gets.</summary>
    private static async Task<long> CharBoundAsync(HttpClient http, string model, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("v1/completions", new { model, prompt = new string('a', 7_000_000), max_tokens = 2 }, ct);
        string text = await response.Content.ReadAsStringAsync(ct);
        var match = BoundPattern().Match(text);
        if (response.StatusCode != HttpStatusCode.RequestEntityTooLarge || !match.Success)
            throw new InvalidOperationException($"a 7 MB prompt was not refused with the character bound: {(int)response.StatusCode} {text[..Math.Min(text.Length, 300)]}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static string Words(int chars, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder(chars);
        while (text.Length < chars - 12)
        {
            for (int i = random.Next(3, 10); i > 0; i--)
                text.Append((char)('a' + random.Next(26)));
            text.Append(' ');
        }
        return text.ToString();
    }

    [GeneratedRegex(@"no prompt longer than (\d+) characters")]
    private static partial Regex BoundPattern();
}
