using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using OrleansLora.Engine.Generation;

namespace OrleansLora.ClusterBench;

/// <summary>
/// <c>olora-server</c> (role both, localhost clustering, free loopback ports) as a child process, serving the
/// bench's model and adapter store with the same engine options as the in-process engine. It runs from a copy
/// of the server's build output, so another build of the server during a run cannot change files under it.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ServerProcess(Process process, StreamWriter log, string logPath, int gatewayPort, int httpPort)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
    }

    public int GatewayPort { get; }
    public int HttpPort { get; }
    public string LogPath { get; }

    public TimeSpan TotalProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static ServerProcess Start(ClusterBenchOptions options, BenchFixtures fixtures, InferenceEngineOptions engine)
    {
        string work = Path.GetFullPath(options.WorkDirectory);
        string server = ServerBuild.Snapshot(Path.Combine(work, "server"));
        int siloPort = FreePort(), gatewayPort = FreePort(), httpPort = FreePort();
        string logPath = Path.Combine(work, "server.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = work };
        start.ArgumentList.Add(Path.Combine(server, "olora-server.dll"));
        foreach (string a in Arguments(fixtures, engine, work, siloPort, gatewayPort, httpPort))
            start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start the server.");
        var child = new ServerProcess(process, log, logPath, gatewayPort, httpPort);
        process.OutputDataReceived += (_, e) => child.Write(e.Data);
        process.ErrorDataReceived += (_, e) => child.Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // A bench stopped with Ctrl+C or SIGTERM must not leave the server running (and loading the machine).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => child.KillIfRunning();
        Console.CancelKeyPress += (_, _) => child.KillIfRunning();
        return child;
    }

    /// <summary>Every engine option the bench's own engine uses, so both serve the same configuration.</summary>
    private static IEnumerable<string> Arguments(BenchFixtures fixtures, InferenceEngineOptions e, string work, int siloPort, int gatewayPort, int httpPort)
    {
        string Engine(string key, object value) => $"--OrleansLora:Engine:{key}={Convert.ToString(value, CultureInfo.InvariantCulture)}";
        return
        [
            "--role", "both", "--clustering", "Localhost",
            "--silo-port", siloPort.ToString(CultureInfo.InvariantCulture),
            "--gateway-port", gatewayPort.ToString(CultureInfo.InvariantCulture),
            "--urls", $"http://127.0.0.1:{httpPort}",
            "--data", Path.Combine(work, "server-data"),
            "--model", fixtures.ModelDirectory,
            "--adapters", fixtures.AdapterRoot,
            "--devices", "1",
            // Every adapter pinned, as the bench pins them in its own engine (no swap slot held back).
            "--OrleansLora:Worker:SwapSlots=0",
            Engine(nameof(e.Dtype), e.Dtype), Engine(nameof(e.Quantization), e.Quantization),
            Engine(nameof(e.MaxLoras), e.MaxLoras), Engine(nameof(e.MaxLoraRank), e.MaxLoraRank),
            Engine(nameof(e.MaxCpuLoras), e.MaxCpuLoras), Engine(nameof(e.KvCacheBytes), e.KvCacheBytes),
            Engine(nameof(e.MaxSequenceLength), e.MaxSequenceLength), Engine(nameof(e.MaxBatchSize), e.MaxBatchSize),
            Engine(nameof(e.MaxBatchTokens), e.MaxBatchTokens), Engine(nameof(e.MaxQueuedRequests), e.MaxQueuedRequests),
            Engine(nameof(e.Threads), e.Threads),
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:OrleansLora=Warning",
        ];
    }

    /// <summary>Waits until the gateway answers <c>/ready</c> (a device has published its load).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"), Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the server exited with {_process.ExitCode}; see {LogPath}.");
            try
            {
                if ((await http.GetAsync("/ready")).StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the server was not ready within {timeout}; see {LogPath}.");
            await Task.Delay(250);
        }
    }

    private void Write(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.WriteLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void KillIfRunning()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone, or disposed
        }
    }

    public async ValueTask DisposeAsync()
    {
        KillIfRunning();
        if (!_process.HasExited)
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
        lock (_log)
            _log.Dispose();
    }
}
