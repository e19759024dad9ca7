using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>
/// A worker with <c>Devices = cuda:0,cuda:1</c> under host emulation: both CUDA runner engines appear in /info and
/// /metrics with their kind, name and memory, and /v1/adapters names the device each adapter is on, one adapter on each.
/// </summary>
public sealed class EmulatedCudaReportTests(EmulatedCudaGatewayFixture server) : IClassFixture<EmulatedCudaGatewayFixture>
{
    [Fact]
    public async Task Both_cuda_devices_are_reported_and_serve_adapters_named_in_the_adapter_list()
    {
        using var http = server.CreateClient();
        var devices = (await DeviceReport.ReadAsync(http)).OrderBy(d => d.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(["0", "1"], devices.Select(d => d.Key[(d.Key.LastIndexOf('|') + 1)..]));
        Assert.Single(devices.Select(d => d.Key[..d.Key.LastIndexOf('|')]).Distinct()); // one silo
        foreach (var d in devices)
        {
            // Host emulation computes in host memory: kind "cpu", named as the CUDA runner's emulation.
            Assert.Equal("cpu", d.Kind);
            Assert.StartsWith("CUDA runner host emulation on ", d.Name, StringComparison.Ordinal);
            Assert.InRange(d.Used, 1, d.Total);
            Assert.Equal(d.Total, d.TotalMetric);
            Assert.Equal(d.Used, d.UsedMetric);
            Assert.Equal("cpu", d.TotalLabels!["kind"]);
            Assert.Equal(d.Name, d.TotalLabels["name"]);
        }

        // One pinnable slot per device: the first adapter pins on one device, the second on the other.
        string[] adapters = [server.WriteAdapter(seed: 51), server.WriteAdapter(seed: 52)];
        foreach (var adapter in adapters)
        {
            var completion = await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(adapter, "Hold me", 3));
            Assert.Equal(3, Api.Int(completion["usage"]!["completion_tokens"]));
        }
        var placed = new List<(string Device, string Name)>();
        foreach (var adapter in adapters)
            placed.Add(await DeviceReport.ListedDeviceAsync(http, adapter));
        Assert.Equal(devices.Select(d => (d.Key, d.Name)), placed.OrderBy(p => p.Device, StringComparer.Ordinal));
    }
}
