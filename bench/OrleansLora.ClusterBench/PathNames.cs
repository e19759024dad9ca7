namespace OrleansLora.ClusterBench;

/// <summary>The three ways the same workload reaches the engine; also the scenario name prefixes.</summary>
internal static class PathNames
{
    public const string Engine = "engine";
    public const string Orleans = "orleans";
    public const string Http = "http";

    public static IReadOnlyList<string> All { get; } = [Engine, Orleans, Http];
}
