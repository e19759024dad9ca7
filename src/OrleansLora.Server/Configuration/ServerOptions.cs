using System.Net;

namespace OrleansLora.Server.Configuration;

/// <summary>Configuration section <c>OrleansLora:Server</c>, validated at start-up.</summary>
public sealed class ServerOptions
{
    public const string SectionName = "OrleansLora:Server";

    public ServerRole Role { get; set; } = ServerRole.Both;

    public ClusteringMode Clustering { get; set; } = ClusteringMode.Localhost;

    /// <summary>StackExchange.Redis connection string (clustering and grain storage) when <see cref="Clustering"/> is Redis.</summary>
    public string? RedisConnectionString { get; set; }

    public string ClusterId { get; set; } = "olora";

    public string ServiceId { get; set; } = "orleans-lora";

    /// <summary>Address other silos and clients reach this silo at (Redis clustering).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    public int SiloPort { get; set; } = 11111;

    /// <summary>Port Orleans clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Where the embedded default writes its generated model and demo adapters when
    /// <c>OrleansLora:Engine:ModelPath</c> or <c>OrleansLora:AdapterStore:Root</c> is not configured.
    /// </summary>
    public string DataDirectory { get; set; } = "olora-data";

    /// <summary>How long a grain call may take before it fails; streaming calls count per batch of chunks.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public bool HasDevices => Role != ServerRole.Gateway;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Role))
            throw new ArgumentException($"{SectionName}:Role must be worker, gateway or both.", nameof(Role));
        if (Clustering == ClusteringMode.Redis && string.IsNullOrWhiteSpace(RedisConnectionString))
            throw new ArgumentException($"{SectionName}:RedisConnectionString is required when {SectionName}:Clustering is Redis (for example 127.0.0.1:6379).", nameof(RedisConnectionString));
        if (string.IsNullOrWhiteSpace(ClusterId))
            throw new ArgumentException($"{SectionName}:ClusterId must not be empty.", nameof(ClusterId));
        if (string.IsNullOrWhiteSpace(ServiceId))
            throw new ArgumentException($"{SectionName}:ServiceId must not be empty.", nameof(ServiceId));
        if (!IPAddress.TryParse(AdvertisedAddress, out _))
            throw new ArgumentException($"{SectionName}:AdvertisedAddress must be an IP address, got \"{AdvertisedAddress}\".", nameof(AdvertisedAddress));
        if (SiloPort is < 1 or > 65535)
            throw new ArgumentException($"{SectionName}:SiloPort must be in [1, 65535], got {SiloPort}.", nameof(SiloPort));
        if (GatewayPort is < 1 or > 65535 || GatewayPort == SiloPort)
            throw new ArgumentException($"{SectionName}:GatewayPort must be in [1, 65535] and differ from SiloPort, got {GatewayPort}.", nameof(GatewayPort));
        if (ResponseTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:ResponseTimeout must be positive, got {ResponseTimeout}.", nameof(ResponseTimeout));
    }
}
