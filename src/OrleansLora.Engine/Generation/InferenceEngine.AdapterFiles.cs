using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Files;

namespace OrleansLora.Engine.Generation;

// Adapter files: the limits every registration and load reads them under.
public sealed partial class InferenceEngine
{
    private FileSandbox? _adapterSandbox;

    /// <summary>Rank limit, name, and the sandbox of <see cref="InferenceEngineOptions.AdapterRoot"/> (one per engine, created on first use).</summary>
    private AdapterLoadOptions AdapterLoadOptionsFor(string adapterId) => new()
    {
        MaxRank = _options.MaxLoraRank,
        Name = adapterId,
        Sandbox = _options.AdapterRoot is { } root ? LazyInitializer.EnsureInitialized(ref _adapterSandbox, () => new FileSandbox(root, "the adapter store")) : null,
    };
}
