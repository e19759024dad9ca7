using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>A worker with two CPU engines: each device appears once in /info and once per memory metric, with its own figures.</summary>
public sealed class MultiDeviceReportTests(TwoDeviceGatewayFixture server) : IClassFixture<TwoDeviceGatewayFixture>
{
    [Fact]
    public async Task Each_device_is_reported_once_with_its_name_and_memory()
    {
        using var http = server.CreateClient();
        var devices = await DeviceReport.ReadAsync(http);

        Assert.Equal(["0", "1"], devices.Select(d => d.Key[(d.Key.LastIndexOf('|') + 1)..]).Order(StringComparer.Ordinal));
        Assert.Single(devices.Select(d => d.Key[..d.Key.LastIndexOf('|')]).Distinct()); // one silo
        foreach (var d in devices)
        {
            Assert.Equal("cpu", d.Kind);
            Assert.Equal(devices[0].Name, d.Name);
            Assert.InRange(d.Used, 1, d.Total - 1);
            Assert.Equal(d.Total, d.TotalMetric);
            Assert.Equal(d.Used, d.UsedMetric);
        }
        // Each engine holds its own weights and KV cache: nothing is shared between the two, so the figures are equal.
        Assert.Equal(devices[0].Used, devices[1].Used);
        string metrics = await http.GetStringAsync("metrics");
        Assert.Equal(2, DeviceReport.Samples(metrics, "olora_device_memory_used_bytes").Count);
        Assert.Equal(2, DeviceReport.Samples(metrics, "olora_device_memory_total_bytes").Count);
    }
}
