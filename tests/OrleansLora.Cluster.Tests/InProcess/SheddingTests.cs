using OrleansLora.Adapters;
using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Generation;
using OrleansLora.Grains;

namespace OrleansLora.Cluster.Tests.InProcess;

public sealed class SheddingTests(SheddingClusterFixture fixture) : IClassFixture<SheddingClusterFixture>
{
    [Fact]
    public async Task ASaturatedDeviceShedsAnAdapterWhichComesBackOnTheOtherSilo()
    {
        var client = new OrleansLoraClient(fixture.Client);
        // Four activations over two silos: at least two land on the same one.
        var placed = new List<AdapterDescription>();
        for (int i = 0; i < 4; i++)
            placed.Add(await client.DescribeAdapterAsync(TestFiles.AdapterId(i)));
        var crowded = placed.GroupBy(d => d.Device).First(g => g.Count() >= 2);
        string[] pair = crowded.Take(2).Select(d => d.AdapterId).ToArray();
        string busyDevice = crowded.Key!;

        // Long requests on two adapters of one device whose batch holds two, kept twelve deep for a fixed
        // wall-clock span well past ShedAfter (1 s): the device stays saturated (two running, more waiting)
        // however fast this machine decodes, while the other silo sits idle with free slots. A fixed request
        // count saturated a fast CI machine for only 1.3 s. Feeding then stops, since an adapter migrates only
        // once its own work is done.
        static GenerateRequest Request(int maxTokens) => new() { Prompt = "Once upon a time", MaxTokens = maxTokens, Temperature = 0, IgnoreEos = true };
        var streams = new List<Task<GenerateResult>>();
        var started = DateTime.UtcNow;
        var feeder = Task.Run(async () =>
        {
            while (DateTime.UtcNow - started < TimeSpan.FromSeconds(5))
            {
                lock (streams)
                {
                    while (streams.Count(t => !t.IsCompleted) < 12)
                        streams.Add(client.GenerateAsync(pair[streams.Count % 2], Request(120)));
                }
                await Task.Delay(50);
            }
        });

        var observed = new List<string>(); // what the busy device published, for the failure message
        string? movedTo = null;
        string? moved = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (movedTo is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            var busy = fixture.Loads().Where(l => l.Key == busyDevice);
            observed.AddRange(busy.Select(l => $"{(DateTime.UtcNow - started).TotalSeconds:F1}s: running {l.RunningSequences}/{l.MaxBatchSize}, waiting {l.WaitingRequests}, pinned {l.PinnedAdapters}"));
            foreach (var id in pair)
            {
                // Describe re-activates a shed adapter, and placement chooses its silo again.
                var d = await client.DescribeAdapterAsync(id);
                if (d.Device != busyDevice)
                    (moved, movedTo) = (id, d.Device);
            }
        }

        await feeder;
        var results = await Task.WhenAll(streams);
        Assert.True(movedTo is not null, $"neither {pair[0]} nor {pair[1]} left {busyDevice} within 90 s of saturating it; its device published: {string.Join("; ", observed.Distinct().Take(40))}");
        Assert.NotNull(moved);
        Assert.Equal("gpu", (await client.DescribeAdapterAsync(moved!)).Residency);
        // Shedding waits for the adapter's work: every request completed with all its tokens.
        Assert.All(results, r =>
        {
            Assert.Equal(GenerateFinishReason.Length, r.FinishReason);
            Assert.Equal(120, r.Usage.CompletionTokens);
        });
        // And it serves from its new silo.
        var after = await client.GenerateAsync(moved, Request(4));
        Assert.Equal(4, after.Usage.CompletionTokens);
    }
}
