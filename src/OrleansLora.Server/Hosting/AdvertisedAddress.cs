using System.Net.NetworkInformation;
using System.Net.Sockets;
using OrleansLora.Server.Configuration;

namespace OrleansLora.Server.Hosting;

/// <summary>
/// <c>OrleansLora:Server:AdvertisedAddress=auto</c>: this host's first non-loopback IPv4 address, for containers
/// whose address is known only once they run (compose replicas share one configuration).
/// </summary>
public static class AdvertisedAddress
{
    public const string Auto = "auto";

    private static string Key => $"{ServerOptions.SectionName}:{nameof(ServerOptions.AdvertisedAddress)}";

    /// <summary>Replaces "auto" in <paramref name="configuration"/> by the address; throws <see cref="ArgumentException"/> when there is none.</summary>
    public static void Resolve(IConfigurationManager configuration)
    {
        if (!string.Equals(configuration[Key], Auto, StringComparison.OrdinalIgnoreCase))
            return;
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a));
        configuration[Key] = address?.ToString()
            ?? throw new ArgumentException($"{Key} is \"{Auto}\" but this host has no non-loopback IPv4 address.", nameof(ServerOptions.AdvertisedAddress));
    }
}
