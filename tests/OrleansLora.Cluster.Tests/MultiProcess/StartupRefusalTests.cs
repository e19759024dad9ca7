using Xunit.Abstractions;

namespace OrleansLora.Cluster.Tests.MultiProcess;

/// <summary>
/// Values a silo cannot serve with are refused when it starts, with exit code 2 and a message naming the option
/// (issue 12 items 12 and 14): a port another silo listens on — Orleans' listener would otherwise share it
/// (SO_REUSEPORT) and the kernel would split the connections — no swap slot, a deadline out of range.
/// </summary>
public sealed class StartupRefusalTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(90);
    private readonly TestFiles _files = new(1, "olora-startup");
    private readonly List<SiloProcess> _silos = [];

    private SiloProcess Start(string name, IEnumerable<string>? extra = null, int? siloPort = null, int? gatewayPort = null)
    {
        var silo = new SiloProcess(name, _files.Root,
            ["--model", _files.ModelPath, "--adapters", _files.AdapterRoot, "--data", Path.Combine(_files.Root, name), "--OrleansLora:Engine:Threads=1", .. extra ?? []],
            siloPort, gatewayPort);
        _silos.Add(silo);
        return silo;
    }

    private async Task AssertRefused(SiloProcess silo, params string[] expected)
    {
        Assert.True(await silo.WaitForExitAsync(ExitWithin), $"silo {silo.Name} still runs {ExitWithin.TotalSeconds} s after start; it should have refused to start:\n{silo.Tail()}");
        string log = silo.Log();
        output.WriteLine($"{silo.Name}: exit {silo.ExitCode}: {log.Split('\n').LastOrDefault(l => l.Contains("configuration error", StringComparison.Ordinal))}");
        Assert.True(silo.ExitCode == 2, $"silo {silo.Name} exited with {silo.ExitCode}, not 2 (configuration error):\n{silo.Tail()}");
        foreach (var text in expected)
            Assert.True(log.Contains(text, StringComparison.Ordinal), $"silo {silo.Name}'s output does not say \"{text}\":\n{silo.Tail()}");
    }

    [Fact]
    public async Task NoSwapSlotIsRefused() =>
        await AssertRefused(Start("swap-slots-0", ["--OrleansLora:Worker:SwapSlots=0"]), "configuration error: OrleansLora:Worker:SwapSlots must be in [1, MaxLoras");

    [Fact]
    public async Task ADeadlineOutOfRangeIsRefused() =>
        await AssertRefused(Start("next-token-0", ["--OrleansLora:Deadlines:NextToken=00:00:00"]), "configuration error: OrleansLora:Deadlines:NextToken must be in (0, 1 h]");

    [Fact]
    public async Task ACudaDeviceWithoutAGpuIsRefusedWithTheReason() =>
        await AssertRefused(Start("cuda-0", ["--devices", "cuda:0"]), "configuration error: OrleansLora:Worker:Devices = cuda:0, but no CUDA device is usable: ");

    [Fact]
    public async Task AMalformedDevicesValueIsRefused() =>
        await AssertRefused(Start("devices-gpu", ["--devices", "gpu0"]), "configuration error: OrleansLora:Worker:Devices = 'gpu0' is invalid ('gpu0' is not cuda:N)");

    [Fact]
    public async Task ASiloGivenAnotherSilosPortFailsAtStartNamingThePort()
    {
        var first = Start("first");
        await first.WaitForHealthAsync(TimeSpan.FromSeconds(90));

        await AssertRefused(Start("same-silo-port", siloPort: first.SiloPort), $"OrleansLora:Server:SiloPort {first.SiloPort} on 127.0.0.1 is already in use");
        await AssertRefused(Start("same-gateway-port", gatewayPort: first.GatewayPort), $"OrleansLora:Server:GatewayPort {first.GatewayPort} on 127.0.0.1 is already in use");
        Assert.False(first.HasExited, $"the first silo stopped:\n{first.Tail()}");
        using var http = new HttpClient();
        Assert.True((await http.GetAsync($"{first.BaseUrl}/health")).IsSuccessStatusCode, "the first silo no longer answers /health");
    }

    [Fact]
    public async Task OfTwoSilosStartedAtOnceOnTheSamePortsOnlyOneRuns()
    {
        int siloPort = FreePort.Next(), gatewayPort = FreePort.Next();
        // Both pass the check before start-up (nobody listens yet); the check right after binding catches it.
        var pair = new[] { Start("twin-1", siloPort: siloPort, gatewayPort: gatewayPort), Start("twin-2", siloPort: siloPort, gatewayPort: gatewayPort) };
        var healthy = await Task.WhenAll(pair.Select(async s =>
        {
            try
            {
                await s.WaitForHealthAsync(TimeSpan.FromSeconds(90));
                return true;
            }
            catch (InvalidOperationException) when (s.HasExited)
            {
                return false;
            }
        }));
        output.WriteLine($"healthy: {string.Join(", ", healthy)}");
        var refused = pair.Where((_, i) => !healthy[i]).ToList();
        Assert.True(refused.Count >= 1, $"both silos run on silo port {siloPort} and gateway port {gatewayPort}:\n{pair[0].Tail(5)}\n{pair[1].Tail(5)}");
        foreach (var silo in refused)
            await AssertRefused(silo, "configuration error: OrleansLora:Server:", "is already in use");
    }

    public void Dispose()
    {
        foreach (var silo in _silos)
            silo.Dispose();
        _files.Dispose();
    }
}
