using Orleans.Core.Internal;
using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Devices;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Generation;
using OrleansLora.Grains;

namespace OrleansLora.Cluster.Tests.InProcess;

[Collection(ClusterCollection.Name)]
public sealed class GenerationTests(ClusterFixture fixture)
{
    private OrleansLoraClient Client => new(fixture.Client);

    private static GenerateRequest Greedy(string prompt, int maxTokens) => Requests.Greedy(prompt, maxTokens);

    [Fact]
    public async Task StreamedTokensEqualTheEngineRunDirectlyForAdaptersAndTheBaseModel()
    {
        // An engine in the test process on the same files is the reference for what the cluster returns.
        using var engine = InferenceEngine.Create(new InferenceEngineOptions
        {
            ModelPath = fixture.Files.ModelPath,
            MaxSequenceLength = 160,
            KvCacheBytes = 8L * 1024 * 1024,
            MaxBatchSize = 2,
            MaxLoraRank = 16,
        });
        string[] adapters = [TestFiles.AdapterId(3), TestFiles.AdapterId(4)];
        foreach (var id in adapters)
            engine.RegisterAdapter(id, Path.Combine(fixture.Files.AdapterRoot, id));

        var outputs = new List<int[]>();
        foreach (var id in adapters.Append(null))
        {
            var chunks = new List<GenerateChunk>();
            await foreach (var chunk in Client.StreamAsync(id, Greedy("The quick brown fox", 12)))
                chunks.Add(chunk);
            Assert.True(chunks.Count > 1, "expected the tokens to arrive in more than one chunk");
            var last = chunks[^1];
            Assert.Equal(GenerateFinishReason.Length, last.FinishReason);
            Assert.Equal(12, last.Usage!.CompletionTokens);
            Assert.All(chunks.SkipLast(1), c => Assert.Null(c.FinishReason));
            int[] tokens = chunks.SelectMany(c => c.TokenIds).ToArray();

            var expected = new List<int>();
            await foreach (var c in engine.GenerateAsync(new GenerationRequest
            {
                Prompt = "The quick brown fox",
                AdapterId = id,
                Sampling = SamplingParams.Greedy with { MaxNewTokens = 12, IgnoreEos = true },
            }))
            {
                expected.AddRange(c.TokenIds);
            }
            Assert.Equal(expected, tokens);
            Assert.Equal(engine.Tokenizer.Decode(expected), string.Concat(chunks.Select(c => c.TextDelta)));
            outputs.Add(tokens);
        }
        Assert.NotEqual(outputs[0], outputs[2]);
        Assert.NotEqual(outputs[0], outputs[1]);
    }

    [Fact]
    public async Task ChatMessagesUseTheModelsChatTemplate()
    {
        var result = await Client.GenerateAsync(TestFiles.AdapterId(5), new GenerateRequest
        {
            Messages = [new("system", "Be brief."), new("user", "Hello")],
            MaxTokens = 5,
            Temperature = 0,
            IgnoreEos = true,
        });
        Assert.Equal(5, result.Usage.CompletionTokens);
        Assert.True(result.Usage.PromptTokens > 5, "the template adds its markers to the prompt");
    }

    [Fact]
    public async Task CancellingAStreamFreesTheSequenceOnTheDevice()
    {
        string id = TestFiles.AdapterId(6);
        var description = await Client.DescribeAdapterAsync(id);
        var device = fixture.Client.GetGrain<IGpuGrain>(description.Device!);
        using var cts = new CancellationTokenSource();
        int received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in Client.StreamAsync(id, Greedy("Once upon a time", 140), cts.Token))
            {
                received += chunk.TokenIds.Count;
                if (received >= 3)
                    cts.Cancel();
            }
        });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var load = await device.GetLoad();
            if (load.RunningSequences == 0 && load.WaitingRequests == 0)
                break;
            Assert.True(DateTime.UtcNow < deadline, $"the cancelled sequence still runs: {load.RunningSequences} running");
            await Task.Delay(50);
        }
        // And the adapter keeps serving.
        var after = await Client.GenerateAsync(id, Greedy("Once upon a time", 3));
        Assert.Equal(3, after.Usage.CompletionTokens);
    }

    [Fact]
    public async Task DeactivationUnpinsAndTheNextCallReactivatesTheAdapter()
    {
        string id = TestFiles.AdapterId(7);
        var before = await Client.DescribeAdapterAsync(id);
        Assert.Equal("gpu", before.Residency);
        var device = fixture.Client.GetGrain<IGpuGrain>(before.Device!);
        int pinnedBefore = (await device.GetLoad()).PinnedAdapters;

        // Deactivated, not shed: Shed moves the adapter to another silo, whose pinnable slots may all be taken (the
        // collection's 30 adapters fill 30 of 32), and there it would rightly run unpinned.
        await fixture.Client.GetGrain<IAdapterGrain>(id).Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await device.GetLoad()).PinnedAdapters != pinnedBefore - 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the deactivated adapter was not unpinned");
            await Task.Delay(50);
        }

        var result = await Client.GenerateAsync(id, Greedy("Hello again", 4));
        Assert.Equal(4, result.Usage.CompletionTokens);
        var after = await Client.DescribeAdapterAsync(id);
        if (after.Residency != "gpu")
        {
            // Say where it landed and what each device held, as the devices report it now and as placement last saw it.
            var now = await Task.WhenAll(fixture.Loads().Select(l => fixture.Client.GetGrain<IGpuGrain>(l.Key).GetLoad()));
            Assert.Fail($"reactivated as '{after.Residency}' on {after.Device} (before: pinned on {before.Device}, " +
                        $"{pinnedBefore} pins there); devices now: {string.Join("; ", now.Select(Describe))}; " +
                        $"placement's view: {string.Join("; ", fixture.Loads().Select(Describe))}");
        }
        Assert.True(after.Counters.Requests >= 1, "counters survive deactivation in grain storage");

        static string Describe(DeviceLoad l) =>
            $"{l.Key}: {l.PinnedAdapters}/{l.AdapterSlots} pinned, {l.WaitingRequests} waiting, {l.RunningSequences} running";
    }
}
