using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Models;

namespace OrleansLora.Testing;

/// <summary>A tiny random model and an adapter store of random PEFT adapters in a temp directory.</summary>
public sealed class TestFiles : IDisposable
{
    public TestFiles(int adapters, string prefix = "olora-cluster")
    {
        Root = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():n}");
        ModelPath = Path.Combine(Root, "model");
        AdapterRoot = Path.Combine(Root, "adapters");
        RandomModelWriter.Write(ModelPresets.Tiny, ModelPath, seed: 1234);
        Config = ModelConfig.Load(ModelPath);
        for (int i = 0; i < adapters; i++)
            WriteAdapter(AdapterId(i), rank: 4 + 4 * (i % 3), seed: (ulong)(500 + i));
    }

    public string Root { get; }
    public string ModelPath { get; }
    public string AdapterRoot { get; }
    public ModelConfig Config { get; }

    public static string AdapterId(int i) => $"adapter-{i:D2}";

    public string WriteAdapter(string id, int rank, ulong seed, IReadOnlyList<string>? targets = null)
    {
        string dir = Path.Combine(AdapterRoot, id);
        PeftAdapterWriter.WriteRandom(Config, dir, rank, 2.0 * rank, targets ?? ["q_proj", "v_proj", "down_proj"], seed);
        return dir;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
