using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Models;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>The CPU device as /info and /metrics report it: kind, name, memory total and what the engine holds.</summary>
[Collection(GatewayCollection.Name)]
public sealed class DeviceReportTests(GatewayFixture server)
{
    [Fact]
    public async Task Info_and_metrics_report_the_cpu_its_name_and_the_memory_the_engine_holds()
    {
        using var http = server.CreateClient();
        var device = Assert.Single(await DeviceReport.ReadAsync(http));

        Assert.Equal("cpu", device.Kind);
        Assert.Matches(@"^\S.* \((scalar|avx2|avx512|amx)\)$", device.Name); // the CPU's model, then the kernels' ISA
        // Held: the weights (float32 in memory, at least the checkpoint's bytes on disk) and the KV cache the configuration
        // reserves (MaxBatchSize full-length sequences, or fewer when the budget is smaller).
        var options = server.Services.GetRequiredService<IOptions<InferenceEngineOptions>>().Value;
        var config = ModelConfig.Load(server.ModelDirectory);
        long perSequence = 2L * config.NumHiddenLayers * config.NumKeyValueHeads * options.MaxSequenceLength * config.HeadDim * 4;
        long kv = Math.Min(Math.Max(options.MaxBatchSize, 1) * perSequence, options.KvCacheBytes); // a sequence slot per batch row
        long files = Directory.GetFiles(server.ModelDirectory, "*.safetensors").Sum(f => new FileInfo(f).Length);
        Assert.InRange(device.Used, kv + files, device.Total - 1);

        // /metrics: the same figures, labelled with the device's key, name and kind.
        Assert.Equal(device.Total, device.TotalMetric);
        Assert.Equal(device.Used, device.UsedMetric);
        Assert.Equal(device.Name, device.TotalLabels!["name"]);
        Assert.Equal("cpu", device.TotalLabels["kind"]);
    }

    [Fact]
    public async Task Adapters_list_the_names_of_the_devices_that_hold_them()
    {
        string adapter = server.WriteAdapter(seed: 41);
        using var http = server.CreateClient();
        await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(adapter, "Hold me", 2));
        var device = Assert.Single(await DeviceReport.ReadAsync(http));

        Assert.Equal((device.Key, device.Name), await DeviceReport.ListedDeviceAsync(http, adapter));
    }
}
