namespace OrleansLora.Grains.Storage;

/// <summary>Configuration section <c>OrleansLora:AdapterStore</c>: where silos read adapter weights from.</summary>
public sealed class AdapterStoreOptions
{
    public const string SectionName = "OrleansLora:AdapterStore";

    /// <summary>Directory holding one PEFT directory per adapter; every silo with devices must see the same contents.</summary>
    public string Root { get; set; } = "";

    /// <summary>List every adapter directory of the store in the catalog when a worker silo starts.</summary>
    public bool ListStoreInCatalog { get; set; } = true;

    /// <summary>
    /// How long reading and validating one adapter's files may take before its registration is
    /// refused (400 invalid_adapter): a file on a hung network mount must not hold a load forever.
    /// The reads run off the grain's turn either way. Default 30 s.
    /// </summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Root))
            throw new ArgumentException($"{SectionName}:Root is required: the directory that holds one PEFT adapter directory per adapter id.", nameof(Root));
        if (ReadTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:ReadTimeout must be positive, got {ReadTimeout}.", nameof(ReadTimeout));
    }
}
