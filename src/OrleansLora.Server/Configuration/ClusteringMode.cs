namespace OrleansLora.Server.Configuration;

/// <summary>Localhost: one process, in-memory grain storage. Redis: membership and grain storage in Redis.</summary>
public enum ClusteringMode
{
    Localhost,
    Redis,
}
