namespace OrleansLora.Server.Hosting.Drain;

/// <summary>Configuration section <c>OrleansLora:Drain</c>: what the silo does between SIGTERM and leaving the cluster.</summary>
public sealed class DrainOptions
{
    public const string SectionName = "OrleansLora:Drain";

    /// <summary>
    /// How long a stopping silo keeps serving the requests it has (HTTP requests on a gateway, engine work on a
    /// worker) before it leaves the cluster. Kubernetes' terminationGracePeriodSeconds must exceed it.
    /// </summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The Retry-After a draining gateway sends with the 503 it answers new requests with.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (GracePeriod < TimeSpan.Zero || GracePeriod > TimeSpan.FromHours(1))
            throw new ArgumentException($"{SectionName}:GracePeriod must be in [0, 1 h], got {GracePeriod}.", nameof(GracePeriod));
        if (RetryAfterSeconds is < 1 or > 3600)
            throw new ArgumentException($"{SectionName}:RetryAfterSeconds must be in [1, 3600], got {RetryAfterSeconds}.", nameof(RetryAfterSeconds));
    }
}
