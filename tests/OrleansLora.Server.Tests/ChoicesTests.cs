using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OrleansLora.Grains.Devices;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>
/// OpenAI's <c>n</c> and <c>best_of</c>: several samples of one prompt, sample i seeded with seed + i, the prompt
/// prefilled once, the usage summed as OpenAI sums it (the prompt once, every generated token). Over raw HTTP: the .NET SDK has no <c>n</c>.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ChoicesTests(GatewayFixture server)
{
    private const int MaxTokens = 5;

    private static Dictionary<string, object?> Chat(int n, long seed, params (string Key, object? Value)[] extra) =>
        Api.Chat("demo-poet", "Tell me a story.", MaxTokens, [("n", n), ("seed", seed), ("temperature", 1.0), ("ignore_eos", true), .. extra]);

    [Fact]
    public async Task Chat_n_answers_n_choices_each_the_sample_of_its_own_seed_with_usage_summed()
    {
        using var http = server.CreateClient();
        var engine = server.Services.GetRequiredService<DeviceEngines>()[0];
        long prefilledBefore = engine.Statistics.PrefillTokens;
        var answer = await Api.PostOkAsync(http, "v1/chat/completions", Chat(3, 40));
        long prefilled = engine.Statistics.PrefillTokens - prefilledBefore;

        var choices = answer["choices"]!.AsArray();
        Assert.Equal([0, 1, 2], choices.Select(c => Api.Int(c!["index"])));
        for (int i = 0; i < 3; i++)
        {
            var single = await Api.PostOkAsync(http, "v1/chat/completions", Chat(1, 40 + i));
            Assert.Equal(Api.Text(single["choices"]![0]!["message"]!["content"]), Api.Text(choices[i]!["message"]!["content"]));
            if (i == 0)
                Assert.Equal(Api.Int(single["usage"]!["prompt_tokens"]), Api.Int(answer["usage"]!["prompt_tokens"]));
        }
        // The samples reach the engine one grain call apart; those that find another still running copy its prompt's
        // keys and values and run only the last prompt token (exactly one prefill: SharedPrefillTests in the engine).
        int promptTokens = Api.Int(answer["usage"]!["prompt_tokens"]);
        Assert.True(prefilled < 3 * promptTokens, $"{prefilled} prompt tokens prefilled for 3 samples of {promptTokens}: nothing was shared");
        Assert.True(choices.Select(c => Api.Text(c!["message"]!["content"])).Distinct().Count() > 1, "three seeds gave the same text");
        Assert.Equal(3 * MaxTokens, Api.Int(answer["usage"]!["completion_tokens"]));
        Assert.Equal(Api.Int(answer["usage"]!["prompt_tokens"]) + 3 * MaxTokens, Api.Int(answer["usage"]!["total_tokens"]));
    }

    [Fact]
    public async Task Streamed_chat_n_interleaves_choices_each_with_its_role_text_and_finish_then_one_summed_usage()
    {
        using var http = server.CreateClient();
        var whole = await Api.PostOkAsync(http, "v1/chat/completions", Chat(2, 7));
        var data = await Api.PostSseAsync(http, "v1/chat/completions", Chat(2, 7, ("stream", true), ("stream_options", new { include_usage = true })));

        Assert.Equal("[DONE]", data[^1]);
        var chunks = data[..^1].Select(Api.Parse).ToList();
        var usage = chunks[^1];
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(2 * MaxTokens, Api.Int(usage["usage"]!["completion_tokens"]));
        var text = new[] { new StringBuilder(), new StringBuilder() };
        var finishes = new int[2];
        var roles = new int[2];
        foreach (var chunk in chunks[..^1])
        {
            var choice = chunk["choices"]!.AsArray().Single()!;
            int index = Api.Int(choice["index"]);
            Assert.Equal(0, finishes[index]); // nothing of a choice after its finish chunk
            if (choice["delta"]!["role"] is not null)
                roles[index]++;
            if (choice["delta"]!["content"] is { } content)
                text[index].Append(Api.Text(content));
            if (choice["finish_reason"] is { } finish)
            {
                Assert.Equal("length", Api.Text(finish));
                finishes[index]++;
            }
        }
        Assert.Equal([1, 1], roles);
        Assert.Equal([1, 1], finishes);
        for (int i = 0; i < 2; i++)
            Assert.Equal(Api.Text(whole["choices"]![i]!["message"]!["content"]), text[i].ToString());
    }

    [Fact]
    public async Task Completions_best_of_returns_the_n_candidates_with_the_highest_mean_logprob()
    {
        using var http = server.CreateClient();
        object Body(int n, int bestOf, long seed, int? logprobs) => new { model = "demo-poet", prompt = "Once upon a time", max_tokens = MaxTokens, temperature = 1.0, seed, n, best_of = bestOf, logprobs, ignore_eos = true };

        var answer = await Api.PostOkAsync(http, "v1/completions", Body(2, 4, 100, null));
        var choices = answer["choices"]!.AsArray();
        Assert.Equal([0, 1], choices.Select(c => Api.Int(c!["index"])));
        Assert.All(choices, c => Assert.Null(c!["logprobs"])); // computed to rank, not returned unasked
        Assert.Equal(4 * MaxTokens, Api.Int(answer["usage"]!["completion_tokens"])); // every candidate counts

        // The four candidates one by one (seed + i), ranked by mean token log-probability.
        var candidates = new List<(string Text, double Mean)>();
        for (int i = 0; i < 4; i++)
        {
            var single = (await Api.PostOkAsync(http, "v1/completions", Body(1, 1, 100 + i, 0)))["choices"]![0]!;
            var values = single["logprobs"]!["token_logprobs"]!.AsArray().Select(v => v!.GetValue<double>()).ToList();
            candidates.Add((Api.Text(single["text"]), values.Average()));
        }
        var best = candidates.OrderByDescending(c => c.Mean).Take(2).Select(c => c.Text);
        Assert.Equal(best, choices.Select(c => Api.Text(c!["text"])));
    }

    [Fact]
    public async Task Streamed_completions_n_sends_every_choice()
    {
        using var http = server.CreateClient();
        var data = await Api.PostSseAsync(http, "v1/completions", new { prompt = "Once upon a time", max_tokens = MaxTokens, n = 3, seed = 5, temperature = 1.0, ignore_eos = true, stream = true });
        var finished = data[..^1].Select(Api.Parse).SelectMany(c => c["choices"]!.AsArray()).Where(c => c!["finish_reason"] is not null).Select(c => Api.Int(c!["index"]));
        Assert.Equal([0, 1, 2], finished.Order());
    }
}
