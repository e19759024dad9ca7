using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Generation;

/// <summary>What a background load hands the engine thread: the prepared adapter (or the error) and how long the disk read and preparation took.</summary>
internal sealed record AdapterLoadResult(AdapterRegistration Registration, HostAdapter? Adapter, Exception? Error, double ReadMilliseconds);
