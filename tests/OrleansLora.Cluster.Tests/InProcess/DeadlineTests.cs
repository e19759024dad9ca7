using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Errors;
using OrleansLora.Generation;
using OrleansLora.Grains;
using OrleansLora.Grains.Metrics;

namespace OrleansLora.Cluster.Tests.InProcess;

/// <summary>
/// No request hangs silently (issue 12 item 15): a request that waits past a deadline ends with
/// <see cref="DeadlineExceededException"/> naming the wait, and counts as an error in the metrics.
/// The deadlines run on the fixture's fake clock, so the test expires one without waiting for it.
/// </summary>
public sealed class DeadlineTests(SwapSlotClusterFixture fixture) : IClassFixture<SwapSlotClusterFixture>
{
    [Fact]
    public async Task ARequestWaitingPastItsFirstTokenDeadlineFailsAndCountsAsAnError()
    {
        string id = TestFiles.AdapterId(12);
        var counted = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == OrleansLoraMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var t = new Dictionary<string, object?>();
            foreach (var tag in tags)
                t[tag.Key] = tag.Value;
            if (t.GetValueOrDefault("adapter") as string == id)
                counted.AddOrUpdate($"{instrument.Name}|{t.GetValueOrDefault("outcome") ?? t.GetValueOrDefault("error.type")}", value, (_, v) => v + value);
        });
        listener.Start();

        // A long generation takes the device's only batch row...
        var adapter = fixture.Client.GetGrain<IAdapterGrain>(id);
        int longTokens = SwapSlotClusterFixture.MaxSequenceLength - 24;
        var running = adapter.Generate(new GenerateRequest { Prompt = "a long story", MaxTokens = longTokens, Temperature = 0, IgnoreEos = true }).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync());
        Assert.True(running.Current.IsAcceptance); // the grain holds it; the next chunk is its first token
        Assert.True(await running.MoveNextAsync());
        string device = (await adapter.Describe()).Device!;

        // ...so the next request waits for admission, past its first-token deadline.
        var waiting = Collect(adapter.Generate(new GenerateRequest { Prompt = "my turn", MaxTokens = 4, Temperature = 0, IgnoreEos = true }));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await fixture.Client.GetGrain<IGpuGrain>(device).GetLoad()).WaitingRequests == 0)
        {
            Assert.False(waiting.IsCompleted, $"the second request on {id} finished before it ever waited: {waiting.Status}");
            Assert.True(DateTime.UtcNow < deadline, $"the second request on {id} never showed up as waiting on {device}");
            await Task.Delay(20);
        }
        SwapSlotClusterFixture.DeadlineClock.Advance(SwapSlotClusterFixture.FirstTokenDeadline + TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<DeadlineExceededException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("first_token", error.Phase);
        Assert.Equal(id, error.AdapterId);
        Assert.Contains("OrleansLora:Deadlines:FirstToken", error.Message, StringComparison.Ordinal);

        // The running generation kept its own deadline (next token, an hour here) and completes.
        int tokens = running.Current.TokenIds.Count;
        while (await running.MoveNextAsync())
            tokens += running.Current.TokenIds.Count;
        await running.DisposeAsync();
        Assert.Equal(longTokens, tokens);

        listener.RecordObservableInstruments();
        Assert.Equal(1, counted.GetValueOrDefault("olora.adapter.requests|error"));
        Assert.Equal(1, counted.GetValueOrDefault($"olora.adapter.errors|{nameof(DeadlineExceededException)}"));
        Assert.Equal(0, counted.GetValueOrDefault("olora.adapter.requests|cancelled"));
        Assert.Equal(1, counted.GetValueOrDefault("olora.adapter.requests|ok"));
    }

    private static async Task<int> Collect(IAsyncEnumerable<GenerateChunk> chunks)
    {
        int tokens = 0;
        await foreach (var chunk in chunks)
            tokens += chunk.TokenIds.Count;
        return tokens;
    }
}
