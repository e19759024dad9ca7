using System.Net;
using System.Text.Json.Nodes;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>The probes, /info and the OpenAPI document.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HealthTests(GatewayFixture server)
{
    [Fact]
    public async Task Health_and_ready_answer_ok_once_a_device_published()
    {
        using var http = server.CreateClient();
        Assert.Equal("ok", Api.Text((await Api.GetOkAsync(http, "health"))["status"]));
        var ready = await Api.GetOkAsync(http, "ready");
        Assert.Equal("ready", Api.Text(ready["status"]));
        Assert.Equal(1, Api.Int(ready["devices"]));
    }

    [Fact]
    public async Task Info_names_the_base_model_the_adapter_slots_the_version_and_the_devices()
    {
        using var http = server.CreateClient();
        var info = await Api.GetOkAsync(http, "info");

        Assert.Equal(server.BaseModelName, Api.Text(info["base_model"]));
        Assert.Equal(8, Api.Int(info["max_loras"])); // appsettings.json
        Assert.Equal(1024, Api.Int(info["max_sequence_length"]));
        Assert.Equal("both", Api.Text(info["role"]));
        Assert.Matches(@"^\d+\.\d+\.\d+", Api.Text(info["version"]));
        var device = info["devices"]!.AsArray().Single()!;
        Assert.EndsWith("|0", Api.Text(device["key"]));
        Assert.True(Api.Int(device["adapter_slots"]) > 0);
        // The device's slots: all of them = pinnable + swap (SwapSlots defaults to 1).
        Assert.Equal(8, Api.Int(device["max_loras"]));
        Assert.Equal(1, Api.Int(device["swap_slots"]));
        Assert.Equal(Api.Int(device["max_loras"]), Api.Int(device["adapter_slots"]) + Api.Int(device["swap_slots"]));
        Assert.InRange(Api.Int(device["occupied_slots"]), Api.Int(device["pinned_adapters"]), Api.Int(device["max_loras"]));
    }

    [Fact]
    public async Task The_OpenAPI_document_parses_and_lists_every_endpoint()
    {
        using var http = server.CreateClient();
        using var response = await http.GetAsync("openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.StartsWith("3.", Api.Text(document["openapi"]));
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToHashSet();
        string[] expected =
        [
            "/v1/chat/completions", "/v1/completions", "/v1/models", "/generate", "/generate_stream",
            "/v1/load_lora_adapter", "/v1/unload_lora_adapter", "/v1/adapters", "/v1/adapters/{id}", "/health", "/ready", "/info",
        ];
        Assert.All(expected, p => Assert.Contains(p, paths));
        Assert.NotNull(document["paths"]!["/v1/chat/completions"]!["post"]!["requestBody"]);
    }
}
