namespace OrleansLora.Engine.Generation;

/// <summary>Every adapter slot of the engine is pinned or held by running sequences.</summary>
public sealed class AdapterCapacityException(string message) : InvalidOperationException(message);
