using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace OrleansLora.Testing;

/// <summary>
/// A real redis-server on 127.0.0.1 and a free port, without persistence, stopped on dispose.
/// scripts/ensure-deps.sh installs redis-server when it is missing; a machine without it fails here, loudly.
/// </summary>
public sealed class RedisServerProcess : IDisposable
{
    private Process _process;

    public RedisServerProcess()
    {
        Port = FreePort.Next();
        _process = Start();
    }

    /// <summary>Kills redis-server and starts a new one on the same port: it comes back empty, as a Redis without persistence does.</summary>
    public void RestartEmpty()
    {
        Kill();
        StartEmpty();
    }

    /// <summary>Kills redis-server: the cluster's store is unreachable until <see cref="StartEmpty"/>.</summary>
    public void Kill() => Stop();

    /// <summary>Starts redis-server again on the same port, empty, after <see cref="Kill"/>.</summary>
    public void StartEmpty()
    {
        if (!_process.HasExited)
            throw new InvalidOperationException("redis-server is still running; Kill it first.");
        _process = Start();
    }

    private Process Start()
    {
        string exe = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        var start = new ProcessStartInfo(exe)
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed; run scripts/ensure-deps.sh (apt-get install redis-server).", ex);
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        WaitForPing(process, TimeSpan.FromSeconds(15));
        return process;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    private void WaitForPing(Process process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient("127.0.0.1", Port);
                using var stream = client.GetStream();
                stream.Write("PING\r\n"u8);
                var buffer = new byte[16];
                int n = stream.Read(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal))
                    return;
            }
            catch (SocketException)
            {
            }
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"redis-server on port {Port} did not answer PING (exited: {process.HasExited}).");
            Thread.Sleep(50);
        }
    }

    private void Stop()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }
}
