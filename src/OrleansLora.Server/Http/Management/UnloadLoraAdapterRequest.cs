using OrleansLora.Adapters;
using OrleansLora.Errors;

namespace OrleansLora.Server.Http.Management;

/// <summary>POST /v1/unload_lora_adapter.</summary>
public sealed record UnloadLoraAdapterRequest : IValidatedRequest
{
    public string? LoraName { get; init; }

    public void Validate() => ValidateName(LoraName);

    /// <summary><c>lora_name</c> must be an adapter id: it is a grain key and a directory name.</summary>
    internal static void ValidateName(string? name)
    {
        if (name is null)
            throw new InvalidRequestException("lora_name is required.", "lora_name");
        if (!AdapterIds.IsValid(name))
            throw new InvalidRequestException($"lora_name {FieldChecks.Quote(name)} is not a valid adapter id: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, without \"..\".", "lora_name");
    }
}
