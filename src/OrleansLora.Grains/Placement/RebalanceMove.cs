namespace OrleansLora.Grains.Placement;

/// <summary>Migrate <paramref name="AdapterId"/> (measured at <paramref name="RequestsPerSecond"/>) to <paramref name="Target"/>.</summary>
public sealed record RebalanceMove(string AdapterId, SiloAddress Target, double RequestsPerSecond);
