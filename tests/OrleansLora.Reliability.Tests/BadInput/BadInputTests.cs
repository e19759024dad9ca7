using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLora.Reliability.Tests.Support;

namespace OrleansLora.Reliability.Tests.BadInput;

/// <summary>
/// The bad-input corpus (issue 12) against a keyed server: each case answers a status it may answer (never a 5xx
/// but the documented 503/504), every error is exactly OpenAI's shape naming the field where there is one, and
/// the server is healthy afterwards (/health each case, a real chat every <see cref="ChatEvery"/> cases).
/// </summary>
[Collection(HostileGatewayCollection.Name)]
public sealed class BadInputTests(HostileGatewayFixture server)
{
    private const int ChatEvery = 25;
    private static int _ran;

    public static TheoryData<string> Cases => BadInputCorpus.Names();

    [Fact]
    public void The_corpus_holds_at_least_300_cases_over_every_endpoint()
    {
        var cases = BadInputCorpus.ByName.Values.ToList();
        Assert.True(cases.Count >= 300, $"only {cases.Count} cases");
        string[] paths = ["v1/chat/completions", "v1/completions", "v1/models", "generate", "generate_stream", "v1/load_lora_adapter",
            "v1/unload_lora_adapter", "v1/adapters", "health", "info", "metrics", "ready"];
        foreach (string path in paths)
            Assert.Contains(cases, c => c.Path == path || c.Path.StartsWith(path + "/", StringComparison.Ordinal) || c.Path.StartsWith(path + "?", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case(string name)
    {
        var c = BadInputCorpus.ByName[name];
        using var http = server.CreateClient();
        using (var request = Request(c))
        using (var response = await SendAsync(http, request, c))
        {
            int status = (int)response.StatusCode;
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(c.Statuses.Contains(status), $"{c.Name}: expected {string.Join(" or ", c.Statuses)}, got {status}: {Cut(body)}");
            if (status >= 400 && c.Method != HttpMethod.Head && !c.KestrelRefusal)
                AssertOpenAiError(c, response, body);
            else if (status == 200 && c.Method != HttpMethod.Head)
                AssertAnswer(c, response, body);
        }
        await AssertHealthyAsync(http, c);
    }

    private static HttpRequestMessage Request(BadInputCase c)
    {
        var request = new HttpRequestMessage(c.Method, c.Path) { Content = c.Content() };
        string? key = c.Key switch
        {
            CaseKey.Default => c.Path.Contains("lora_adapter", StringComparison.Ordinal) ? HostileGatewayFixture.AdminKey : HostileGatewayFixture.UserKey,
            CaseKey.User => HostileGatewayFixture.UserKey,
            CaseKey.Admin => HostileGatewayFixture.AdminKey,
            _ => null,
        };
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (c.Key == CaseKey.Raw)
            Assert.True(request.Headers.TryAddWithoutValidation("Authorization", c.Authorization), $"{c.Name}: the client refused the header");
        return request;
    }

    /// <summary>
    /// Sends the request. A server may answer 413 before reading a large body and close the connection while the
    /// client is still sending it; the client then sees the send fail. Such a case is retried reading the answer
    /// first (Expect: 100-continue), as clients that send large bodies do.
    /// </summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage request, BadInputCase c)
    {
        try
        {
            return await http.SendAsync(request);
        }
        catch (HttpRequestException ex) when (c.Statuses.Contains(413))
        {
            using var retry = new HttpRequestMessage(c.Method, c.Path) { Content = c.Content() };
            retry.Headers.Authorization = request.Headers.Authorization;
            retry.Headers.ExpectContinue = true;
            try
            {
                return await http.SendAsync(retry);
            }
            catch (HttpRequestException again)
            {
                throw new HttpRequestException($"{c.Name}: the connection failed twice ({ex.Message}; with 100-continue: {again.Message})", again);
            }
        }
    }

    private static void AssertOpenAiError(BadInputCase c, HttpResponseMessage response, string body)
    {
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"{c.Name}: content type {response.Content.Headers.ContentType}: {Cut(body)}");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(body)!.AsObject();
        }
        catch (JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"{c.Name}: the error body is not JSON ({ex.Message}): {Cut(body)}");
        }
        Assert.True(root.Select(p => p.Key).SequenceEqual(["error"]), $"{c.Name}: not {{\"error\": ...}}: {Cut(body)}");
        var error = root["error"]!.AsObject();
        Assert.True(error.Select(p => p.Key).SequenceEqual(["message", "type", "param", "code"]), $"{c.Name}: error fields: {Cut(body)}");
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]), $"{c.Name}: empty message");
        Assert.False(string.IsNullOrWhiteSpace((string?)error["type"]), $"{c.Name}: empty type");
        string? param = (string?)error["param"];
        Assert.True(c.Param.Matches(param), $"{c.Name}: param should be {c.Param}, got {param ?? "null"}: {Cut(body)}");
        if (c.Code is not null)
            Assert.True((string?)error["code"] == c.Code, $"{c.Name}: code should be {c.Code}: {Cut(body)}");
        if ((int)response.StatusCode is 503 or 429)
            Assert.True(response.Headers.RetryAfter is not null, $"{c.Name}: {(int)response.StatusCode} without Retry-After");
    }

    /// <summary>A case the server serves: a JSON answer, or an event stream whose events are JSON without an error.</summary>
    private static void AssertAnswer(BadInputCase c, HttpResponseMessage response, string body)
    {
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            foreach (string data in Api.SseData(body).Where(d => d != "[DONE]"))
                Assert.True(JsonNode.Parse(data)!["error"] is null, $"{c.Name}: error event {Cut(data)}");
            return;
        }
        if (response.Content.Headers.ContentType?.MediaType == "application/json")
            Assert.True(JsonNode.Parse(body) is not null, $"{c.Name}: empty answer");
        else
            Assert.False(string.IsNullOrEmpty(body), $"{c.Name}: empty answer");
    }

    private async Task AssertHealthyAsync(HttpClient http, BadInputCase c)
    {
        using (var health = await http.GetAsync("health"))
            Assert.True(health.StatusCode == HttpStatusCode.OK, $"after {c.Name}: /health answered {(int)health.StatusCode}");
        if (Interlocked.Increment(ref _ran) % ChatEvery != 0)
            return;
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonBodies.Json(JsonBodies.Chat().ToJsonString()) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", HostileGatewayFixture.UserKey);
        using var chat = await http.SendAsync(request);
        Assert.True(chat.StatusCode == HttpStatusCode.OK, $"after {c.Name}: a plain chat answered {(int)chat.StatusCode}: {Cut(await chat.Content.ReadAsStringAsync())}");
    }

    private static string Cut(string text) => text.Length <= 600 ? text : text[..600] + "…";
}
