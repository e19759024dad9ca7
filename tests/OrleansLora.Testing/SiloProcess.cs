using System.Diagnostics;

namespace OrleansLora.Testing;

/// <summary>The built <c>olora-server</c> as a child process (a real silo), its output kept in a log file.</summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    /// <param name="siloPort">The silo port to give it (a free one when null), e.g. another silo's to test a collision.</param>
    /// <param name="gatewayPort">The Orleans gateway port to give it (a free one when null).</param>
    public SiloProcess(string name, string logDirectory, IEnumerable<string> arguments, int? siloPort = null, int? gatewayPort = null)
    {
        Name = name;
        SiloPort = siloPort ?? FreePort.Next();
        GatewayPort = gatewayPort ?? FreePort.Next();
        HttpPort = FreePort.Next();
        LogPath = Path.Combine(logDirectory, $"{name}.log");
        _log = new StreamWriter(LogPath) { AutoFlush = true };
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = logDirectory,
        };
        start.ArgumentList.Add(ServerAssembly);
        foreach (var a in arguments.Concat([
            "--silo-port", SiloPort.ToString(), "--gateway-port", GatewayPort.ToString(), "--urls", $"http://127.0.0.1:{HttpPort}"]))
        {
            start.ArgumentList.Add(a);
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Write(e.Data);
        _process.ErrorDataReceived += (_, e) => Write(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }
    public int HttpPort { get; }
    public string LogPath { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";

    /// <summary>The server built next to this test assembly's configuration (the project reference builds it first).</summary>
    public static string ServerAssembly
    {
        get
        {
            // .../tests/OrleansLora.Cluster.Tests/bin/{Configuration}/net10.0/
            var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string framework = testDir.Name, configuration = testDir.Parent!.Name;
            string repo = testDir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            string path = Path.Combine(repo, "src", "OrleansLora.Server", "bin", configuration, framework, "olora-server.dll");
            if (!File.Exists(path))
                throw new FileNotFoundException($"the server is not built at {path}; build the solution first.", path);
            return path;
        }
    }

    public async Task WaitForHealthAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"silo {Name} exited with {_process.ExitCode}; see {LogPath}:\n{Tail()}");
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{HttpPort}/health")).IsSuccessStatusCode)
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"silo {Name} was not healthy within {timeout}; see {LogPath}:\n{Tail()}");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no graceful shutdown, as when a machine dies.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGSTOP: the process stops answering anything (a hung machine) until <see cref="Resume"/>; its sockets stay open.</summary>
    public void Suspend() => Signal("-STOP");

    /// <summary>SIGCONT after <see cref="Suspend"/>.</summary>
    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString()]);
        kill.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a silo: it leaves the cluster gracefully.</summary>
    public void Terminate() => Signal("-TERM");

    /// <summary>Waits for the process to end; false when it still runs after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The whole log so far.</summary>
    public string Log() => Tail(int.MaxValue);

    public string Tail(int lines = 30)
    {
        lock (_log)
        {
            _log.Flush();
        }
        try
        {
            using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    private void Write(string? line)
    {
        if (line is null)
            return;
        lock (_log)
        {
            _log.WriteLine(line);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
