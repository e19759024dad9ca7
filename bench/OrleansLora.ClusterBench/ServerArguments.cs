using System.Globalization;
using OrleansLora.Engine.Generation;

namespace OrleansLora.ClusterBench;

/// <summary>The cluster bench's server: role both, localhost clustering, the bench's model and adapters and every engine option its own engine uses.</summary>
internal static class ServerArguments
{
    /// <summary>Every engine option the bench's own engine uses, so both serve the same configuration.</summary>
    public static IEnumerable<string> For(BenchFixtures fixtures, InferenceEngineOptions e, string work)
    {
        string Engine(string key, object value) => $"--OrleansLora:Engine:{key}={Convert.ToString(value, CultureInfo.InvariantCulture)}";
        return
        [
            "--role", "both", "--clustering", "Localhost",
            "--data", Path.Combine(Path.GetFullPath(work), "server-data"),
            "--model", fixtures.ModelDirectory,
            "--adapters", fixtures.AdapterRoot,
            "--devices", "1",
            // Every adapter pinned, as the bench pins them in its own engine (no swap slot held back).
            "--OrleansLora:Worker:SwapSlots=0",
            Engine(nameof(e.Dtype), e.Dtype), Engine(nameof(e.Quantization), e.Quantization),
            Engine(nameof(e.MaxLoras), e.MaxLoras), Engine(nameof(e.MaxLoraRank), e.MaxLoraRank),
            Engine(nameof(e.MaxCpuLoras), e.MaxCpuLoras), Engine(nameof(e.KvCacheBytes), e.KvCacheBytes),
            Engine(nameof(e.MaxSequenceLength), e.MaxSequenceLength), Engine(nameof(e.MaxBatchSize), e.MaxBatchSize),
            Engine(nameof(e.MaxBatchTokens), e.MaxBatchTokens), Engine(nameof(e.MaxQueuedRequests), e.MaxQueuedRequests),
            Engine(nameof(e.Threads), e.Threads),
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:OrleansLora=Warning",
        ];
    }
}
