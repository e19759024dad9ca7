using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Cluster.Tests.InProcess;

[Collection(ClusterCollection.Name)]
public sealed class BadInputTests(ClusterFixture fixture)
{
    private OrleansLoraClient Client => new(fixture.Client);

    private static GenerateRequest Prompt(string text, int maxTokens = 4) => new() { Prompt = text, MaxTokens = maxTokens, Temperature = 0, IgnoreEos = true };

    [Fact]
    public async Task UnknownAdapterIsAdapterNotFound()
    {
        var ex = await Assert.ThrowsAsync<AdapterNotFoundException>(() => Client.GenerateAsync("no-such-adapter", Prompt("hi")));
        Assert.Contains("no-such-adapter", ex.Message);
        Assert.Equal("no-such-adapter", ex.AdapterId);
        await Assert.ThrowsAsync<AdapterNotFoundException>(() => Client.DescribeAdapterAsync("no-such-adapter"));
    }

    [Fact]
    public async Task AdapterFailingValidationIsRefusedWithTheReason()
    {
        string id = "bad-dora";
        string dir = fixture.Files.WriteAdapter(id, rank: 4, seed: 9);
        string config = Path.Combine(dir, "adapter_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"use_dora\": false", "\"use_dora\": true"));
        Assert.Contains("\"use_dora\": true", File.ReadAllText(config));

        var ex = await Assert.ThrowsAsync<AdapterValidationException>(() => Client.RegisterAdapterAsync(id));
        Assert.Contains("use_dora", ex.Message);
        Assert.Contains(id, ex.Message);

        // On first use (store directory, never registered) the same refusal reaches the caller.
        var onUse = await Assert.ThrowsAnyAsync<Exception>(() => Client.GenerateAsync(id, Prompt("hi")));
        Assert.Contains("use_dora", onUse.Message);
        await StillServes();
    }

    [Fact]
    public async Task SourceOutsideTheStoreIsRefused()
    {
        var ex = await Assert.ThrowsAsync<AdapterSourceRefusedException>(() => Client.RegisterAdapterAsync("escape", "../model"));
        Assert.Contains("\"..\"", ex.Message);
        await Assert.ThrowsAsync<AdapterSourceRefusedException>(() => Client.RegisterAdapterAsync("escape2", "/etc"));
    }

    [Fact]
    public async Task EmptyPromptIsInvalidAndNamesPrompt()
    {
        var ex = await Assert.ThrowsAsync<InvalidRequestException>(() => Client.GenerateAsync(TestFiles.AdapterId(1), Prompt("")));
        Assert.Equal("prompt", ex.Param);
        Assert.Contains("empty", ex.Message);
        await StillServes();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(100_000)]
    public async Task MaxTokensOutOfRangeIsInvalidAndNamesMaxTokens(int maxTokens)
    {
        var ex = await Assert.ThrowsAsync<InvalidRequestException>(() => Client.GenerateAsync(TestFiles.AdapterId(2), Prompt("hello", maxTokens)));
        Assert.Equal("max_tokens", ex.Param);
        Assert.Contains(maxTokens.ToString(), ex.Message);
        await StillServes();
    }

    [Fact]
    public async Task OutOfRangeSamplingParameterIsInvalidAndNamesIt()
    {
        var ex = await Assert.ThrowsAsync<InvalidRequestException>(() => Client.GenerateAsync(null, Prompt("hello") with { TopP = 1.5f }));
        Assert.Equal("top_p", ex.Param);
    }

    [Fact]
    public async Task PromptLongerThanTheContextIsContextLengthExceeded()
    {
        var ex = await Assert.ThrowsAsync<ContextLengthExceededException>(() => Client.GenerateAsync(null, new GenerateRequest { PromptTokenIds = Enumerable.Repeat(42, 400).ToArray(), MaxTokens = 2 }));
        Assert.Equal(400, ex.PromptTokens);
    }

    [Fact]
    public async Task TheClientRefusesBeforeSendingAndTheWorkerChecksWhatSkippedTheClient()
    {
        // The client: synchronously, at the call, nothing sent.
        var early = Assert.Throws<InvalidRequestException>(() => Client.StreamAsync(null, Prompt("hello") with { Temperature = float.NaN }));
        Assert.Equal("temperature", early.Param);

        // A caller that talks to the grain directly gets the same check, on the worker.
        var grain = fixture.Client.GetGrain<OrleansLora.Grains.IAdapterGrain>(TestFiles.AdapterId(2));
        foreach (var (bad, param) in new (GenerateRequest, string)[]
        {
            (Prompt("hello") with { TopP = 1.5f }, "top_p"),
            (Prompt("hello") with { RepetitionPenalty = 0 }, "repetition_penalty"),
            (Prompt("hello") with { Stop = ["ok", ""] }, "stop"),
            (Prompt("hello") with { Logprobs = 21 }, "logprobs"),
            (new GenerateRequest { Messages = [new ChatMessageItem("wizard", "hi")] }, "messages[0].role"),
            (Prompt("hello", 100_000), "max_tokens"),
        })
        {
            var ex = await Assert.ThrowsAsync<InvalidRequestException>(async () =>
            {
                await foreach (var _ in grain.Generate(bad))
                {
                }
            });
            Assert.Equal(param, ex.Param);
        }
        await StillServes();
    }

    private async Task StillServes()
    {
        var ok = await Client.GenerateAsync(TestFiles.AdapterId(0), Prompt("still there?", 2));
        Assert.Equal(2, ok.Usage.CompletionTokens);
    }
}
