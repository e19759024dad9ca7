namespace OrleansLora.Grains.Metrics;

/// <summary>Configuration section <c>OrleansLora:Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "OrleansLora:Metrics";

    /// <summary>
    /// Distinct adapter ids a silo reports as their own <c>adapter</c> tag; later ones are reported as
    /// <see cref="AdapterTagLimiter.OtherTag"/>, so a cluster with thousands of adapters keeps a bounded
    /// number of time series. Per-adapter totals for every adapter stay available from the adapter grains.
    /// </summary>
    public int MaxAdapterTags { get; set; } = 256;

    public void Validate()
    {
        if (MaxAdapterTags < 0)
            throw new ArgumentException($"{SectionName}:MaxAdapterTags must be >= 0, got {MaxAdapterTags}.", nameof(MaxAdapterTags));
    }
}
