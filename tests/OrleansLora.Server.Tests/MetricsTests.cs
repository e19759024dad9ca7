using System.Globalization;
using System.Text.RegularExpressions;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>/metrics in Prometheus text: per-adapter counts that match the traffic sent, Orleans' meter and HTTP metrics.</summary>
[Collection(GatewayCollection.Name)]
public sealed class MetricsTests(GatewayFixture server)
{
    [Fact]
    public async Task Per_adapter_counts_match_the_requests_sent()
    {
        string adapter = server.WriteAdapter(seed: 21);
        using var http = server.CreateClient();
        int prompt = 0;
        int generated = 0;
        foreach (int maxTokens in new[] { 2, 3, 4 })
        {
            var answer = await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(adapter, "Count me", maxTokens));
            prompt += Api.Int(answer["usage"]!["prompt_tokens"]);
            generated += Api.Int(answer["usage"]!["completion_tokens"]);
        }
        var streamed = await Api.PostSseAsync(http, "generate_stream", new { inputs = "and me", parameters = new { adapter_id = adapter, max_new_tokens = 5, details = true } });
        prompt += Api.Int(Api.Parse(streamed[^1])["details"]!["prompt_tokens"]);
        generated += 5;
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(adapter, "x", 5000), System.Net.HttpStatusCode.BadRequest, "invalid_request_error", "max_tokens");

        // The grain records a request when its stream ends, just after the last chunk is sent: poll briefly.
        string label = $"adapter=\"{adapter}\"";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string text;
        while (true)
        {
            text = await http.GetStringAsync("metrics");
            if (Value(text, "olora_adapter_requests_total", label, "outcome=\"ok\"") == 4 && Value(text, "olora_adapter_requests_total", label, "outcome=\"error\"") == 1)
                break;
            Assert.True(DateTime.UtcNow < deadline, $"the request counts of {adapter} did not reach 4 ok and 1 error:\n{Lines(text, label)}");
            await Task.Delay(100);
        }

        Assert.Equal(prompt, Value(text, "olora_adapter_prompt_tokens_total", label));
        Assert.Equal(generated, Value(text, "olora_adapter_generated_tokens_total", label));
        Assert.Equal(4, Value(text, "olora_adapter_time_to_first_token_milliseconds_count", label));
        Assert.Matches(new Regex("^orleans_", RegexOptions.Multiline), text);
        Assert.Matches(new Regex("^http_server_request_duration_seconds_count\\{.*http_route=\"/v1/chat/completions\"", RegexOptions.Multiline), text);
        Assert.Matches(new Regex("^olora_device_adapter_slots\\{", RegexOptions.Multiline), text);
    }

    /// <summary>The sample of <paramref name="metric"/> whose labels contain all of <paramref name="labels"/>; 0 when absent.</summary>
    private static double Value(string exposition, string metric, params string[] labels)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(metric + "{", StringComparison.Ordinal))
                continue;
            int close = line.LastIndexOf('}');
            string set = line[(metric.Length + 1)..close];
            if (labels.All(l => set.Split(',').Contains(l)))
                return double.Parse(line[(close + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    private static string Lines(string exposition, string label) =>
        string.Join('\n', exposition.Split('\n').Where(l => l.Contains(label, StringComparison.Ordinal)));
}
