using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace OrleansLora.Testing;

/// <summary>
/// Loopback TCP ports for test silos and servers. The OS picks a free one (bind to port 0), but a port
/// is only free until someone listens on it: the test assemblies run in parallel, and CI once saw two
/// silos of different tests given the same gateway port, both listening on it. So a port handed out
/// here is never handed out again by this process, and is claimed machine-wide by an exclusive lock on
/// a file named after it, held until this process exits (the OS drops the lock of a process that
/// died, so a crashed run blocks nothing); a port another test process holds is skipped. Where the
/// claim files cannot be written at all, ports are handed out unclaimed, as before.
/// </summary>
public static class FreePort
{
    // Per user: a directory another user created (root under sudo, say) would refuse this one's files.
    private static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), $"olora-test-ports-{Environment.UserName}");
    private static readonly ConcurrentDictionary<int, FileStream?> Claims = new();

    /// <summary>A TCP port free on 127.0.0.1 right now that no other caller of this method holds.</summary>
    public static int Next()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }
            if (!Claims.ContainsKey(port) && TryClaim(port, out var claim))
            {
                if (Claims.TryAdd(port, claim))
                    return port;
                claim?.Dispose();
            }
            if (attempt == 100)
                throw new InvalidOperationException($"no loopback port free of other test processes' claims after 100 tries (claims in {ClaimDirectory}).");
        }
    }

    /// <summary>False when another process holds the port's claim; true with a null claim when claims cannot be written here.</summary>
    private static bool TryClaim(int port, out FileStream? claim)
    {
        claim = null;
        try
        {
            Directory.CreateDirectory(ClaimDirectory);
            // FileShare.None takes an exclusive advisory lock (flock) on Unix; a held one fails at once.
            claim = new FileStream(Path.Combine(ClaimDirectory, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException) when (File.Exists(Path.Combine(ClaimDirectory, $"{port}.lock")))
        {
            return false; // held by another process
        }
        catch (IOException)
        {
            return true; // the directory cannot be made (a file in its place, a full disk): unclaimed
        }
    }
}
