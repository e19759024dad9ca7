using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>
/// The official OpenAI .NET SDK against the real server: if the SDK can parse what the server writes, so can the
/// clients people already use. (The SDK has no typed client for the legacy /v1/completions; those are in
/// <see cref="CompletionsTests"/> over raw HTTP.)
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAiSdkTests(GatewayFixture server)
{
    private const string Prompt = "Write a short greeting.";

    private ChatClient Client(string model) =>
        new(model, new ApiKeyCredential("any-key"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });

    [Fact]
    public async Task Chat_answers_with_text_usage_and_finish_reason()
    {
        var completion = (await Client("demo-support").CompleteChatAsync([new UserChatMessage(Prompt)], new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0 })).Value;

        Assert.Equal("demo-support", completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(6, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id);
    }

    [Fact]
    public async Task Streamed_chat_equals_the_unstreamed_answer_and_ends_with_usage()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 };
        var whole = (await Client("demo-sql").CompleteChatAsync([new UserChatMessage(Prompt)], options)).Value;

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        int updates = 0;
        await foreach (var update in Client("demo-sql").CompleteChatStreamingAsync([new UserChatMessage(Prompt)], options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.True(updates > 2, $"expected the text in several updates, got {updates}");
        Assert.Equal(ChatFinishReason.Length, finish);
        // The SDK asks for stream_options.include_usage: the server's last chunk carries the usage.
        Assert.NotNull(usage);
        Assert.Equal(8, usage.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task Max_output_tokens_bounds_the_answer()
    {
        var completion = (await Client(server.BaseModelName).CompleteChatAsync([new UserChatMessage(Prompt)], new ChatCompletionOptions { MaxOutputTokenCount = 3, Temperature = 0 })).Value;

        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_answer_before_it()
    {
        var chat = Client("demo-poet");
        var full = (await chat.CompleteChatAsync([new UserChatMessage(Prompt)], new ChatCompletionOptions { MaxOutputTokenCount = 16, Temperature = 0 })).Value.Content[0].Text;
        var (stop, at) = Api.StopWithin(full);

        var options = new ChatCompletionOptions { MaxOutputTokenCount = 16, Temperature = 0 };
        options.StopSequences.Add(stop);
        var stopped = (await chat.CompleteChatAsync([new UserChatMessage(Prompt)], options)).Value;

        Assert.Equal(full[..at], stopped.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
    }

#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; the server supports it.
    [Fact]
    public async Task The_same_seed_gives_the_same_sampled_text_and_another_seed_another()
    {
        var chat = Client("demo-support");
        async Task<string> Sample(long seed) =>
            (await chat.CompleteChatAsync([new UserChatMessage(Prompt)], new ChatCompletionOptions { MaxOutputTokenCount = 16, Temperature = 1, Seed = seed })).Value.Content[0].Text;

        string first = await Sample(42);
        string again = await Sample(42);
        string other = await Sample(43);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Two_adapters_and_the_base_model_answer_the_same_prompt_differently()
    {
        async Task<string> Answer(string model) =>
            (await Client(model).CompleteChatAsync([new UserChatMessage(Prompt)], new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0.7f, Seed = 5 })).Value.Content[0].Text;

        string baseText = await Answer(server.BaseModelName);
        string support = await Answer("demo-support");
        string sql = await Answer("demo-sql");

        Assert.Equal(3, new HashSet<string> { baseText, support, sql }.Count);
        // Same model, same seed: the difference above comes from the adapters, not from chance.
        Assert.Equal(sql, await Answer("demo-sql"));
    }
#pragma warning restore OPENAI001

    [Fact]
    public async Task Models_lists_the_base_model_and_the_adapters()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential("any-key"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });
        var models = (await client.GetModelsAsync()).Value.Select(m => m.Id).ToList();

        Assert.Contains(server.BaseModelName, models);
        Assert.Contains("demo-support", models);
        Assert.Contains("demo-sql", models);
        Assert.Contains("demo-poet", models);
    }
}
