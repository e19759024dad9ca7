using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// A prepared adapter held for a slot (one reference), with the disk-read time when it came
/// from disk for this demand (a cold load) or null when the host cache had it (a warm load).
/// </summary>
internal sealed record ReadyAdapter(HostAdapter Adapter, double? ReadMilliseconds);
