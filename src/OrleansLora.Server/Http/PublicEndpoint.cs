namespace OrleansLora.Server.Http;

/// <summary>Endpoint metadata: no API key needed (the probes).</summary>
public sealed class PublicEndpoint
{
    public static PublicEndpoint Instance { get; } = new();
}
