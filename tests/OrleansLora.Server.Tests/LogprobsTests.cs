using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>
/// Log-probabilities on every API: OpenAI chat through the official SDK (streamed and not), legacy completions and
/// LoRAX over raw HTTP. Greedy requests, so the chosen token is always the most likely one and both paths agree.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class LogprobsTests(GatewayFixture server)
{
    private const string Prompt = "Write a short greeting.";
    private const string BadRequest = "invalid_request_error";

    private ChatClient Client(string model) =>
        new(model, new ApiKeyCredential("any-key"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });

    private static ChatCompletionOptions Options() =>
        new() { MaxOutputTokenCount = 8, Temperature = 0, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 };

    [Fact]
    public async Task Chat_returns_each_tokens_logprob_bytes_and_top_logprobs_through_the_SDK()
    {
        var completion = (await Client("demo-support").CompleteChatAsync([new UserChatMessage(Prompt)], Options())).Value;

        var tokens = completion.ContentTokenLogProbabilities;
        Assert.Equal(completion.Usage.OutputTokenCount, tokens.Count);
        foreach (var t in tokens)
        {
            Assert.True(t.LogProbability <= 0);
            Assert.Equal(3, t.TopLogProbabilities.Count);
            // Greedy: the chosen token is the most likely one, with the same log-probability.
            Assert.Equal(t.Token, t.TopLogProbabilities[0].Token);
            Assert.Equal(t.LogProbability, t.TopLogProbabilities[0].LogProbability);
            Assert.True(t.TopLogProbabilities.Zip(t.TopLogProbabilities.Skip(1)).All(p => p.First.LogProbability >= p.Second.LogProbability));
        }
        // The tokens' bytes spell the answer (a token may hold part of a character, so bytes, not token strings).
        var bytes = tokens.SelectMany(t => t.Utf8Bytes!.Value.ToArray()).ToArray();
        if (completion.FinishReason == ChatFinishReason.Length)
            Assert.Equal(completion.Content[0].Text, Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public async Task Streamed_chat_logprobs_equal_the_unstreamed_ones()
    {
        var whole = (await Client("demo-sql").CompleteChatAsync([new UserChatMessage(Prompt)], Options())).Value;

        var streamed = new List<ChatTokenLogProbabilityDetails>();
        await foreach (var update in Client("demo-sql").CompleteChatStreamingAsync([new UserChatMessage(Prompt)], Options()))
            streamed.AddRange(update.ContentTokenLogProbabilities);

        Assert.Equal(whole.ContentTokenLogProbabilities.Select(t => (t.Token, t.LogProbability)), streamed.Select(t => (t.Token, t.LogProbability)));
        Assert.Equal(
            whole.ContentTokenLogProbabilities.SelectMany(t => t.TopLogProbabilities.Select(a => (a.Token, a.LogProbability))),
            streamed.SelectMany(t => t.TopLogProbabilities.Select(a => (a.Token, a.LogProbability))));
    }

    [Fact]
    public async Task Chat_without_logprobs_answers_null_logprobs()
    {
        using var http = server.CreateClient();
        var answer = await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 3));
        var choice = answer["choices"]![0]!.AsObject();
        Assert.True(choice.ContainsKey("logprobs"));
        Assert.Null(choice["logprobs"]);
    }

    [Fact]
    public async Task Completion_logprobs_have_tokens_token_logprobs_top_logprobs_and_text_offsets()
    {
        using var http = server.CreateClient();
        var body = new { model = "demo-poet", prompt = "Once upon a time", max_tokens = 6, temperature = 0, logprobs = 2, ignore_eos = true };
        var choice = (await Api.PostOkAsync(http, "v1/completions", body))["choices"]![0]!;
        var logprobs = choice["logprobs"]!;

        var tokens = logprobs["tokens"]!.AsArray().Select(t => Api.Text(t)).ToList();
        var values = logprobs["token_logprobs"]!.AsArray().Select(v => v!.GetValue<float>()).ToList();
        var top = logprobs["top_logprobs"]!.AsArray().Select(m => m!.AsObject()).ToList();
        var offsets = logprobs["text_offset"]!.AsArray().Select(o => Api.Int(o)).ToList();
        Assert.Equal(6, tokens.Count);
        Assert.Equal(6, values.Count);
        Assert.Equal(6, top.Count);
        Assert.Equal(0, offsets[0]);
        for (int i = 0; i < tokens.Count; i++)
        {
            Assert.True(values[i] <= 0);
            Assert.InRange(top[i].Count, 1, 3); // the top 2 and the chosen token (here one of them)
            Assert.Equal(values[i], top[i][tokens[i]]!.GetValue<float>());
            Assert.Equal(values[i], top[i].Max(p => p.Value!.GetValue<float>())); // greedy
            if (i > 0)
                Assert.Equal(offsets[i - 1] + tokens[i - 1].Length, offsets[i]);
        }

        // Streamed, the same tokens and values, with the offsets continuing across chunks.
        var data = await Api.PostSseAsync(http, "v1/completions", new { model = "demo-poet", prompt = "Once upon a time", max_tokens = 6, temperature = 0, logprobs = 2, ignore_eos = true, stream = true });
        var parts = data[..^1].Select(Api.Parse).Select(c => c["choices"]![0]!["logprobs"]).Where(l => l is not null).ToList();
        Assert.Equal(tokens, parts.SelectMany(l => l!["tokens"]!.AsArray().Select(t => Api.Text(t))));
        Assert.Equal(values, parts.SelectMany(l => l!["token_logprobs"]!.AsArray().Select(v => v!.GetValue<float>())));
        Assert.Equal(offsets, parts.SelectMany(l => l!["text_offset"]!.AsArray().Select(o => Api.Int(o))));
    }

    [Fact]
    public async Task LoRAX_details_carry_each_tokens_logprob_and_top_n_tokens()
    {
        using var http = server.CreateClient();
        var answer = await Api.PostOkAsync(http, "generate", new { inputs = "The capital of France is", parameters = new { adapter_id = "demo-sql", max_new_tokens = 5, details = true, top_n_tokens = 2 } });

        var details = answer["details"]!;
        var tokens = details["tokens"]!.AsArray();
        var top = details["top_tokens"]!.AsArray();
        Assert.Equal(5, tokens.Count);
        Assert.Equal(5, top.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            float logprob = tokens[i]!["logprob"]!.GetValue<float>();
            Assert.True(logprob <= 0);
            var alternatives = top[i]!.AsArray();
            Assert.Equal(2, alternatives.Count);
            Assert.Equal(Api.Int(tokens[i]!["id"]), Api.Int(alternatives[0]!["id"])); // greedy (LoRAX's default)
            Assert.Equal(logprob, alternatives[0]!["logprob"]!.GetValue<float>());
        }

        // Without top_n_tokens: logprobs but no top_tokens; the stream carries every token's logprob.
        var plain = await Api.PostOkAsync(http, "generate", new { inputs = "The capital of France is", parameters = new { adapter_id = "demo-sql", max_new_tokens = 5, details = true } });
        Assert.False(plain["details"]!.AsObject().ContainsKey("top_tokens"));
        Assert.Equal(tokens.Select(t => t!["logprob"]!.GetValue<float>()), plain["details"]!["tokens"]!.AsArray().Select(t => t!["logprob"]!.GetValue<float>()));
        var events = (await Api.PostSseAsync(http, "generate_stream", new { inputs = "The capital of France is", parameters = new { adapter_id = "demo-sql", max_new_tokens = 5, top_n_tokens = 2 } })).Select(Api.Parse).ToList();
        Assert.Equal(tokens.Select(t => t!["logprob"]!.GetValue<float>()), events.Select(e => e["token"]!["logprob"]!.GetValue<float>()));
        Assert.All(events, e => Assert.Equal(2, e["top_tokens"]!.AsArray().Count));
    }

    [Fact]
    public async Task Bad_logprob_requests_are_400s_naming_the_field()
    {
        using var http = server.CreateClient();
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 2, ("logprobs", true), ("top_logprobs", 21)), HttpStatusCode.BadRequest, BadRequest, "top_logprobs");
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 2, ("top_logprobs", 2)), HttpStatusCode.BadRequest, BadRequest, "top_logprobs");
        await Api.PostErrorAsync(http, "v1/completions", new { prompt = "hi", logprobs = 21 }, HttpStatusCode.BadRequest, BadRequest, "logprobs");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { top_n_tokens = 21 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.top_n_tokens");
        var prefill = await Api.PostErrorAsync(http, "generate_stream", new { inputs = "hi", parameters = new { details = true, decoder_input_details = true } }, HttpStatusCode.BadRequest, BadRequest, "parameters.decoder_input_details");
        Assert.Contains("/generate", Api.Text(prefill["message"]));
    }

    [Fact]
    public async Task LoRAX_decoder_input_details_list_the_prompt_tokens_with_their_logprobs()
    {
        using var http = server.CreateClient();
        const string inputs = "The capital of France is Paris, and";
        var ids = (await Api.PostOkAsync(http, "tokenize", new { prompt = inputs }))["tokens"]!.AsArray().Select(Api.Int).ToList();
        var details = (await Api.PostOkAsync(http, "generate", new { inputs, parameters = new { adapter_id = "demo-sql", max_new_tokens = 3, details = true, decoder_input_details = true } }))["details"]!;
        var prefill = details["prefill"]!.AsArray();
        Assert.Equal(ids, prefill.Select(t => Api.Int(t!["id"])).ToList());
        Assert.Equal(Api.Int(details["prompt_tokens"]), prefill.Count);
        Assert.Equal(inputs, string.Concat(prefill.Select(t => Api.Text(t!["text"]))));
        Assert.Null(prefill[0]!["logprob"]); // nothing predicts the first token
        Assert.All(prefill.Skip(1), t => Assert.InRange(t!["logprob"]!.GetValue<float>(), JsonLogprobFloor, 0f));
        Assert.Equal(3, details["tokens"]!.AsArray().Count);

        // Without decoder_input_details (or without details) there is no prefill.
        var plain = (await Api.PostOkAsync(http, "generate", new { inputs, parameters = new { adapter_id = "demo-sql", max_new_tokens = 3, details = true } }))["details"]!;
        Assert.Null(plain["prefill"]);
    }

    [Fact]
    public async Task Completion_echo_with_logprobs_puts_the_prompts_tokens_and_logprobs_first_streamed_or_not()
    {
        using var http = server.CreateClient();
        const string prompt = "Once upon a time there was";
        var ids = (await Api.PostOkAsync(http, "tokenize", new { prompt }))["tokens"]!.AsArray().Count;
        var answer = await Api.PostOkAsync(http, "v1/completions", new { model = "demo-poet", prompt, max_tokens = 4, temperature = 0, ignore_eos = true, echo = true, logprobs = 2, n = 2 });
        List<float?>? promptLogprobs = null;
        foreach (var choice in answer["choices"]!.AsArray())
        {
            Assert.StartsWith(prompt, Api.Text(choice!["text"]));
            var logprobs = choice["logprobs"]!;
            var tokens = logprobs["tokens"]!.AsArray().Select(Api.Text).ToList();
            Assert.Equal(ids + 4, tokens.Count); // the prompt's tokens, then the generated ones
            Assert.Equal(prompt, string.Concat(tokens.Take(ids)));
            Assert.Equal(Api.Text(choice["text"]), string.Concat(tokens));
            var values = logprobs["token_logprobs"]!.AsArray().Select(v => v?.GetValue<float>()).ToList();
            Assert.Null(values[0]);
            Assert.Null(logprobs["top_logprobs"]![0]);
            Assert.All(values.Skip(1), v => Assert.InRange(v!.Value, JsonLogprobFloor, 0f));
            Assert.All(logprobs["top_logprobs"]!.AsArray().Skip(1), t => Assert.InRange(t!.AsObject().Count, 1, 3));
            var offsets = logprobs["text_offset"]!.AsArray().Select(Api.Int).ToList();
            Assert.Equal(0, offsets[0]);
            for (int i = 1; i < offsets.Count; i++)
                Assert.Equal(offsets[i - 1] + tokens[i - 1].Length, offsets[i]);
            // The prompt is the same for both choices, and so are its log-probabilities.
            promptLogprobs ??= values.Take(ids).ToList();
            Assert.Equal(promptLogprobs, values.Take(ids).ToList());
        }

        // Streamed: each choice's first event is the prompt with its log-probabilities.
        var events = (await Api.PostSseAsync(http, "v1/completions", new { model = "demo-poet", prompt, max_tokens = 4, temperature = 0, ignore_eos = true, echo = true, logprobs = 2, stream = true }))
            .Where(d => d != "[DONE]").Select(Api.Parse).ToList();
        var first = events[0]["choices"]![0]!;
        Assert.Equal(prompt, Api.Text(first["text"]));
        Assert.Equal(promptLogprobs, first["logprobs"]!["token_logprobs"]!.AsArray().Select(v => v?.GetValue<float>()).ToList());
        Assert.Equal(ids + 4, events.Sum(e => e["choices"]!.AsArray().Sum(c => c!["logprobs"]?["tokens"]!.AsArray().Count ?? 0)));
    }

    private const float JsonLogprobFloor = -9999f;
}
