using System.Text.Json.Nodes;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>
/// /v1/completions and the server-sent-event framing of both OpenAI endpoints, over raw HTTP (the OpenAI SDK has
/// no typed client for legacy completions, and the framing is what other clients parse byte by byte).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class CompletionsTests(GatewayFixture server)
{
    [Fact]
    public async Task Completion_answers_with_text_usage_and_finish_reason()
    {
        using var http = server.CreateClient();
        var answer = await Api.PostOkAsync(http, "v1/completions", new { model = "demo-poet", prompt = "Once upon a time", max_tokens = 5, temperature = 0 });

        Assert.Equal("text_completion", Api.Text(answer["object"]));
        Assert.StartsWith("cmpl-", Api.Text(answer["id"]));
        Assert.Equal("demo-poet", Api.Text(answer["model"]));
        var choice = answer["choices"]!.AsArray().Single()!;
        Assert.Equal(0, Api.Int(choice["index"]));
        Assert.False(string.IsNullOrEmpty(Api.Text(choice["text"])));
        Assert.Equal("length", Api.Text(choice["finish_reason"]));
        var usage = answer["usage"]!;
        Assert.Equal(5, Api.Int(usage["completion_tokens"]));
        Assert.True(Api.Int(usage["prompt_tokens"]) > 0);
        Assert.Equal(Api.Int(usage["prompt_tokens"]) + 5, Api.Int(usage["total_tokens"]));
    }

    [Fact]
    public async Task An_empty_prompt_is_refused_by_name_where_the_tokenizer_adds_no_bos()
    {
        using var http = server.CreateClient();
        // The generated model's GPT-2 tokenizer adds no BOS (add_bos_token false): "" is no tokens at all, as in
        // Hugging Face, and there is nothing to generate from (vLLM refuses it too). With a BOS-adding tokenizer
        // "" is the BOS alone (EmptyPromptTests, on Llama-2's tokenizer).
        Assert.Empty((await Api.PostOkAsync(http, "tokenize", new { prompt = "" }))["tokens"]!.AsArray());
        var error = await Api.PostErrorAsync(http, "v1/completions", new { prompt = "", max_tokens = 3 }, System.Net.HttpStatusCode.BadRequest, "invalid_request_error", "prompt");
        Assert.Contains("adds no BOS token", Api.Text(error["message"]));
        // The same from the prompt's token ids: an empty list.
        await Api.PostErrorAsync(http, "v1/completions", new { prompt = Array.Empty<int>(), max_tokens = 3 }, System.Net.HttpStatusCode.BadRequest, "invalid_request_error", "prompt");
    }

    [Fact]
    public async Task Echo_puts_the_prompt_before_each_choices_text_streamed_or_not()
    {
        using var http = server.CreateClient();
        const string prompt = "Once upon a time";
        string plain = Api.Text((await Api.PostOkAsync(http, "v1/completions", new { prompt, max_tokens = 5, temperature = 0 }))["choices"]![0]!["text"]);
        var echoed = await Api.PostOkAsync(http, "v1/completions", new { prompt, max_tokens = 5, temperature = 0, echo = true, n = 2 });
        Assert.All(echoed["choices"]!.AsArray(), c => Assert.Equal(prompt + plain, Api.Text(c!["text"])));
        Assert.Equal(10, Api.Int(echoed["usage"]!["completion_tokens"])); // the echo is not generated

        var data = await Api.PostSseAsync(http, "v1/completions", new { prompt, max_tokens = 5, temperature = 0, echo = true, stream = true });
        var chunks = data[..^1].Select(Api.Parse).ToList();
        Assert.Equal(prompt, Api.Text(chunks[0]["choices"]![0]!["text"]));
        Assert.Equal(prompt + plain, string.Concat(chunks.Select(c => Api.Text(c["choices"]![0]!["text"]))));
    }

    [Fact]
    public async Task Stop_as_a_plain_string_ends_the_completion()
    {
        using var http = server.CreateClient();
        var full = Api.Text((await Api.PostOkAsync(http, "v1/completions", new { prompt = "Once upon a time", max_tokens = 16, temperature = 0 }))["choices"]![0]!["text"]);
        var (stop, at) = Api.StopWithin(full);

        var stopped = (await Api.PostOkAsync(http, "v1/completions", new { prompt = "Once upon a time", max_tokens = 16, temperature = 0, stop }))["choices"]![0]!;

        Assert.Equal(full[..at], Api.Text(stopped["text"]));
        Assert.Equal("stop", Api.Text(stopped["finish_reason"]));
    }

    [Fact]
    public async Task Streamed_completion_is_framed_as_OpenAI_frames_it_with_a_usage_chunk_and_DONE_last()
    {
        using var http = server.CreateClient();
        var whole = await Api.PostOkAsync(http, "v1/completions", new { model = "demo-sql", prompt = "Once upon a time", max_tokens = 6, temperature = 0 });

        var data = await Api.PostSseAsync(http, "v1/completions",
            new { model = "demo-sql", prompt = "Once upon a time", max_tokens = 6, temperature = 0, stream = true, stream_options = new { include_usage = true } });

        Assert.Equal("[DONE]", data[^1]);
        var chunks = data[..^1].Select(Api.Parse).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", Api.Text(c["object"])));
        Assert.Single(chunks.Select(c => Api.Text(c["id"])).Distinct());
        // Text chunks, then one chunk with the finish reason, then the usage chunk with no choices.
        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.Equal(6, Api.Int(usageChunk["usage"]!["completion_tokens"]));
        Assert.Equal(Api.Int(whole["usage"]!["prompt_tokens"]), Api.Int(usageChunk["usage"]!["prompt_tokens"]));
        var choices = chunks[..^1].Select(c => c["choices"]!.AsArray().Single()!).ToList();
        Assert.Equal("length", Api.Text(choices[^1]["finish_reason"]));
        Assert.All(choices[..^1], c => Assert.Null(c["finish_reason"]));
        Assert.All(chunks[..^1], c => Assert.False(c.ContainsKey("usage")));
        Assert.Equal(Api.Text(whole["choices"]![0]!["text"]), string.Concat(choices.Select(c => Api.Text(c["text"]))));
    }

    [Fact]
    public async Task Streamed_chat_without_include_usage_has_no_usage_chunk()
    {
        using var http = server.CreateClient();
        var data = await Api.PostSseAsync(http, "v1/chat/completions", Api.Chat("demo-support", "Hi", 4, ("temperature", 0), ("stream", true)));

        Assert.Equal("[DONE]", data[^1]);
        var chunks = data[..^1].Select(Api.Parse).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", Api.Text(c["object"])));
        Assert.All(chunks, c => Assert.False(c.ContainsKey("usage")));
        var deltas = chunks.Select(c => c["choices"]!.AsArray().Single()!).ToList();
        // The first delta names the role (as OpenAI's does); the last has the finish reason and an empty delta.
        Assert.Equal("assistant", Api.Text(deltas[0]["delta"]!["role"]));
        Assert.Equal("length", Api.Text(deltas[^1]["finish_reason"]));
        Assert.Empty(deltas[^1]["delta"]!.AsObject());
        Assert.True(deltas.Count(d => d["delta"]!["content"] is JsonValue v && v.GetValue<string>().Length > 0) >= 2);
    }

    [Fact]
    public async Task Max_completion_tokens_is_honoured_and_conflicting_max_tokens_refused()
    {
        using var http = server.CreateClient();
        var answer = await Api.PostOkAsync(http, "v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Hi" } },
            max_completion_tokens = 3,
            temperature = 0,
        });
        Assert.Equal(3, Api.Int(answer["usage"]!["completion_tokens"]));

        await Api.PostErrorAsync(http, "v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Hi" } },
            max_completion_tokens = 3,
            max_tokens = 4,
        }, System.Net.HttpStatusCode.BadRequest, "invalid_request_error", "max_completion_tokens");
    }

    [Fact]
    public async Task Penalties_and_top_k_take_effect()
    {
        using var http = server.CreateClient();
        async Task<string> Text(object body) => Api.Text((await Api.PostOkAsync(http, "v1/completions", body))["choices"]![0]!["text"]);

        string greedy = await Text(new { prompt = "Once upon a time", max_tokens = 12, temperature = 0 });
        // top_k 1 (vLLM's extension) leaves only the most likely token: sampling at temperature 1 is then greedy.
        string topOne = await Text(new { prompt = "Once upon a time", max_tokens = 12, temperature = 1, seed = 3, top_k = 1 });
        // The greedy text repeats one token; each penalty on repeats must change it.
        string presence = await Text(new { prompt = "Once upon a time", max_tokens = 12, temperature = 0, presence_penalty = 2.0 });
        string frequency = await Text(new { prompt = "Once upon a time", max_tokens = 12, temperature = 0, frequency_penalty = 2.0 });
        string repetition = await Text(new { prompt = "Once upon a time", max_tokens = 12, temperature = 0, repetition_penalty = 3.0 });

        Assert.Equal(greedy, topOne);
        Assert.NotEqual(greedy, presence);
        Assert.NotEqual(greedy, frequency);
        Assert.NotEqual(greedy, repetition);
    }
}
