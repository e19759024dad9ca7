using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OrleansLora.Bench;
using OrleansLora.ClusterBench;
using OrleansLora.Engine.Native;
using OrleansLora.SoakBench;

// Issue 12's soak: N concurrent streaming requests for T seconds over several adapters, in identical waves, against
// a running server (--url) or the embedded default started here as a child process. Counts completed / 429 / 5xx /
// dropped streams, tokens/s and TTFT per wave, and the server's RSS after each wave (growth between the last two).
SoakOptions options;
try
{
    options = SoakOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"soak bench: {ex.Message}");
    return 2;
}

var report = new BenchReport();
report.Machine["cpu"] = MachineProbe.CpuModel();
report.Machine["cores_used"] = Environment.ProcessorCount;
report.Machine["device"] = "cpu";
report.Machine["load_avg_at_start"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;
if (!options.NoProbe)
{
    NativeRuntime.EnsureInitialized();
    report.Machine["read_gbps"] = Math.Round(MachineProbe.ReadBandwidthGbps(), 2);
    report.Machine["gemm_gflops"] = Math.Round(MachineProbe.GemmGflops(), 1);
}
Console.WriteLine($"machine: {report.Machine.ToJsonString()}");

ServerProcess? server = null;
try
{
    Uri baseAddress;
    int? pid = options.ServerPid;
    if (options.Url is null)
    {
        string work = Path.GetFullPath(options.WorkDirectory);
        server = ServerProcess.Start(work, ["--role", "both", "--data", Path.Combine(work, "server-data"), "--Logging:LogLevel:Default=Warning", .. options.ServerArguments]);
        await server.WaitReadyAsync(TimeSpan.FromMinutes(3));
        baseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/");
        pid = server.ProcessId;
        Console.WriteLine($"server: pid {pid}, {baseAddress}, log {server.LogPath}");
    }
    else
    {
        baseAddress = new Uri(options.Url.EndsWith('/') ? options.Url : options.Url + "/");
    }

    using var http = SoakClient.CreateHttp(baseAddress);
    if (options.Key is not null)
        http.DefaultRequestHeaders.Authorization = new("Bearer", options.Key);
    var models = options.Adapters.Length > 0 ? options.Adapters : await ListModelsAsync(http);
    var client = new SoakClient(http, options.MaxTokens);
    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(options.Waves * (options.Seconds + 600)));

    // Warm-up: every model loaded and pinned, the first-request costs paid before anything is measured.
    foreach (string model in models)
    {
        var warm = await client.RunAsync(model, lorax: false, index: 0, cts.Token);
        if (warm.Outcome != StreamOutcome.Completed)
            throw new InvalidOperationException($"warm-up on {model}: {warm.Outcome} {warm.Detail}");
    }
    long? rssBefore = ServerRss.Bytes(pid);
    Console.WriteLine($"models: {string.Join(", ", models)}; server RSS after warm-up: {Mb(rssBefore)}");

    var rss = new List<long?>();
    for (int wave = 1; wave <= options.Waves; wave++)
    {
        var result = await Wave.RunAsync(client, options, models, wave, cts.Token);
        await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds), cts.Token);
        rss.Add(ServerRss.Bytes(pid));
        report.Add($"soak-wave{wave}", result.Fields(options, models.Length, rss[^1]));
        foreach (string failure in result.Failures)
            Console.WriteLine($"  wave {wave}: {failure}");
    }
    if (rss.Count >= 2 && rss[^1] is { } last && rss[^2] is { } previous)
    {
        double ratio = (double)last / previous;
        report.Add($"ratio:rss-wave{rss.Count}/rss-wave{rss.Count - 1}", [new("value", Math.Round(ratio, 4)), new("rss_growth_pct", Math.Round((ratio - 1) * 100, 2))]);
    }
    if (options.LongPrompts > 0)
    {
        // After the waves, so it does not touch the growth between them; on an adapter when there is one.
        string target = models.FirstOrDefault(m => m != models[0]) ?? models[0];
        report.Add("long-prompts-413", [new("adapter", target), .. await LongPrompts.RunAsync(http, target, options.LongPrompts, pid, cts.Token)]);
    }
    report.Machine["load_avg_at_end"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;
    if (options.JsonPath is not null)
    {
        report.Write(options.JsonPath, $"dotnet run -c Release --project bench/OrleansLora.SoakBench -- {string.Join(' ', args)}");
        Console.WriteLine($"wrote {options.JsonPath}");
    }
    return 0;
}
finally
{
    if (server is not null)
        await server.DisposeAsync();
}

static async Task<string[]> ListModelsAsync(HttpClient http)
{
    var list = await http.GetFromJsonAsync<JsonObject>("v1/models") ?? throw new InvalidOperationException("GET /v1/models answered nothing.");
    return [.. list["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>())];
}

static string Mb(long? bytes) => bytes is { } b ? $"{b / 1048576.0:F1} MB" : "unknown (no server pid)";
