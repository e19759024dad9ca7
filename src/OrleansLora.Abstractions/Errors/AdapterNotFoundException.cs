namespace OrleansLora.Errors;

/// <summary>No adapter with this id is registered, and the adapter store has no directory for it.</summary>
[GenerateSerializer]
public sealed class AdapterNotFoundException(string adapterId)
    : OrleansLoraException($"adapter \"{adapterId}\" is not registered and the adapter store has no directory \"{adapterId}\".")
{
    [Id(0)] public string AdapterId { get; private set; } = adapterId;
}
