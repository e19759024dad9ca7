using System.Net;
using System.Text.Json.Nodes;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>vLLM's /tokenize and /detokenize: the ids a generation would use, round trips, and 400s naming the field.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TokenizeTests(GatewayFixture server)
{
    private const string BadRequest = "invalid_request_error";
    private const string Text = "The café served crème brûlée 🍮 and";

    private static List<int> Tokens(JsonObject answer) => answer["tokens"]!.AsArray().Select(t => Api.Int(t)).ToList();

    [Fact]
    public async Task A_text_prompt_tokenizes_as_a_completion_counts_it_and_detokenizes_back()
    {
        using var http = server.CreateClient();
        var answer = await Api.PostOkAsync(http, "tokenize", new { model = "demo-sql", prompt = Text });
        var completion = await Api.PostOkAsync(http, "v1/completions", new { model = "demo-sql", prompt = Text, max_tokens = 1 });

        var tokens = Tokens(answer);
        Assert.Equal(["count", "max_model_len", "tokens"], answer.Select(p => p.Key));
        Assert.Equal(tokens.Count, Api.Int(answer["count"]));
        Assert.Equal(Api.Int(completion["usage"]!["prompt_tokens"]), tokens.Count);
        Assert.Equal(1024, Api.Int(answer["max_model_len"]));

        var plain = Tokens(await Api.PostOkAsync(http, "tokenize", new { prompt = Text, add_special_tokens = false }));
        Assert.True(plain.Count is > 0 && plain.Count <= tokens.Count);
        Assert.Equal(plain, tokens.TakeLast(plain.Count)); // at most a BOS in front
        var back = await Api.PostOkAsync(http, "detokenize", new { model = "demo-sql", tokens = plain });
        Assert.Equal(Text, Api.Text(back["prompt"]));
    }

    [Fact]
    public async Task Messages_tokenize_through_the_chat_template_as_a_chat_completion_does()
    {
        using var http = server.CreateClient();
        var messages = new object[] { new { role = "system", content = "Be brief." }, new { role = "user", content = Text } };
        var answer = await Api.PostOkAsync(http, "tokenize", new { model = "demo-poet", messages });
        var chat = await Api.PostOkAsync(http, "v1/chat/completions", new { model = "demo-poet", messages, max_tokens = 1 });
        Assert.Equal(Api.Int(chat["usage"]!["prompt_tokens"]), Api.Int(answer["count"]));

        // Without the generation prompt the text ends after the user's turn: fewer tokens, the same beginning.
        var bare = Tokens(await Api.PostOkAsync(http, "tokenize", new { model = "demo-poet", messages, add_generation_prompt = false }));
        Assert.True(bare.Count < Api.Int(answer["count"]));
        Assert.Equal(bare, Tokens(answer).Take(bare.Count));
    }

    [Fact]
    public async Task Bad_requests_are_400s_naming_the_field()
    {
        using var http = server.CreateClient();
        await Api.PostErrorAsync(http, "tokenize", new { model = "demo-sql" }, HttpStatusCode.BadRequest, BadRequest, "prompt");
        await Api.PostErrorAsync(http, "tokenize", new { prompt = "a", messages = new[] { new { role = "user", content = "b" } } }, HttpStatusCode.BadRequest, BadRequest, "messages");
        await Api.PostErrorAsync(http, "tokenize", new { messages = new[] { new { role = "robot", content = "b" } } }, HttpStatusCode.BadRequest, BadRequest, "messages[0].role");
        await Api.PostErrorAsync(http, "tokenize", new { prompt = "a", add_special_tokens = "yes" }, HttpStatusCode.BadRequest, BadRequest, "add_special_tokens");
        await Api.PostErrorAsync(http, "tokenize", new { prompt = "a", add_generation_prompt = true }, HttpStatusCode.BadRequest, BadRequest, "add_generation_prompt");
        await Api.PostErrorAsync(http, "detokenize", new { model = "demo-sql" }, HttpStatusCode.BadRequest, BadRequest, "tokens");
        await Api.PostErrorAsync(http, "detokenize", new { tokens = new[] { 1, -1 } }, HttpStatusCode.BadRequest, BadRequest, "tokens[1]");
        await Api.PostErrorAsync(http, "detokenize", new { tokens = new object[] { 1, "two" } }, HttpStatusCode.BadRequest, BadRequest, "tokens[1]");
        var outside = await Api.PostErrorAsync(http, "detokenize", new { tokens = new[] { 1, 2, 10_000_000 } }, HttpStatusCode.BadRequest, BadRequest, "tokens[2]");
        Assert.Contains("10000000", Api.Text(outside["message"]));
        await Api.PostErrorAsync(http, "tokenize", new { model = "nope", prompt = "a" }, HttpStatusCode.NotFound, BadRequest, "model");
    }
}
