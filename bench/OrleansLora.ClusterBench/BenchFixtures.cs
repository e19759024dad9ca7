using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.ModelInit;

namespace OrleansLora.ClusterBench;

/// <summary>
/// The random-weight model and PEFT adapters every path serves, written once under the work directory and
/// reused by later runs (same seeds, so the same files).
/// </summary>
internal sealed record BenchFixtures(string ModelDirectory, string AdapterRoot, IReadOnlyList<string> AdapterIds)
{
    public static BenchFixtures Prepare(ClusterBenchOptions options)
    {
        var config = ModelPresets.Get(options.Preset);
        string model = Path.GetFullPath(Path.Combine(options.WorkDirectory, "models", options.Preset));
        if (!File.Exists(Path.Combine(model, "config.json")))
        {
            Console.Error.WriteLine($"writing the {options.Preset} preset to {model} ...");
            RandomModelWriter.Write(config, model, seed: 42);
        }
        // The adapter store root holds exactly these adapters' directories, named by id, as the server expects.
        string root = Path.GetFullPath(Path.Combine(options.WorkDirectory, "adapters", $"{options.Preset}-r{options.Rank}"));
        var ids = new List<string>();
        for (int i = 0; i < options.Adapters; i++)
        {
            string id = $"bench-{i}";
            string dir = Path.Combine(root, id);
            if (!File.Exists(Path.Combine(dir, PeftAdapter.WeightsFileName)))
                PeftAdapterWriter.WriteRandom(config, dir, options.Rank, 2 * options.Rank, LoraTargetModules.All, seed: (ulong)(1000 + i));
            ids.Add(id);
        }
        return new BenchFixtures(model, root, ids);
    }

    public string AdapterDirectory(string id) => Path.Combine(AdapterRoot, id);
}
