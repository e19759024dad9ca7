using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansLora.Adapters;
using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Engine.Cuda;
using OrleansLora.Engine.Devices;
using OrleansLora.Generation;
using OrleansLora.Grains;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Cluster.Tests.InProcess;

/// <summary>
/// <c>Devices = cuda:0,cuda:1</c> with <c>CudaHostEmulation</c>: one GPU grain per listed CUDA device, each fronting its
/// own CUDA runner engine (host emulation context), both published, both serving. The wiring a GPU machine uses, with
/// the CUDA runner's forward on the CPU (the real-device path differs only in the context: compiled, not run on a GPU).
/// </summary>
public sealed class EmulatedCudaDevicesTests(EmulatedCudaClusterFixture fixture) : IClassFixture<EmulatedCudaClusterFixture>
{
    private const string EmulatedName = "CUDA runner host emulation on ";

    private OrleansLoraClient Client => new(fixture.Client);

    private IServiceProvider SiloServices => fixture.Cluster.Silos.OfType<InProcessSiloHandle>().Single().SiloHost.Services;

    private DeviceEngines Engines => SiloServices.GetRequiredService<DeviceEngines>();

    private static GenerateRequest Greedy(string prompt, int maxTokens) => Requests.Greedy(prompt, maxTokens);

    [Fact]
    public async Task EachListedCudaDeviceIsOneGpuGrainOverItsOwnCudaRunner()
    {
        var engines = Engines;
        Assert.Equal([DeviceTarget.EmulatedCuda(0), DeviceTarget.EmulatedCuda(1)], SiloServices.GetRequiredService<LocalDevices>().Targets);
        var runners = Enumerable.Range(0, engines.Count).Select(i => Assert.IsType<CudaModelRunner>(engines[i].Runner)).ToList();
        Assert.NotSame(runners[0], runners[1]);
        Assert.All(runners, r => Assert.True(r.IsHostEmulation, r.Description));

        // Published: the silo's view (what placement and /info read) holds both. A host-emulated runner computes in host
        // memory, so it reports kind "cpu" under a name that says it is the CUDA runner's emulation.
        var silo = fixture.Cluster.Silos.Single().SiloAddress;
        var loads = fixture.Loads().OrderBy(l => l.DeviceIndex).ToList();
        Assert.Equal([0, 1], loads.Select(l => l.DeviceIndex));
        Assert.All(loads, l =>
        {
            Assert.Equal(silo, l.Silo);
            Assert.Equal(DeviceDescription.Cpu, l.DeviceKind);
            Assert.StartsWith(EmulatedName, l.DeviceName, StringComparison.Ordinal);
            Assert.InRange(l.MemoryUsedBytes, 1, l.MemoryTotalBytes);
            Assert.Equal(EmulatedCudaClusterFixture.Pinnable, l.AdapterSlots);
        });
        Assert.NotEqual(loads[0].Key, loads[1].Key);

        // The GPU grains behind the keys answer for their own device.
        foreach (var published in loads)
        {
            var load = await fixture.Client.GetGrain<IGpuGrain>(published.Key).GetLoad();
            Assert.Equal(published.DeviceIndex, load.DeviceIndex);
            Assert.Equal(DeviceDescription.Cpu, load.DeviceKind);
            Assert.Equal(published.DeviceName, load.DeviceName);
        }
    }

    [Fact]
    public async Task AdaptersArePlacedOnBothDevicesAndEveryRequestIsServed()
    {
        // Two devices x two pinnable slots: activated one after another, four adapters fill both devices (placement
        // takes the device with the most free pinnable slots).
        string[] adapters = [.. Enumerable.Range(10, 2 * EmulatedCudaClusterFixture.Pinnable).Select(TestFiles.AdapterId)];
        var placed = new List<AdapterDescription>();
        foreach (var id in adapters)
            placed.Add(await Client.DescribeAdapterAsync(id));
        var byDevice = placed.GroupBy(d => d.Device).ToDictionary(g => g.Key ?? "(none)", g => g.Count());
        Assert.True(byDevice.Count == 2 && byDevice.Values.All(n => n == EmulatedCudaClusterFixture.Pinnable),
            $"expected {EmulatedCudaClusterFixture.Pinnable} adapters on each of 2 devices: {string.Join(", ", byDevice.Select(kv => $"{kv.Key}={kv.Value}"))}");

        var before = Enumerable.Range(0, Engines.Count).Select(i => Engines[i].Statistics.GeneratedTokens).ToArray();
        // Concurrent requests on every adapter and the base model, one prompt: each device batches its adapters' requests.
        const string Prompt = "The quick brown fox";
        const int Tokens = 12;
        var results = await Task.WhenAll(adapters.Append(null).Select(id => Client.GenerateAsync(id, Greedy(Prompt, Tokens))));
        Assert.All(results, r =>
        {
            Assert.Equal(GenerateFinishReason.Length, r.FinishReason);
            Assert.Equal(Tokens, r.TokenIds.Count);
            Assert.Equal(Tokens, r.Usage.CompletionTokens);
            Assert.All(r.TokenIds, t => Assert.InRange(t, 0, fixture.Files.Config.VocabSize - 1));
        });
        for (int i = 0; i < Engines.Count; i++)
            Assert.True(Engines[i].Statistics.GeneratedTokens >= before[i] + 2 * Tokens, $"device {i} generated {Engines[i].Statistics.GeneratedTokens - before[i]} tokens for its two adapters' requests");
        // Each adapter's weights reach its device's slot: its greedy tokens are not the base model's.
        for (int i = 0; i < adapters.Length; i++)
            Assert.NotEqual(results[^1].TokenIds, results[i].TokenIds);
    }
}
