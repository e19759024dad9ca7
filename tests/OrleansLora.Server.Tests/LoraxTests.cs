using System.Text.Json.Nodes;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>LoRAX's /generate and /generate_stream: the request parameters and the answer shapes LoRAX clients parse.</summary>
[Collection(GatewayCollection.Name)]
public sealed class LoraxTests(GatewayFixture server)
{
    private const string Inputs = "The capital of France is";

    [Fact]
    public async Task Generate_answers_generated_text_and_details_with_every_token()
    {
        using var http = server.CreateClient();
        var answer = await Api.PostOkAsync(http, "generate", new { inputs = Inputs, parameters = new { adapter_id = "demo-sql", max_new_tokens = 5, details = true } });

        Assert.Equal(["generated_text", "details"], answer.Select(p => p.Key));
        string text = Api.Text(answer["generated_text"]);
        var details = answer["details"]!.AsObject();
        Assert.Equal("length", Api.Text(details["finish_reason"]));
        Assert.True(Api.Int(details["prompt_tokens"]) > 0);
        Assert.Equal(5, Api.Int(details["generated_tokens"]));
        Assert.True(details.ContainsKey("seed"));
        Assert.Null(details["seed"]); // greedy: no seed was used
        var tokens = details["tokens"]!.AsArray();
        Assert.Equal(5, tokens.Count);
        Assert.All(tokens, t =>
        {
            Assert.True(Api.Int(t!["id"]) >= 0);
            Assert.False(t["special"]!.GetValue<bool>());
            Assert.True(t.AsObject().ContainsKey("logprob"));
        });
        Assert.Equal(text, string.Concat(tokens.Select(t => Api.Text(t!["text"]))));
    }

    [Fact]
    public async Task Generate_without_details_answers_only_the_text_and_return_full_text_prefixes_the_inputs()
    {
        using var http = server.CreateClient();
        var plain = await Api.PostOkAsync(http, "generate", new { inputs = Inputs, parameters = new { max_new_tokens = 4 } });
        var full = await Api.PostOkAsync(http, "generate", new { inputs = Inputs, parameters = new { max_new_tokens = 4, return_full_text = true } });

        Assert.Equal(["generated_text"], plain.Select(p => p.Key));
        Assert.Equal(Inputs + Api.Text(plain["generated_text"]), Api.Text(full["generated_text"]));
    }

    [Fact]
    public async Task Sampling_with_a_seed_repeats_and_reports_the_seed_while_greedy_ignores_it()
    {
        using var http = server.CreateClient();
        async Task<JsonObject> Sample(object parameters) => await Api.PostOkAsync(http, "generate", new { inputs = Inputs, parameters });

        var a = await Sample(new { adapter_id = "demo-poet", max_new_tokens = 12, do_sample = true, seed = 9, details = true });
        var b = await Sample(new { adapter_id = "demo-poet", max_new_tokens = 12, do_sample = true, seed = 9, details = true });
        var c = await Sample(new { adapter_id = "demo-poet", max_new_tokens = 12, do_sample = true, seed = 10, top_k = 50, top_p = 0.95, repetition_penalty = 1.2, details = true });
        var greedy1 = await Sample(new { adapter_id = "demo-poet", max_new_tokens = 12 });
        var greedy2 = await Sample(new { adapter_id = "demo-poet", max_new_tokens = 12, seed = 10 });

        Assert.Equal(Api.Text(a["generated_text"]), Api.Text(b["generated_text"]));
        Assert.Equal(9, a["details"]!["seed"]!.GetValue<long>());
        Assert.NotEqual(Api.Text(a["generated_text"]), Api.Text(c["generated_text"]));
        Assert.Equal(Api.Text(greedy1["generated_text"]), Api.Text(greedy2["generated_text"]));
    }

    [Fact]
    public async Task A_stop_sequence_finishes_with_stop_sequence()
    {
        using var http = server.CreateClient();
        var full = Api.Text((await Api.PostOkAsync(http, "generate", new { inputs = Inputs, parameters = new { adapter_id = "demo-support", max_new_tokens = 16 } }))["generated_text"]);
        var (stop, at) = Api.StopWithin(full);

        var stopped = await Api.PostOkAsync(http, "generate", new { inputs = Inputs, parameters = new { adapter_id = "demo-support", max_new_tokens = 16, stop = new[] { stop }, details = true } });

        Assert.Equal("stop_sequence", Api.Text(stopped["details"]!["finish_reason"]));
        Assert.True(Api.Int(stopped["details"]!["generated_tokens"]) < 16);
        Assert.Equal(full[..at], Api.Text(stopped["generated_text"]));
    }

    [Fact]
    public async Task Generate_stream_sends_token_events_with_the_text_and_details_only_on_the_last()
    {
        using var http = server.CreateClient();
        var whole = await Api.PostOkAsync(http, "generate", new { inputs = Inputs, parameters = new { adapter_id = "demo-support", max_new_tokens = 6 } });

        var data = await Api.PostSseAsync(http, "generate_stream", new { inputs = Inputs, parameters = new { adapter_id = "demo-support", max_new_tokens = 6, details = true } });

        var events = data.Select(Api.Parse).ToList();
        Assert.Equal(6, events.Count); // one event per generated token, no [DONE] (LoRAX sends none)
        Assert.All(events, e => Assert.Equal(["token", "generated_text", "details"], e.Select(p => p.Key)));
        Assert.All(events[..^1], e =>
        {
            Assert.Null(e["generated_text"]);
            Assert.Null(e["details"]);
        });
        var last = events[^1];
        Assert.Equal(Api.Text(whole["generated_text"]), Api.Text(last["generated_text"]));
        Assert.Equal(Api.Text(last["generated_text"]), string.Concat(events.Select(e => Api.Text(e["token"]!["text"]))));
        var details = last["details"]!;
        Assert.Equal("length", Api.Text(details["finish_reason"]));
        Assert.Equal(6, Api.Int(details["generated_tokens"]));
        Assert.True(Api.Int(details["prompt_tokens"]) > 0);
    }

    [Fact]
    public async Task Generate_stream_with_return_full_text_puts_the_inputs_in_the_last_event_only()
    {
        using var http = server.CreateClient();
        var data = await Api.PostSseAsync(http, "generate_stream", new { inputs = Inputs, parameters = new { max_new_tokens = 3, return_full_text = true } });

        var events = data.Select(Api.Parse).ToList();
        string tokens = string.Concat(events.Select(e => Api.Text(e["token"]!["text"])));
        Assert.Equal(Inputs + tokens, Api.Text(events[^1]["generated_text"]));
    }
}
