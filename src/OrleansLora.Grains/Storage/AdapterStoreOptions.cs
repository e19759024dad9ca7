namespace OrleansLora.Grains.Storage;

/// <summary>Configuration section <c>OrleansLora:AdapterStore</c>: where silos read adapter weights from.</summary>
public sealed class AdapterStoreOptions
{
    public const string SectionName = "OrleansLora:AdapterStore";

    /// <summary>Directory holding one PEFT directory per adapter; every silo with devices must see the same contents.</summary>
    public string Root { get; set; } = "";

    /// <summary>List every adapter directory of the store in the catalog when a worker silo starts.</summary>
    public bool ListStoreInCatalog { get; set; } = true;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Root))
            throw new ArgumentException($"{SectionName}:Root is required: the directory that holds one PEFT adapter directory per adapter id.", nameof(Root));
    }
}
