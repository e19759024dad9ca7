using Orleans.Core.Internal;
using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Generation;
using OrleansLora.Grains;

namespace OrleansLora.Cluster.Tests.InProcess;

/// <summary>
/// The engine is the only record of pins (issue 12 item 13). A GPU grain that the runtime deactivates and
/// re-creates — as directory recovery does when a silo leaves — must not forget the engine's pins and hand
/// the swap slot to a new pin, which left every unpinned adapter of the device waiting forever.
/// </summary>
public sealed class PinRecordTests(SwapSlotClusterFixture fixture) : IClassFixture<SwapSlotClusterFixture>
{
    private static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AReCreatedGpuGrainKeepsTheEnginesPinsAndUnpinnedAdaptersStillServe()
    {
        var client = new OrleansLoraClient(fixture.Client);
        // Fill every pinnable slot: two devices with two each.
        string[] first = [.. Enumerable.Range(0, 2 * SwapSlotClusterFixture.Pinnable).Select(TestFiles.AdapterId)];
        foreach (var id in first)
            Assert.Equal("gpu", (await client.DescribeAdapterAsync(id)).Residency);
        var keys = fixture.Loads().Select(l => l.Key).ToList();
        Assert.Equal(2, keys.Count);

        // The runtime drops both GPU grains; each comes back as a new activation.
        foreach (var key in keys)
        {
            var gpu = fixture.Client.GetGrain<IGpuGrain>(key);
            int activations = Activations(key);
            await gpu.Cast<IGrainManagementExtension>().DeactivateOnIdle();
            await WaitUntil(async () =>
            {
                await gpu.GetLoad();
                return Activations(key) > activations;
            }, $"GPU grain {key} re-activated (it logged {activations} activations before)");
        }

        // Re-created, they report the engine's pins, and a repeated pin is no second pin.
        foreach (var key in keys)
        {
            var gpu = fixture.Client.GetGrain<IGpuGrain>(key);
            var load = await gpu.GetLoad();
            Assert.Equal(SwapSlotClusterFixture.Pinnable, load.PinnedAdapters);
            // By name too: what placement reads to send an adapter back to its pin.
            Assert.Equal(SwapSlotClusterFixture.Pinnable, load.PinnedAdapterIds.Count);
            Assert.All(load.PinnedAdapterIds, id => Assert.Contains(id, first));
        }
        var onFirstDevice = (await client.DescribeAdapterAsync(first[0])).Device!;
        var again = await fixture.Client.GetGrain<IGpuGrain>(onFirstDevice).Pin(first[0], first[0]);
        Assert.True(again.Pinned);
        Assert.Equal(SwapSlotClusterFixture.Pinnable, (await fixture.Client.GetGrain<IGpuGrain>(onFirstDevice).GetLoad()).PinnedAdapters);

        // New adapters find the pinnable slots taken: they run unpinned, through the swap slot.
        string[] more = [.. Enumerable.Range(first.Length, 4).Select(TestFiles.AdapterId)];
        foreach (var id in more)
            Assert.NotEqual("gpu", (await client.DescribeAdapterAsync(id)).Residency);
        foreach (var key in keys)
        {
            var load = await fixture.Client.GetGrain<IGpuGrain>(key).GetLoad();
            Assert.True(load.PinnedAdapters <= load.AdapterSlots, $"device {key} holds {load.PinnedAdapters} pins for {load.AdapterSlots} pinnable slots: the swap slot was pinned");
        }

        // And every adapter, pinned or not, serves.
        foreach (var id in first.Concat(more))
        {
            var generate = client.GenerateAsync(id, new GenerateRequest { Prompt = "still serving", MaxTokens = 3, Temperature = 0, IgnoreEos = true });
            var finished = await Task.WhenAny(generate, Task.Delay(RequestDeadline));
            Assert.True(finished == generate, $"a request on adapter {id} (after the GPU grains were re-created) did not finish within {RequestDeadline.TotalSeconds} s");
            Assert.Equal(3, (await generate).Usage.CompletionTokens);
        }
    }

    private static int Activations(string key) =>
        SwapSlotClusterFixture.GpuGrainLog.Messages.Count(m => m.StartsWith($"GPU grain {key} active", StringComparison.Ordinal));

    private static async Task WaitUntil(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out after 30 s waiting for: {what}.");
            await Task.Delay(100);
        }
    }
}
