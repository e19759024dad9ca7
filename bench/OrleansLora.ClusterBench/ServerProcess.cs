using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansLora.ClusterBench;

/// <summary>
/// <c>olora-server</c> as a child process on free loopback ports, with the arguments its bench gives (the cluster
/// bench: its model, adapter store and engine options; the soak bench: the embedded default). It runs from a copy of the
/// server's build output, so another build of the server during a run cannot change files under it.
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

    /// <summary>
    /// Starts the server from a snapshot of its build under <paramref name="workDirectory"/> with <paramref name="arguments"/>;
    /// the silo, gateway and HTTP ports (free loopback ports) are added here.
    /// </summary>
    public static ServerProcess Start(string workDirectory, IEnumerable<string> arguments)
    {
        string work = Path.GetFullPath(workDirectory);
        string server = ServerBuild.Snapshot(Path.Combine(work, "server"));
        int siloPort = FreePort(), gatewayPort = FreePort(), httpPort = FreePort();
        string logPath = Path.Combine(work, "server.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = work };
        start.ArgumentList.Add(Path.Combine(server, "olora-server.dll"));
        string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
        foreach (string a in arguments.Concat(["--silo-port", Port(siloPort), "--gateway-port", Port(gatewayPort), "--urls", $"http://127.0.0.1:{httpPort}"]))
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

    /// <summary>The server's process id (the dotnet host runs the server in its own process).</summary>
    public int ProcessId => _process.Id;

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
