using OrleansLora.Adapters;

namespace OrleansLora.Grains.Adapters;

[GenerateSerializer]
public sealed class AdapterCatalogState
{
    [Id(0)] public Dictionary<string, AdapterRegistration> Adapters { get; set; } = new(StringComparer.Ordinal);
}
