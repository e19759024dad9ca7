namespace OrleansLora.Server.Http.Management;

/// <summary>POST /v1/unload_lora_adapter.</summary>
public sealed record UnloadLoraAdapterRequest
{
    public string? LoraName { get; init; }
}
