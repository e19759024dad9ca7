namespace OrleansLora.Errors;

/// <summary>
/// A request that may only add a registration (LoRAX's <c>adapter_source: "local"</c>) named an adapter id
/// already registered from another source; registrations change only through the admin load endpoint.
/// </summary>
[GenerateSerializer]
public sealed class AdapterConflictException(string adapterId, string registeredSource, string requestedSource)
    : OrleansLoraException($"adapter id \"{adapterId}\" is already registered from \"{registeredSource}\"; the path \"{requestedSource}\" also makes that id, "
        + "and a request cannot change an existing registration. Use adapter_source \"hub\" with adapter_id \"" + adapterId + "\" to serve the registered adapter, "
        + "or ask an admin to load the path under another name (/v1/load_lora_adapter).")
{
    [Id(0)] public string AdapterId { get; private set; } = adapterId;
    [Id(1)] public string RegisteredSource { get; private set; } = registeredSource;
    [Id(2)] public string RequestedSource { get; private set; } = requestedSource;
}
