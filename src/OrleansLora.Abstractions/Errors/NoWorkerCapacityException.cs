namespace OrleansLora.Errors;

/// <summary>No worker silo can take the adapter: none is up, or every device's slots are pinned (HTTP 503).</summary>
[GenerateSerializer]
public sealed class NoWorkerCapacityException(string message) : OrleansLoraException(message);
