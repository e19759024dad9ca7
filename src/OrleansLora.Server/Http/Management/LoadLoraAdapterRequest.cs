namespace OrleansLora.Server.Http.Management;

/// <summary>
/// POST /v1/load_lora_adapter (vLLM's convention); <c>lora_path</c> is relative to the adapter store root (default: the
/// name). <c>pinned</c> (default false): hold a device slot while active; otherwise traffic decides which adapters
/// hold slots (the engine swaps them in as their requests run).
/// </summary>
public sealed record LoadLoraAdapterRequest : IValidatedRequest
{
    public string? LoraName { get; init; }
    public string? LoraPath { get; init; }
    public bool? Pinned { get; init; }

    public void Validate() => FieldChecks.AdapterId(LoraName, "lora_name");
}
