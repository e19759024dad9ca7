namespace OrleansLora.Grains;

/// <summary>Names of the grain storage providers the silo must configure.</summary>
public static class GrainStorageNames
{
    /// <summary>Adapter registrations, configuration summaries and counters.</summary>
    public const string Adapters = "adapters";
}
