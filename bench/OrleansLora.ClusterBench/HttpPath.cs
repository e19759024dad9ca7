using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OrleansLora.ClusterBench;

/// <summary>
/// The workload through the gateway's OpenAI <c>POST /v1/completions</c> with <c>stream: true</c>, read as
/// server-sent events as any OpenAI client would (one connection per request in flight, HTTP/1.1).
/// </summary>
internal sealed class HttpPath(HttpClient http) : IGenerationPath
{
    public string Name => PathNames.Http;

    public async Task<RequestResult> RunAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = item.AdapterId,
            ["prompt"] = item.Prompt,
            ["max_tokens"] = item.MaxTokens,
            ["temperature"] = Workload.Temperature,
            ["seed"] = Workload.Seed,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        var collector = new StreamCollector(Name, item);
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"http request {item.Index}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        string? finish = null;
        JsonNode? usage = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
                continue; // blank separators between events
            string data = line["data: ".Length..];
            if (data == "[DONE]")
                break;
            var evt = JsonNode.Parse(data)!;
            if (evt["error"] is { } error)
                throw new InvalidOperationException($"http request {item.Index}: error event {error.ToJsonString()}");
            usage ??= evt["usage"];
            if (evt["choices"] is JsonArray { Count: > 0 } choices)
            {
                collector.Add(choices[0]!["text"]?.GetValue<string>() ?? "");
                finish ??= choices[0]!["finish_reason"]?.GetValue<string>();
            }
        }
        if (usage is null || finish is null)
            throw collector.Incomplete(usage is null ? "a usage event" : "a finish reason");
        // SSE events carry text only: the token count is the usage the server reports.
        return collector.Finish(usage["completion_tokens"]!.GetValue<int>(), usage["prompt_tokens"]!.GetValue<int>(), finish, chunksCarryTokens: false);
    }

    public static HttpClient CreateClient(int port) => new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        Timeout = TimeSpan.FromMinutes(5),
    };
}
