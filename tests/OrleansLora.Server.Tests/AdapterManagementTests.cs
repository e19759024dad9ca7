using System.Net;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>Loading, listing and unloading adapters over HTTP, first use from the adapter root, and the root's sandbox.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AdapterManagementTests(GatewayFixture server)
{
    private const string BadRequest = "invalid_request_error";

    [Fact]
    public async Task A_loaded_adapter_serves_is_listed_with_its_residency_and_counters_then_unloads()
    {
        string dir = server.WriteAdapter(rank: 4);
        string name = $"loaded-{dir}";
        using var http = server.CreateClient();

        var loaded = await Api.PostOkAsync(http, "v1/load_lora_adapter", new { lora_name = name, lora_path = dir });
        Assert.Equal(name, Api.Text(loaded["id"]));
        Assert.Equal(dir, Api.Text(loaded["source"]));
        Assert.Equal(4, Api.Int(loaded["rank"]));

        var models = await Api.GetOkAsync(http, "v1/models");
        var card = models["data"]!.AsArray().Single(m => Api.Text(m!["id"]) == name)!;
        Assert.Equal(server.BaseModelName, Api.Text(card["parent"]));

        var answer = await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(name, "hi", 3));
        Assert.Equal(name, Api.Text(answer["model"]));

        var list = await Api.GetOkAsync(http, "v1/adapters");
        var entry = list["data"]!.AsArray().Single(a => Api.Text(a!["id"]) == name)!;
        Assert.Equal("active", Api.Text(entry["status"]));
        // Loaded without "pinned": traffic decides its residency, so it is active in memory ("host"), not pinned.
        Assert.Equal("host", Api.Text(entry["residency"]));
        Assert.False(entry["pinned"]!.GetValue<bool>());
        Assert.Equal(4, Api.Int(entry["rank"]));
        Assert.False(string.IsNullOrEmpty(Api.Text(entry["silo"])));
        Assert.StartsWith(Api.Text(entry["silo"]), Api.Text(entry["device"]));
        Assert.Equal(1, Api.Int(entry["counters"]!["requests"]));
        Assert.Equal(3, Api.Int(entry["counters"]!["generated_tokens"]));
        Assert.Equal(Api.Int(answer["usage"]!["prompt_tokens"]), Api.Int(entry["counters"]!["prompt_tokens"]));

        var unloaded = await Api.PostOkAsync(http, "v1/unload_lora_adapter", new { lora_name = name });
        Assert.True(unloaded["deleted"]!.GetValue<bool>());
        var after = await Api.GetOkAsync(http, "v1/adapters");
        Assert.DoesNotContain(after["data"]!.AsArray(), a => Api.Text(a!["id"]) == name);
        await Api.PostErrorAsync(http, "v1/unload_lora_adapter", new { lora_name = name }, HttpStatusCode.NotFound, BadRequest, "lora_name");
    }

    [Fact]
    public async Task Load_pins_only_when_asked_and_a_second_load_can_pin_or_unpin_in_place()
    {
        string dir = server.WriteAdapter(rank: 4, seed: 21);
        string name = $"pinned-{dir}";
        using var http = server.CreateClient();

        var loaded = await Api.PostOkAsync(http, "v1/load_lora_adapter", new { lora_name = name, lora_path = dir, pinned = true });
        Assert.True(loaded["pinned"]!.GetValue<bool>());
        await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(name, "hi", 2));
        var entry = await Api.GetOkAsync(http, $"v1/adapters/{name}");
        Assert.Equal("gpu", Api.Text(entry["residency"])); // only explicit pins take the pinnable slots: one is free
        string device = Api.Text(entry["device"]);

        await Api.PostOkAsync(http, "v1/load_lora_adapter", new { lora_name = name, lora_path = dir, pinned = false });
        entry = await Api.GetOkAsync(http, $"v1/adapters/{name}");
        Assert.False(entry["pinned"]!.GetValue<bool>());
        Assert.Equal("host", Api.Text(entry["residency"]));
        Assert.Equal(device, Api.Text(entry["device"])); // released in place, not moved

        // The device's engine holds it: /v1/adapters names that device once the next load publish shows it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var list = await Api.GetOkAsync(http, "v1/adapters");
            var listed = list["data"]!.AsArray().Single(a => Api.Text(a!["id"]) == name)!;
            if (listed["devices"]!.AsArray().Any(d => Api.Text(d) == device))
                break;
            Assert.True(DateTime.UtcNow < deadline, $"/v1/adapters did not list {device} among {name}'s devices within 30 s: {listed}");
            await Task.Delay(200);
        }
        await Api.PostOkAsync(http, "v1/unload_lora_adapter", new { lora_name = name });
    }

    [Fact]
    public async Task An_adapter_directory_in_the_root_serves_on_first_use_by_name()
    {
        string name = server.WriteAdapter(seed: 11);
        using var http = server.CreateClient();

        var answer = await Api.PostOkAsync(http, "v1/completions", new { model = name, prompt = "hi", max_tokens = 2 });

        Assert.Equal(name, Api.Text(answer["model"]));
        var entry = await Api.GetOkAsync(http, $"v1/adapters/{name}");
        Assert.Equal(name, Api.Text(entry["source"]));
        Assert.Equal(1, Api.Int(entry["counters"]!["requests"]));
    }

    [Fact]
    public async Task LoRAX_adapter_source_local_serves_a_nested_path_under_the_root()
    {
        string nested = server.WriteAdapter($"team-{Guid.NewGuid():n}"[..13] + "/v1", seed: 12);
        using var http = server.CreateClient();

        var answer = await Api.PostOkAsync(http, "generate", new { inputs = "hi", parameters = new { adapter_id = nested, adapter_source = "local", max_new_tokens = 2 } });

        Assert.False(string.IsNullOrEmpty(Api.Text(answer["generated_text"])));
        var list = await Api.GetOkAsync(http, "v1/adapters");
        Assert.Contains(list["data"]!.AsArray(), a => Api.Text(a!["source"]) == nested);
    }

    [Fact]
    public async Task Paths_that_leave_the_adapter_root_are_refused()
    {
        // A valid adapter outside the root, and a symbolic link inside the root that points at it.
        string outside = Path.Combine(server.DataDirectory, "outside", "evil");
        var config = OrleansLora.Engine.Models.ModelConfig.Load(server.ModelDirectory);
        OrleansLora.Engine.Adapters.PeftAdapterWriter.WriteRandom(config, outside, 4, 8, ["q_proj"], 3);
        string link = $"link-{Guid.NewGuid():n}"[..13];
        Directory.CreateSymbolicLink(Path.Combine(server.AdapterRoot, link), outside);
        using var http = server.CreateClient();

        foreach (var path in new[] { "../outside/evil", "/etc", outside, link, $"{link}/", "./demo-sql", ".hidden" })
        {
            var error = await Api.PostErrorAsync(http, "v1/load_lora_adapter", new { lora_name = "escape", lora_path = path }, HttpStatusCode.BadRequest, BadRequest, "lora_path");
            Assert.Contains("refused", Api.Text(error["message"]));
            Assert.DoesNotContain("(Parameter", Api.Text(error["message"]));
        }
        foreach (var name in new[] { "a/b", "../x", "..", "/x" })
            await Api.PostErrorAsync(http, "v1/load_lora_adapter", new { lora_name = name }, HttpStatusCode.BadRequest, BadRequest, "lora_name");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { adapter_id = "../outside/evil", adapter_source = "local" } }, HttpStatusCode.BadRequest, BadRequest, "parameters.adapter_id");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { adapter_id = link, adapter_source = "local" } }, HttpStatusCode.BadRequest, BadRequest, "parameters.adapter_id");
        // The link's name is a valid adapter id, but first use does not follow it out of the root.
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(link, "hi", 2), HttpStatusCode.NotFound, BadRequest, "model");

        var list = await Api.GetOkAsync(http, "v1/adapters");
        Assert.DoesNotContain(list["data"]!.AsArray(), a => Api.Text(a!["id"]) is "escape" || Api.Text(a!["id"]) == link);
    }

    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("adapter_model.bin")]
    public async Task A_directory_without_safetensors_weights_is_a_400_naming_safetensors(string weightsFile)
    {
        string name = $"pickled-{Guid.NewGuid():n}"[..16];
        string dir = Path.Combine(server.AdapterRoot, name);
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(server.AdapterRoot, "demo-poet", "adapter_config.json"), Path.Combine(dir, "adapter_config.json"));
        await File.WriteAllBytesAsync(Path.Combine(dir, weightsFile), [0x80, 0x02]);
        using var http = server.CreateClient();

        var error = await Api.PostErrorAsync(http, "v1/load_lora_adapter", new { lora_name = name }, HttpStatusCode.BadRequest, BadRequest, "lora_path");

        Assert.Equal("invalid_adapter", Api.Text(error["code"]));
        Assert.Contains("safetensors", Api.Text(error["message"]));
        // First use of the same directory by name is refused the same way.
        var chat = await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(name, "hi", 2), HttpStatusCode.BadRequest, BadRequest, null);
        Assert.Contains("safetensors", Api.Text(chat["message"]));
    }

    [Fact]
    public async Task Loading_a_missing_directory_or_the_base_model_name_is_refused()
    {
        using var http = server.CreateClient();
        var missing = await Api.PostErrorAsync(http, "v1/load_lora_adapter", new { lora_name = "ghost", lora_path = "no-such-dir" }, HttpStatusCode.NotFound, BadRequest, "lora_path");
        Assert.Contains("no-such-dir", Api.Text(missing["message"]));
        await Api.PostErrorAsync(http, "v1/load_lora_adapter", new { lora_name = server.BaseModelName }, HttpStatusCode.BadRequest, BadRequest, "lora_name");
        using var unknown = await http.GetAsync("v1/adapters/ghost");
        await Api.AssertErrorAsync(unknown, HttpStatusCode.NotFound, BadRequest, "model");
    }
}
