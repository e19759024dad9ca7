namespace OrleansLora.Errors;

/// <summary>A request parameter is out of range or missing; <see cref="Param"/> names it.</summary>
[GenerateSerializer]
public sealed class InvalidRequestException(string message, string? param = null) : OrleansLoraException(message)
{
    [Id(0)] public string? Param { get; private set; } = param;
}
