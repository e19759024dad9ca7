namespace OrleansLora.Server.Http.Management;

/// <summary>
/// An adapter as GET /v1/adapters shows it. <c>status</c>: "active" (an activation holds it on a device) or
/// "registered"; <c>residency</c>: "gpu" (pinned in a device slot), "host" (in memory, swapped into a slot
/// when scheduled) or "disk"; <c>cached_on</c>: the devices whose engine holds its weights in memory.
/// Rank, silo, device and counters are known when the adapter is in memory somewhere (null otherwise).
/// </summary>
public sealed record AdapterEntry(
    string Id,
    string Source,
    string Status,
    string Residency,
    int? Rank,
    double? LoraAlpha,
    IReadOnlyList<string>? TargetModules,
    string? Silo,
    string? Device,
    IReadOnlyList<string> CachedOn,
    DateTimeOffset? CreatedAt,
    AdapterCountersDto? Counters)
{
    public string Object => "adapter";
}
