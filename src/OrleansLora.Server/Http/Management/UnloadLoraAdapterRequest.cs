namespace OrleansLora.Server.Http.Management;

/// <summary>POST /v1/unload_lora_adapter.</summary>
public sealed record UnloadLoraAdapterRequest : IValidatedRequest
{
    public string? LoraName { get; init; }

    public void Validate() => FieldChecks.AdapterId(LoraName, "lora_name");
}
