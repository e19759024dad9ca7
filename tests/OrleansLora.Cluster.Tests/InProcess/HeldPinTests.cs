using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Orleans.Core.Internal;
using Orleans.TestingHost;
using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Devices;
using OrleansLora.Grains;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Cluster.Tests.InProcess;

/// <summary>
/// A pin kept for an adapter whose activation the runtime dropped (directory failure after a silo left): the
/// device publishes it among its pinned ids, so placement sends the adapter back; the re-created activation
/// claims it, and a pin nobody claims is released after <see cref="HeldPins.Grace"/>, as an idle deactivation would.
/// Driven on the real engines of a real cluster, with the grace on a fake clock.
/// </summary>
public sealed class HeldPinTests(SwapSlotClusterFixture fixture) : IClassFixture<SwapSlotClusterFixture>
{
    [Fact]
    public async Task AHeldPinStaysPublishedUntilClaimedAndOneNobodyClaimsIsReleasedAfterTheGrace()
    {
        var client = new OrleansLoraClient(fixture.Client);
        string claimed = TestFiles.AdapterId(0), abandoned = TestFiles.AdapterId(1);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var holders = new Dictionary<SiloAddress, HeldPins>();
        var devices = new Dictionary<string, (string Key, HeldPins Held, int Device)>();
        foreach (var id in new[] { claimed, abandoned })
        {
            var description = await client.DescribeAdapterAsync(id);
            Assert.Equal("gpu", description.Residency);
            Assert.True(DeviceKey.TryParse(description.Device!, out var silo, out int device));
            if (!holders.TryGetValue(silo, out var held))
            {
                var engines = fixture.Cluster.Silos.OfType<InProcessSiloHandle>().Single(s => s.SiloAddress.Equals(silo)).SiloHost.Services.GetRequiredService<DeviceEngines>();
                holders[silo] = held = new HeldPins(engines, clock, NullLogger<HeldPins>.Instance);
            }
            devices[id] = (description.Device!, held, device);
            Assert.Contains(id, (await Gpu(description.Device!).GetLoad()).PinnedAdapterIds);
        }

        foreach (var (id, (_, held, device)) in devices)
            held.Hold(device, id);
        Assert.Contains(claimed, devices[claimed].Held.HeldOn(devices[claimed].Device));
        Assert.True(devices[claimed].Held.Claim(devices[claimed].Device, claimed));
        Assert.False(devices[claimed].Held.Claim(devices[claimed].Device, claimed)); // claimed once only
        Assert.DoesNotContain(claimed, devices[claimed].Held.HeldOn(devices[claimed].Device));

        // Until the grace ends, the abandoned pin stays, published for placement.
        clock.Advance(HeldPins.Grace - TimeSpan.FromSeconds(1));
        await Task.Delay(200);
        Assert.Contains(abandoned, (await Gpu(devices[abandoned].Key).GetLoad()).PinnedAdapterIds);

        clock.Advance(TimeSpan.FromSeconds(1));
        for (var deadline = DateTime.UtcNow.AddSeconds(30); (await Gpu(devices[abandoned].Key).GetLoad()).PinnedAdapterIds.Contains(abandoned);)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the pin held for {abandoned} was not released {HeldPins.Grace.TotalSeconds} s after it was held");
            await Task.Delay(100);
        }
        Assert.Empty(devices[abandoned].Held.HeldOn(devices[abandoned].Device));
        // The claimed pin is untouched by the grace.
        Assert.Contains(claimed, (await Gpu(devices[claimed].Key).GetLoad()).PinnedAdapterIds);
        foreach (var held in holders.Values)
            held.Dispose();
    }

    [Fact]
    public async Task AnAdapterTheRuntimeDropsForADirectoryFailureComesBackToItsPinWhileOneDeactivatedOnPurposeReleasesIt()
    {
        var client = new OrleansLoraClient(fixture.Client);
        string id = TestFiles.AdapterId(2);
        var before = await client.DescribeAdapterAsync(id);
        Assert.Equal("gpu", before.Residency);
        string device = before.Device!;
        Assert.True(DeviceKey.TryParse(device, out var silo, out int index));
        var held = fixture.Cluster.Silos.OfType<InProcessSiloHandle>().Single(s => s.SiloAddress.Equals(silo)).SiloHost.Services.GetRequiredService<HeldPins>();
        int pins = (await Gpu(device).GetLoad()).PinnedAdapters;

        // What directory recovery does to the activations whose entries a leaving silo held.
        var grain = fixture.Client.GetGrain<IAdapterGrain>(id);
        var activation = ActivationRecorder.Find(grain.GetGrainId());
        activation.Deactivate(new DeactivationReason(DeactivationReasonCode.DirectoryFailure, "test: the silo holding its directory entry left"));
        await WaitUntil(() => !ActivationRecorder.IsLive(activation), $"the activation of {id} deactivated");
        Assert.Contains(id, held.HeldOn(index));
        var load = await Gpu(device).GetLoad();
        Assert.Contains(id, load.PinnedAdapterIds);
        Assert.Equal(pins, load.PinnedAdapters);

        // The next call re-creates it: placed back on the device that holds its pin, which it claims.
        var after = await client.DescribeAdapterAsync(id);
        Assert.Equal(device, after.Device);
        Assert.Equal("gpu", after.Residency);
        Assert.DoesNotContain(id, held.HeldOn(index));
        Assert.Equal(pins, (await Gpu(device).GetLoad()).PinnedAdapters);

        // Deactivated on purpose (idle collection, a management request), it releases its pin at once.
        var again = ActivationRecorder.Find(grain.GetGrainId());
        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await WaitUntil(() => !ActivationRecorder.IsLive(again), $"the activation of {id} deactivated on request");
        await WaitUntil(async () => !(await Gpu(device).GetLoad()).PinnedAdapterIds.Contains(id), $"the pin of {id} released");
        Assert.Empty(held.HeldOn(index));
    }

    private static Task WaitUntil(Func<bool> condition, string what) => WaitUntil(() => Task.FromResult(condition()), what);

    private static Task WaitUntil(Func<Task<bool>> condition, string what) => Phases.WaitUntil(condition, TimeSpan.FromSeconds(30), "held pins", what);

    private IGpuGrain Gpu(string key) => fixture.Client.GetGrain<IGpuGrain>(key);
}
