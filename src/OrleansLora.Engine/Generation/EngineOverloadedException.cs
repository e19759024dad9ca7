namespace OrleansLora.Engine.Generation;

/// <summary>The waiting queue is full; the request was not queued and may be retried.</summary>
public sealed class EngineOverloadedException(string message) : InvalidOperationException(message);
