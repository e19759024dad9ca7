using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Generation;
using OrleansLora.Grains.Metrics;

namespace OrleansLora.Cluster.Tests.InProcess;

[Collection(ClusterCollection.Name)]
public sealed class MetricsTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AdapterAndDeviceMetricsMatchTheTrafficSent()
    {
        string id = TestFiles.AdapterId(11);
        var sums = new ConcurrentDictionary<string, double>();
        var devices = new ConcurrentDictionary<string, byte>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == OrleansLoraMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? adapter = null, outcome = null, device = null;
            foreach (var t in tags)
            {
                if (t.Key == "adapter") adapter = t.Value as string;
                if (t.Key == "outcome") outcome = t.Value as string;
                if (t.Key == "device") device = t.Value as string;
            }
            if (device is not null)
                devices[$"{instrument.Name}|{device}"] = 0;
            if (adapter == id)
                sums.AddOrUpdate($"{instrument.Name}|{outcome}", value, (_, v) => v + value);
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        var client = new OrleansLoraClient(fixture.Client);
        int prompt = 0, generated = 0;
        for (int i = 0; i < 3; i++)
        {
            var r = await client.GenerateAsync(id, new GenerateRequest { Prompt = $"request number {i}", MaxTokens = 3 + i, Temperature = 0, IgnoreEos = true });
            prompt += r.Usage.PromptTokens;
            generated += r.Usage.CompletionTokens;
        }
        listener.RecordObservableInstruments();

        Assert.Equal(3, sums.GetValueOrDefault("olora.adapter.requests|ok"));
        Assert.Equal(prompt, sums.GetValueOrDefault("olora.adapter.prompt_tokens|"));
        Assert.Equal(generated, sums.GetValueOrDefault("olora.adapter.generated_tokens|"));
        Assert.Equal(3 + 4 + 5, generated);
        Assert.Contains(devices.Keys, k => k.StartsWith("olora.device.batch_size|", StringComparison.Ordinal));
        foreach (var gauge in new[] { "max_loras", "adapter_slots", "adapter_slots_swap", "adapter_slots_used", "adapter_slots_pinned", "requests_per_second", "kv_blocks", "kv_blocks_used", "kv_blocks_cached", "prefix_hit_rate" })
            Assert.Contains(devices.Keys, k => k.StartsWith($"olora.device.{gauge}|", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestsForUnknownAdaptersShareOneTagAndTakeNoneOfTheBoundedOnes()
    {
        var tags = new ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "olora.adapter.requests")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, _, t, _) =>
        {
            foreach (var tag in t)
                if (tag.Key == "adapter")
                    tags.Add((string)tag.Value!);
        });
        listener.Start();

        var client = new OrleansLoraClient(fixture.Client);
        string[] names = ["no-such-adapter-1", "no-such-adapter-2"];
        foreach (var name in names)
            await Assert.ThrowsAsync<OrleansLora.Errors.AdapterNotFoundException>(() => client.GenerateAsync(name, new GenerateRequest { Prompt = "x", MaxTokens = 1 }));

        Assert.Equal([AdapterTagLimiter.UnknownTag, AdapterTagLimiter.UnknownTag], tags.ToArray());
    }

    [Fact]
    public void AdapterTagsAreBounded()
    {
        var limiter = new AdapterTagLimiter(2);
        Assert.Equal("a", limiter.Tag("a"));
        Assert.Equal("b", limiter.Tag("b"));
        Assert.Equal(AdapterTagLimiter.OtherTag, limiter.Tag("c"));
        Assert.Equal("a", limiter.Tag("a"));
        Assert.Equal(AdapterTagLimiter.BaseTag, limiter.Tag(OrleansLora.Adapters.AdapterIds.BaseModel));
    }
}
