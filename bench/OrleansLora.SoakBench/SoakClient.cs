using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OrleansLora.SoakBench;

/// <summary>
/// Sends one streaming request, OpenAI chat or LoRAX <c>/generate_stream</c>, reads it as server-sent events and
/// classifies how it ended (the client's default headers carry the key). Every generated token is asked for (<c>ignore_eos</c> on chat), so waves are alike.
/// </summary>
internal sealed class SoakClient(HttpClient http, int maxTokens)
{
    public static HttpClient CreateHttp(Uri baseAddress) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromMinutes(10),
    };

    public async Task<StreamResult> RunAsync(string model, bool lorax, int index, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        object body = lorax
            ? new { inputs = $"Request {index}: tell me a story.", parameters = new { adapter_id = model, max_new_tokens = maxTokens, do_sample = true, seed = index } }
            : new
            {
                model,
                messages = new[] { new { role = "user", content = $"Request {index}: tell me a story." } },
                max_tokens = maxTokens,
                ignore_eos = true,
                seed = index,
                stream = true,
                stream_options = new { include_usage = true },
            };
        using var request = new HttpRequestMessage(HttpMethod.Post, lorax ? "generate_stream" : "v1/chat/completions") { Content = JsonContent.Create(body) };
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                string text = await response.Content.ReadAsStringAsync(cancellationToken);
                var outcome = response.StatusCode == HttpStatusCode.TooManyRequests ? StreamOutcome.RateLimited
                    : (int)response.StatusCode >= 500 ? StreamOutcome.ServerError : StreamOutcome.ClientError;
                return new StreamResult(outcome, 0, -1, $"{(int)response.StatusCode} {Cut(text)}");
            }
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            return lorax ? await ReadLoraxAsync(reader, clock, cancellationToken) : await ReadChatAsync(reader, clock, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new StreamResult(StreamOutcome.Dropped, 0, -1, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static async Task<StreamResult> ReadChatAsync(StreamReader reader, Stopwatch clock, CancellationToken ct)
    {
        double ttft = -1;
        int? tokens = null;
        bool finished = false;
        await foreach (string data in Events(reader, ct))
        {
            if (data == "[DONE]")
            {
                return finished && tokens is { } n
                    ? new StreamResult(StreamOutcome.Completed, n, ttft, null)
                    : new StreamResult(StreamOutcome.Dropped, tokens ?? 0, ttft, "[DONE] without a finish and usage");
            }
            var evt = JsonNode.Parse(data)!;
            if (evt["error"] is { } error)
                return ErrorEvent(error, ttft);
            if (evt["choices"] is JsonArray { Count: > 0 } choices)
            {
                if (ttft < 0 && choices[0]!["delta"]?["content"]?.GetValue<string>() is { Length: > 0 })
                    ttft = clock.Elapsed.TotalMilliseconds;
                finished |= choices[0]!["finish_reason"] is not null;
            }
            if (evt["usage"] is { } usage)
                tokens = usage["completion_tokens"]!.GetValue<int>();
        }
        return new StreamResult(StreamOutcome.Dropped, tokens ?? 0, ttft, "the stream ended before [DONE]");
    }

    private static async Task<StreamResult> ReadLoraxAsync(StreamReader reader, Stopwatch clock, CancellationToken ct)
    {
        double ttft = -1;
        await foreach (string data in Events(reader, ct))
        {
            var evt = JsonNode.Parse(data)!;
            if (evt["error"] is { } error)
                return ErrorEvent(error, ttft);
            if (ttft < 0 && evt["token"] is not null)
                ttft = clock.Elapsed.TotalMilliseconds;
            if (evt["details"] is JsonObject details)
                return new StreamResult(StreamOutcome.Completed, details["generated_tokens"]!.GetValue<int>(), ttft, null);
        }
        return new StreamResult(StreamOutcome.Dropped, 0, ttft, "the stream ended before its final event");
    }

    /// <summary>The payloads of the <c>data: </c> lines until the body ends.</summary>
    private static async IAsyncEnumerable<string> Events(StreamReader reader, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
                yield return line["data: ".Length..];
        }
    }

    private static StreamResult ErrorEvent(JsonNode error, double ttft)
    {
        string? type = error["type"]?.GetValue<string>();
        var outcome = type is "server_error" or "service_unavailable_error" ? StreamOutcome.ServerError : StreamOutcome.ClientError;
        return new StreamResult(outcome, 0, ttft, $"error event {Cut(error.ToJsonString())}");
    }

    private static string Cut(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
