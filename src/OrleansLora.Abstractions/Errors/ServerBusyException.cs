namespace OrleansLora.Errors;

/// <summary>The device's request queue is full; retry after <see cref="RetryAfterSeconds"/> (HTTP 429).</summary>
[GenerateSerializer]
public sealed class ServerBusyException(string message, int retryAfterSeconds = 1) : OrleansLoraException(message)
{
    [Id(0)] public int RetryAfterSeconds { get; private set; } = retryAfterSeconds;
}
