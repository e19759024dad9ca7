using Xunit.Abstractions;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>
/// A cluster of real silo processes on a real redis-server, for the multi-process tests: the files (tiny model,
/// adapter store), Redis, the silos it started, and on dispose their logs kept in <c>artifacts/test-logs</c>
/// under <paramref name="name"/> for a failure's post-mortem.
/// </summary>
public sealed class SiloCluster(string name, int adapters, ITestOutputHelper output) : IDisposable
{
    private readonly List<SiloProcess> _silos = [];

    public TestFiles Files { get; } = new(adapters, $"olora-{name}");
    public RedisServerProcess Redis { get; } = new();
    public string ClusterId { get; } = $"test-{Guid.NewGuid():n}"[..16];
    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>
    /// Starts a silo process with the test engine settings. <paramref name="fastFailureDetection"/> declares a
    /// killed silo dead in about 2 s (one missed 1 s probe pair, one vote); a test that kills nothing leaves
    /// Orleans' probe settings alone, since on a starved machine a slow start-up can miss 1 s probes too.
    /// </summary>
    /// <param name="adapterStore">False starts the silo without <c>--adapters</c> (a gateway-only silo needs no adapter store).</param>
    public SiloProcess Start(string silo, string role, IEnumerable<string>? extra = null, int? siloPort = null, int? gatewayPort = null, bool fastFailureDetection = true, bool adapterStore = true)
    {
        var process = new SiloProcess(silo, Files.Root,
        [
            "--role", role, "--clustering", "Redis", "--redis", Redis.ConnectionString, "--cluster-id", ClusterId,
            "--model", Files.ModelPath, .. adapterStore ? ["--adapters", Files.AdapterRoot] : Array.Empty<string>(), "--data", Path.Combine(Files.Root, silo),
            "--OrleansLora:Engine:MaxLoraRank=16", "--OrleansLora:Engine:MaxBatchSize=8",
            "--OrleansLora:Engine:MaxSequenceLength=256", "--OrleansLora:Engine:KvCacheBytes=33554432", "--OrleansLora:Engine:Threads=1",
            "--Orleans:Membership:TableRefreshTimeout=00:00:02", "--Orleans:Membership:IAmAliveTablePublishTimeout=00:00:05",
            // Placement and load publishing log at Debug: the kept logs explain a failed failover.
            "--Logging:LogLevel:OrleansLora.Grains.Placement=Debug", "--Logging:LogLevel:OrleansLora.Grains.Devices=Trace",
            .. fastFailureDetection ? FastFailureDetection : [],
            .. extra ?? [],
        ], siloPort, gatewayPort);
        _silos.Add(process);
        return process;
    }

    /// <summary>
    /// Waits for the silos' /health. Seconds on a quiet machine; the bound is generous because a 2-core machine
    /// shared with other builds has taken over 90 s to start a fourth silo.
    /// </summary>
    private static readonly string[] FastFailureDetection =
    [
        "--Orleans:Membership:ProbeTimeout=00:00:01", "--Orleans:Membership:NumMissedProbesLimit=2", "--Orleans:Membership:NumVotesForDeathDeclaration=1",
    ];

    public static Task WaitHealthy(params SiloProcess[] silos) =>
        Task.WhenAll(silos.Select(s => s.WaitForHealthAsync(TimeSpan.FromSeconds(180))));

    /// <summary>Waits until <paramref name="devices"/> devices publish their load and each adapter answers one request.</summary>
    public static async Task WaitServingAsync(GatewayClient http, HttpLoad load, int devices, IEnumerable<string> adapters)
    {
        await Phases.WaitUntil(async () => (await http.DevicesAsync()).Count == devices, TimeSpan.FromSeconds(60), "start-up", $"{devices} devices publishing");
        foreach (var id in adapters)
            await Phases.WaitUntil(async () => (await load.Send(id)).Status == 200, TimeSpan.FromSeconds(60), "warm-up", $"adapter {id} serving");
    }

    public void Dispose()
    {
        for (int i = _silos.Count - 1; i >= 0; i--)
            _silos[i].Dispose();
        Redis.Dispose();
        KeepLogs();
        Files.Dispose();
    }

    private void KeepLogs()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OrleansLora.sln")))
            dir = dir.Parent;
        if (dir is null)
            return;
        string target = Path.Combine(dir.FullName, "artifacts", "test-logs");
        Directory.CreateDirectory(target);
        foreach (var silo in _silos)
        {
            if (File.Exists(silo.LogPath))
                File.Copy(silo.LogPath, Path.Combine(target, $"{name}-{silo.Name}.log"), overwrite: true);
        }
        output.WriteLine($"silo logs kept in {target}/{name}-*.log");
    }
}
