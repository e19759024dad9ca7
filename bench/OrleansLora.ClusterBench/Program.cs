using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansLora.Bench;
using OrleansLora.Client;
using OrleansLora.ClusterBench;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Native;
using static TorchSharp.torch;

// Issues 5 and 6: the same streaming workload (N concurrent greedy requests over M adapters) on an engine in
// this process, through the Orleans client into a real olora-server child process, and through that server's
// OpenAI HTTP API. Only one path runs at a time (the others' engines sit idle on their wait handles); timed
// rounds are interleaved engine, orleans, http, engine, ... so drift on the shared machine hits all alike.
ClusterBenchOptions options;
try
{
    options = ClusterBenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"cluster bench: {ex.Message}");
    return 2;
}
NativeRuntime.EnsureInitialized();
set_num_threads(options.Threads);

var fixtures = BenchFixtures.Prepare(options);
var engineOptions = new InferenceEngineOptions
{
    ModelPath = fixtures.ModelDirectory,
    MaxLoras = options.Adapters,
    MaxLoraRank = options.Rank,
    MaxBatchSize = options.Concurrency,
    MaxBatchTokens = Math.Max(512, options.Concurrency),
    MaxSequenceLength = options.PromptTokens + options.NewTokens + 1,
    KvCacheBytes = 1L << 30, // at most MaxBatchSize slots are allocated; this only has to hold them
    Threads = options.Threads,
};

var report = new BenchReport();
report.Machine["cpu"] = MachineProbe.CpuModel();
report.Machine["cores_used"] = get_num_threads();
report.Machine["device"] = "cpu";
report.Machine["read_gbps"] = Math.Round(MachineProbe.ReadBandwidthGbps(), 2);
report.Machine["gemm_gflops"] = Math.Round(MachineProbe.GemmGflops(), 1);
Console.WriteLine($"machine: {report.Machine.ToJsonString()}");

using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(30));
await using var engine = InferenceEngine.Create(engineOptions);
foreach (string id in fixtures.AdapterIds)
{
    engine.RegisterAdapter(id, fixtures.AdapterDirectory(id));
    await engine.PinAdapterAsync(id, cts.Token);
}
var workload = new Workload(engine.Tokenizer, options, fixtures.AdapterIds);
var enginePath = new EnginePath(engine);
var warm = new Dictionary<string, RoundResult> { [PathNames.Engine] = await EngineWarmupAsync(enginePath, workload, options, new CpuMeter(null), cts.Token) };

await using var server = ServerProcess.Start(options.WorkDirectory, ServerArguments.For(fixtures, engineOptions, options.WorkDirectory));
await server.WaitReadyAsync(TimeSpan.FromMinutes(3));
Console.WriteLine($"server ready: gateway port {server.GatewayPort}, http port {server.HttpPort}, log {server.LogPath}");
var clientBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
clientBuilder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
clientBuilder.Services.AddOrleansLoraClient(o => o.GatewayPorts = [server.GatewayPort]);
using var clientHost = clientBuilder.Build();
await clientHost.StartAsync(cts.Token);
using var http = HttpPath.CreateClient(server.HttpPort);
var cpu = new CpuMeter(() => server.TotalProcessorTime);

var paths = new Dictionary<string, IGenerationPath>
{
    [PathNames.Engine] = enginePath,
    [PathNames.Orleans] = new OrleansPath(clientHost.Services.GetRequiredService<OrleansLoraClient>()),
    [PathNames.Http] = new HttpPath(http),
};
var order = PathNames.All.Where(options.Paths.Contains).ToList();

// Untimed warm-up per path: activates and pins the adapter grains, opens connections, JITs the code.
var equalToEngine = new Dictionary<string, int>();
foreach (string name in order.Where(n => n != PathNames.Engine))
{
    var round = await RoundResult.RunAsync(paths[name], workload.Items, cpu, cts.Token);
    round.Verify(options.PromptTokens, options.NewTokens);
    warm[name] = round;
    equalToEngine[name] = round.Requests.Count(r => r.Text == warm[PathNames.Engine].Requests[r.Index].Text);
    Console.WriteLine($"warm-up {name}: {round.TokensPerSecond:F1} tokens/s, {equalToEngine[name]}/{round.Requests.Count} outputs equal to the engine's");
}

var rounds = order.ToDictionary(n => n, _ => new List<RoundResult>());
for (int r = 0; r < options.Rounds; r++)
{
    foreach (string name in order)
    {
        GC.Collect(); // this process's garbage from the last round is not charged to the next path
        await Task.Delay(300, cts.Token); // let the previous path's threads go idle
        var round = await RoundResult.RunAsync(paths[name], workload.Items, cpu, cts.Token);
        round.Verify(options.PromptTokens, options.NewTokens);
        rounds[name].Add(round);
        Console.WriteLine($"round {r + 1}/{options.Rounds} {name}: {round.TokensPerSecond:F1} tokens/s, {round.WallSeconds:F2} s, cpu {round.BenchCpuSeconds:F1} s bench + {round.ServerCpuSeconds:F1} s server");
    }
}

var probes = await TtftProbe.RunAsync(paths, order, workload.Items, options.Probes, cts.Token);
ClusterResults.Add(report, options, engineOptions, rounds, equalToEngine, probes);
await clientHost.StopAsync(CancellationToken.None);
if (options.JsonPath is { } json)
{
    report.Write(json, "dotnet run -c Release --project bench/OrleansLora.ClusterBench -- " + string.Join(' ', args));
    Console.WriteLine($"wrote {json}");
}
return 0;

// The engine's warm-up also screens the prompts: greedy continuations that hit EOS before the token count get a
// new prompt (HTTP cannot ask to ignore EOS, so every path sends the same request and must generate the same count).
static async Task<RoundResult> EngineWarmupAsync(EnginePath path, Workload workload, ClusterBenchOptions options, CpuMeter cpu, CancellationToken cancellationToken)
{
    for (int attempt = 0; ; attempt++)
    {
        var round = await RoundResult.RunAsync(path, workload.Items, cpu, cancellationToken);
        var early = round.ShortRequests(options.NewTokens).ToList();
        if (early.Count == 0)
        {
            round.Verify(options.PromptTokens, options.NewTokens);
            Console.WriteLine($"warm-up engine: {round.TokensPerSecond:F1} tokens/s");
            return round;
        }
        if (attempt == 4)
            throw new InvalidOperationException($"after {attempt + 1} tries, {early.Count} prompts still end before {options.NewTokens} tokens.");
        foreach (var r in early)
            workload.Replace(r.Index);
        Console.WriteLine($"warm-up engine: {early.Count} prompts ended early; replaced");
    }
}
