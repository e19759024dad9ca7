namespace OrleansLora.Grains.Placement;

/// <summary>One adapter's measured request rate on the device of this silo that serves it.</summary>
public sealed record AdapterRate(string AdapterId, int Device, double RequestsPerSecond);
