using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansLora.Server.Hosting;

/// <summary>
/// Orleans listens with <see cref="SocketOptionName.ReuseAddress"/>, which .NET on Linux turns into
/// SO_REUSEPORT as well: a second silo given the same port binds it too and the kernel splits the connections
/// between the two. These checks refuse that: one before start-up (a plain bind, failing while anyone listens)
/// and one right after Orleans bound its listeners (counting the listeners on the port, for two silos that
/// started at the same moment).
/// </summary>
public static class ListenPorts
{
    /// <summary>Throws <see cref="PortInUseException"/> when something already listens on <paramref name="endpoint"/>.</summary>
    public static void EnsureFree(string option, IPEndPoint endpoint)
    {
        using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // SO_REUSEADDR alone (not .NET's ReuseAddress, which adds SO_REUSEPORT): connections of an earlier run in
        // TIME_WAIT do not block the bind, a listening socket does.
        if (OperatingSystem.IsLinux())
            probe.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
        try
        {
            probe.Bind(endpoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw new PortInUseException(option, endpoint, ex.Message);
        }
    }

    /// <summary>
    /// The number of sockets listening on <paramref name="endpoint"/>'s port at its address or at any address,
    /// from <c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c>; null where those do not exist (not Linux).
    /// </summary>
    public static int? CountListeners(IPEndPoint endpoint)
    {
        if (!File.Exists("/proc/net/tcp"))
            return null;
        int count = 0;
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
                continue;
            foreach (string line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 4 || fields[3] != "0A") // 0A: LISTEN
                    continue;
                if (TryParse(fields[1], out var local) && local.Port == endpoint.Port && Covers(local.Address, endpoint.Address))
                    count++;
            }
        }
        return count;
    }

    private static bool Covers(IPAddress listening, IPAddress wanted)
    {
        if (listening.Equals(IPAddress.Any) || listening.Equals(IPAddress.IPv6Any))
            return true;
        if (listening.IsIPv4MappedToIPv6)
            listening = listening.MapToIPv4();
        return listening.Equals(wanted.IsIPv4MappedToIPv6 ? wanted.MapToIPv4() : wanted);
    }

    /// <summary>Parses <c>/proc/net/tcp*</c>'s "address:port": the address as 32-bit words in host (little-endian) order, the port big-endian hex.</summary>
    private static bool TryParse(string field, out IPEndPoint endpoint)
    {
        endpoint = null!;
        int colon = field.IndexOf(':');
        if (colon < 0 || !int.TryParse(field.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int port))
            return false;
        var hex = field.AsSpan(0, colon);
        if (hex.Length is not (8 or 32))
            return false;
        var bytes = new byte[hex.Length / 2];
        for (int word = 0; word < bytes.Length / 4; word++)
        {
            for (int b = 0; b < 4; b++)
            {
                if (!byte.TryParse(hex.Slice(word * 8 + b * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
                    return false;
                bytes[word * 4 + 3 - b] = value;
            }
        }
        endpoint = new IPEndPoint(new IPAddress(bytes), port);
        return true;
    }
}
