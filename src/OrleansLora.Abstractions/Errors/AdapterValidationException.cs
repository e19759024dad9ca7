namespace OrleansLora.Errors;

/// <summary>The adapter's files were refused (format, shapes, rank, base model); the message names what was wrong.</summary>
[GenerateSerializer]
public sealed class AdapterValidationException(string adapterId, string reason)
    : OrleansLoraException($"adapter \"{adapterId}\" was refused: {reason}")
{
    [Id(0)] public string AdapterId { get; private set; } = adapterId;
}
