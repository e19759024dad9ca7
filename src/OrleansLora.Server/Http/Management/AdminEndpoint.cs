namespace OrleansLora.Server.Http.Management;

/// <summary>Endpoint metadata: only admin keys may call it (when admin keys are configured).</summary>
public sealed class AdminEndpoint
{
    public static AdminEndpoint Instance { get; } = new();
}
