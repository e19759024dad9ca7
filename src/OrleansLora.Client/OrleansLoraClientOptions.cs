using System.Net;

namespace OrleansLora.Client;

/// <summary>How a .NET service reaches the OrleansLora cluster (configuration section <c>OrleansLora:Client</c>).</summary>
public sealed class OrleansLoraClientOptions
{
    public const string SectionName = "OrleansLora:Client";

    /// <summary>Null or empty: localhost clustering on <see cref="GatewayPorts"/>; otherwise Redis clustering.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Orleans gateway ports of the local silos (localhost clustering).</summary>
    public IList<int> GatewayPorts { get; set; } = [30000];

    public string ClusterId { get; set; } = "olora";

    public string ServiceId { get; set; } = "orleans-lora";

    /// <summary>The base model's name: a chat model id equal to it (or empty) means no adapter.</summary>
    public string? BaseModelName { get; set; }

    /// <summary>How long a call may take; a streaming generation counts per batch of chunks.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a generation may wait for its adapter grain to acknowledge it (delivery and activation only). A request
    /// lost to a silo that died or hangs then fails with <see cref="Orleans.Runtime.SiloUnavailableException"/>
    /// instead of waiting <see cref="ResponseTimeout"/>.
    /// </summary>
    public TimeSpan AcceptTimeout { get; set; } = Generation.GenerationStart.DefaultAcceptTimeout;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(RedisConnectionString))
        {
            if (GatewayPorts.Count == 0 || GatewayPorts.Any(p => p is < 1 or > 65535))
                throw new ArgumentException($"{SectionName}:GatewayPorts must list ports in [1, 65535] for localhost clustering.", nameof(GatewayPorts));
        }
        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
            throw new ArgumentException($"{SectionName}:ClusterId and ServiceId must not be empty.", nameof(ClusterId));
        if (ResponseTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:ResponseTimeout must be positive, got {ResponseTimeout}.", nameof(ResponseTimeout));
        if (AcceptTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:AcceptTimeout must be positive, got {AcceptTimeout}.", nameof(AcceptTimeout));
        _ = IPAddress.Loopback;
    }
}
