using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>Plain HTTP against one silo's gateway: status and JSON body, for the multi-process tests' checks.</summary>
public sealed class GatewayClient(string baseUrl) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };

    public async Task<(int Status, JsonElement Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        return ((int)response.StatusCode, await ReadAsync(response));
    }

    public async Task<(int Status, JsonElement Body)> PostAsync(string path, object body)
    {
        using var response = await _http.PostAsJsonAsync(path, body);
        return ((int)response.StatusCode, await ReadAsync(response));
    }

    /// <summary>The devices <c>/ready</c> counts (fresh loads this silo received; 0 while not ready). Every role serves it.</summary>
    public async Task<int> ReadyDevicesAsync()
    {
        var (status, body) = await GetAsync("/ready");
        return status == 200 ? body.GetProperty("devices").GetInt32() : 0;
    }

    /// <summary>The devices <c>/info</c> lists, with their pinnable slots and pins.</summary>
    public async Task<IReadOnlyList<(string Key, int Slots, int Pinned)>> DevicesAsync()
    {
        var (status, body) = await GetAsync("/info");
        if (status != 200)
            throw new InvalidOperationException($"/info answered {status}: {body}");
        return [.. body.GetProperty("devices").EnumerateArray().Select(d =>
            (d.GetProperty("key").GetString()!, d.GetProperty("adapter_slots").GetInt32(), d.GetProperty("pinned_adapters").GetInt32()))];
    }

    /// <summary>The silo (as <c>/v1/adapters/{id}</c> names it) and residency of an adapter.</summary>
    public async Task<(string? Silo, string Residency)> AdapterAsync(string id)
    {
        var (status, body) = await GetAsync($"/v1/adapters/{id}");
        if (status != 200)
            throw new InvalidOperationException($"/v1/adapters/{id} answered {status}: {body}");
        var silo = body.GetProperty("silo");
        return (silo.ValueKind == JsonValueKind.String ? silo.GetString() : null, body.GetProperty("residency").GetString()!);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonDocument.Parse(JsonSerializer.Serialize(text)).RootElement.Clone();
        }
    }

    public void Dispose() => _http.Dispose();
}
