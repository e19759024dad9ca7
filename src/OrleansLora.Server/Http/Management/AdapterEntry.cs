namespace OrleansLora.Server.Http.Management;

/// <summary>
/// An adapter as GET /v1/adapters shows it. <c>status</c>: "active" (an activation holds it on a device) or
/// "registered"; <c>residency</c>: "gpu" (pinned in a device slot), "host" (in memory, swapped into a slot
/// when scheduled) or "disk"; <c>pinned</c>: registered to hold a device slot while active (else traffic decides);
/// <c>devices</c>: the devices whose engine holds its weights in memory (in a slot or in host memory), by key;
/// <c>device_names</c>: their names, in the same order (e.g. the GPU's).
/// Rank, silo, device and counters are known when the adapter is in memory somewhere (null otherwise).
/// </summary>
public sealed record AdapterEntry(
    string Id,
    string Source,
    string Status,
    string Residency,
    bool Pinned,
    int? Rank,
    double? LoraAlpha,
    IReadOnlyList<string>? TargetModules,
    string? Silo,
    string? Device,
    IReadOnlyList<string> Devices,
    IReadOnlyList<string> DeviceNames,
    DateTimeOffset? CreatedAt,
    AdapterCountersDto? Counters)
{
    public string Object => "adapter";
}
