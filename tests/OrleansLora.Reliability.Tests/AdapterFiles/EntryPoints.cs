using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>What one request answered: status and body, read within the deadline.</summary>
public sealed record Answer(string EntryPoint, int Status, string Body)
{
    /// <summary>The OpenAI-shaped error object, checked to be exactly {"error": {message, type, param, code}}; null when the body is not one.</summary>
    public JsonObject? Error
    {
        get
        {
            try
            {
                if (JsonNode.Parse(Body) is not JsonObject root || root.Count != 1 || root["error"] is not JsonObject error)
                    return null;
                return error.Select(p => p.Key).SequenceEqual(["message", "type", "param", "code"]) ? error : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    public string? Code => (string?)Error?["code"];
    public string? Param => (string?)Error?["param"];
    public string Message => (string?)Error?["message"] ?? "";

    public override string ToString() => $"{EntryPoint} answered {Status}: {(Body.Length > 600 ? Body[..600] + "..." : Body)}";
}

/// <summary>
/// The three ways an adapter directory reaches the loader — the admin load, LoRAX's local source and a
/// chat's first use of a name — each bounded by <see cref="Deadline"/>: a request that does not answer in
/// time fails the test as a hang, naming the case and the entry point.
/// </summary>
public sealed class EntryPoints(AdapterFilesServer server) : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly HttpClient _http = new() { BaseAddress = server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };

    public const string Admin = "admin load_lora_adapter";
    public const string Lorax = "LoRAX adapter_source local";
    public const string Chat = "chat first use";

    /// <summary><c>/v1/load_lora_adapter</c> with the admin key.</summary>
    public Task<Answer> AdminLoadAsync(string loraName, string loraPath, string what) =>
        SendAsync(Admin, "v1/load_lora_adapter", new { lora_name = loraName, lora_path = loraPath }, AdapterFilesServer.AdminKey, what);

    /// <summary>LoRAX <c>/generate</c> with <c>adapter_source: "local"</c> and the user key.</summary>
    public Task<Answer> LoraxLocalAsync(string path, string what, string key = AdapterFilesServer.UserKey) =>
        SendAsync(Lorax, "generate", new { inputs = "Hi", parameters = new { adapter_id = path, adapter_source = "local", max_new_tokens = 1 } }, key, what);

    /// <summary>A chat naming the adapter (first use registers a store directory of that name), with the user key.</summary>
    public Task<Answer> ChatAsync(string model, string what) =>
        SendAsync(Chat, "v1/chat/completions", new { model, messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 1 }, AdapterFilesServer.UserKey, what);

    /// <summary>The server is healthy: a normal chat on demo-sql succeeds.</summary>
    public async Task AssertHealthyAsync(string after)
    {
        var answer = await ChatAsync("demo-sql", $"health check after {after}");
        Assert.True(answer.Status == 200, $"after {after} a chat on demo-sql failed: {answer}");
    }

    /// <summary>Forgets registrations a case made (unknown names are fine), so cases never see each other's adapters.</summary>
    public async Task UnloadAsync(string what, params string[] names)
    {
        foreach (string name in names)
        {
            var answer = await SendAsync("admin unload_lora_adapter", "v1/unload_lora_adapter", new { lora_name = name }, AdapterFilesServer.AdminKey, what);
            Assert.True(answer.Status is 200 or 404, $"cleaning up {name} after {what}: {answer}");
        }
    }

    public async Task<JsonObject?> DescribeAsync(string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/adapters/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdapterFilesServer.UserKey);
        using var cts = new CancellationTokenSource(Deadline);
        using var response = await _http.SendAsync(request, cts.Token);
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync(cts.Token))!.AsObject() : null;
    }

    private async Task<Answer> SendAsync(string entryPoint, string path, object body, string key, string what)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var cts = new CancellationTokenSource(Deadline);
        try
        {
            using var response = await _http.SendAsync(request, cts.Token);
            return new Answer(entryPoint, (int)response.StatusCode, await response.Content.ReadAsStringAsync(cts.Token));
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Assert.Fail($"{what}: {entryPoint} did not answer within {Deadline} (a hang)");
            throw;
        }
    }

    public void Dispose() => _http.Dispose();
}
