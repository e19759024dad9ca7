using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLora.Testing;

/// <summary>Raw HTTP helpers: the tests read the JSON the server wrote, not a client library's view of it.</summary>
public static class Api
{
    public static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, object body, string? key = null) =>
        http.SendAsync(Post(path, body, key));

    private static HttpRequestMessage Post(string path, object body, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    /// <summary>Posts a body given as raw text (malformed JSON on purpose).</summary>
    public static Task<HttpResponseMessage> PostRawAsync(HttpClient http, string path, string body) =>
        http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

    /// <summary>Posts and returns the answer's JSON, failing with the body when the status is not 200.</summary>
    public static async Task<JsonObject> PostOkAsync(HttpClient http, string path, object body, string? key = null)
    {
        using var response = await PostAsync(http, path, body, key);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> GetOkAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>
    /// Checks <paramref name="response"/> is an error in OpenAI's shape — exactly <c>{"error": {message, type, param, code}}</c>
    /// with the given status, type and param — and returns the error object.
    /// </summary>
    public static async Task<JsonObject> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type, string? param)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(["error"], root.Select(p => p.Key));
        var error = root["error"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        return error;
    }

    /// <summary>Posts and checks the error (see <see cref="AssertErrorAsync"/>).</summary>
    public static async Task<JsonObject> PostErrorAsync(HttpClient http, string path, object body, HttpStatusCode status, string type, string? param, string? key = null)
    {
        using var response = await PostAsync(http, path, body, key);
        return await AssertErrorAsync(response, status, type, param);
    }

    /// <summary>
    /// Splits a whole server-sent-event body into the payloads of its <c>data: </c> lines, checking the framing
    /// on the way: every event is exactly one <c>data: ...</c> line followed by a blank line.
    /// </summary>
    public static List<string> SseData(string body)
    {
        Assert.EndsWith("\n\n", body);
        var events = body[..^2].Split("\n\n");
        var data = new List<string>();
        foreach (var e in events)
        {
            Assert.StartsWith("data: ", e);
            Assert.DoesNotContain('\n', e);
            data.Add(e["data: ".Length..]);
        }
        return data;
    }

    /// <summary>
    /// Starts a streaming request and reads its first event, so the generation is known to be running; the caller
    /// disposes the reader and the response (which drops the connection when the stream has not ended).
    /// </summary>
    public static async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenStreamAsync(HttpClient http, string path, object body, string? key = null)
    {
        var response = await http.SendAsync(Post(path, body, key), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());
        return (response, reader);
    }

    /// <summary>Posts a streaming request and returns its event payloads (after checking the status and content type).</summary>
    public static async Task<List<string>> PostSseAsync(HttpClient http, string path, object body)
    {
        using var response = await PostAsync(http, path, body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)response.StatusCode} {text}");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return SseData(text);
    }

    /// <summary>
    /// A 3-character piece of the second half of <paramref name="full"/> whose first occurrence is not at the start,
    /// and that occurrence: asked to stop at it, the same greedy generation must end right before <c>At</c>.
    /// </summary>
    public static (string Stop, int At) StopWithin(string full)
    {
        for (int i = full.Length / 2; i + 3 <= full.Length; i++)
        {
            string stop = full.Substring(i, 3);
            int at = full.IndexOf(stop, StringComparison.Ordinal);
            if (at > 0 && stop.Trim().Length > 0)
                return (stop, at);
        }
        throw new InvalidOperationException($"no usable stop sequence in \"{full}\"");
    }

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    public static string Text(JsonNode? node) => node!.GetValue<string>();

    public static int Int(JsonNode? node) => node!.GetValue<int>();

    /// <summary>A chat request body with one user message.</summary>
    public static Dictionary<string, object?> Chat(string? model, string content, int maxTokens, params (string Key, object? Value)[] extra)
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = new[] { new { role = "user", content } },
            ["max_tokens"] = maxTokens,
        };
        foreach (var (k, v) in extra)
            body[k] = v;
        return body;
    }
}
