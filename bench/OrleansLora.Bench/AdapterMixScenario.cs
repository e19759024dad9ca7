using OrleansLora.Engine.Models;

namespace OrleansLora.Bench;

/// <summary>
/// Issue 18's end-to-end adapter figure: 32 closed-loop clients through the engine, each on its own rank-16 adapter,
/// against the same 32 clients all on ONE adapter (both engines hold the same 32 registered adapters in slots), timed in
/// alternating rounds. Prompt length is <c>--zipf-prompt-tokens</c>, new tokens <c>--new-tokens</c>.
/// </summary>
internal static class AdapterMixScenario
{
    public static void Run(BenchReport report, BenchOptions options, string modelDir, int maxLen)
    {
        var config = ModelConfig.Load(modelDir);
        maxLen = Math.Max(maxLen, options.ZipfPromptTokens + options.NewTokens + 1);
        int clients = ZipfScenario.Clients;
        string[] files = Enumerable.Range(0, clients).Select(i => MultiAdapterScenario.AdapterDirectory(options, config, i)).ToArray();
        using var distinct = new ZipfScenario.EngineRun(options, modelDir, maxLen, clients, files, (client, _, _) => client);
        using var one = new ZipfScenario.EngineRun(options, modelDir, maxLen, clients, files, (_, _, _) => 0);
        int requests = ZipfScenario.Alternate(options, one, distinct);
        string distinctName = $"engine-adapters-{clients}-distinct", oneName = $"engine-adapters-{clients}-one";
        double distinctTps = distinct.Report(report, distinctName, requests);
        double oneTps = one.Report(report, oneName, requests);
        MultiAdapterScenario.Ratio(report, $"ratio:{distinctName}/{oneName}", distinctTps / oneTps);
    }
}
