using System.Text.Json.Nodes;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Checkpoints;

/// <summary>Every broken checkpoint is a clear exception naming the file (and tensor) — never a crash or a hang.</summary>
public sealed class BadCheckpointTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly TempDirectory _dir = CopyOf(model.Path);

    private static TempDirectory CopyOf(string source)
    {
        var dir = new TempDirectory("olora-bad");
        ModelFiles.CopyAll(source, dir.Path);
        return dir;
    }

    private string Weights => _dir.File(CheckpointReader.SingleFileName);

    private void EditConfig(Action<JsonObject> edit) => ModelFiles.EditConfig(_dir.Path, edit);

    private ModelFormatException LoadFails() =>
        Assert.Throws<ModelFormatException>(() => LlamaModel.Load(_dir.Path, new ModelLoadOptions { MaxSequenceLength = 32 }).Dispose());

    [Fact]
    public void TruncatedFileNamesFileAndTensor()
    {
        long length = new FileInfo(Weights).Length;
        using (var f = new FileStream(Weights, FileMode.Open))
            f.SetLength(length / 2);
        var ex = LoadFails();
        Assert.Contains(Weights, ex.Message);
        Assert.NotNull(ex.Tensor);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void HeaderLengthBeyondFile()
    {
        using (var f = new FileStream(Weights, FileMode.Open))
            f.Write(BitConverter.GetBytes(long.MaxValue / 2));
        var ex = LoadFails();
        Assert.Contains(Weights, ex.Message);
        Assert.Contains("header length", ex.Message);
    }

    [Fact]
    public void HeaderThatIsNotJson()
    {
        byte[] bytes = File.ReadAllBytes(Weights);
        bytes[8] = (byte)'#';
        File.WriteAllBytes(Weights, bytes);
        var ex = LoadFails();
        Assert.Contains("not valid JSON", ex.Message);
    }

    [Fact]
    public void DtypeDisagreeingWithConfig()
    {
        EditConfig(c => c["torch_dtype"] = "float32");
        var ex = LoadFails();
        Assert.Equal("model.embed_tokens.weight", ex.Tensor);
        Assert.Contains("BF16", ex.Message);
        Assert.Contains("F32", ex.Message);
    }

    [Fact]
    public void ShapeDisagreeingWithConfig()
    {
        EditConfig(c => c["intermediate_size"] = 180);
        var ex = LoadFails();
        Assert.Equal("model.layers.0.mlp.gate_proj.weight", ex.Tensor);
        Assert.Contains("[176, 64]", ex.Message);
        Assert.Contains("[180, 64]", ex.Message);
    }

    [Fact]
    public void MissingTensor()
    {
        const string dropped = "model.layers.1.self_attn.v_proj.weight";
        using (var source = SafetensorsFile.Open(Weights))
        {
            var keep = source.Tensors.Where(t => t.Name != dropped).OrderBy(t => t.DataOffset).ToList();
            string rewritten = _dir.File("rewritten.safetensors");
            SafetensorsWriter.Write(rewritten, keep.Select(t => new SafetensorsWriter.Entry(t.Name, t.Dtype, t.Shape)).ToList(),
                (e, s) => s.Write(source.ReadBytes(keep.First(k => k.Name == e.Name))));
            source.Dispose();
            File.Move(rewritten, Weights, overwrite: true);
        }
        var ex = LoadFails();
        Assert.Equal(dropped, ex.Tensor);
        Assert.Contains("missing", ex.Message);
    }

    [Fact]
    public void UnknownArchitectureIsRefusedByName()
    {
        EditConfig(c => c["architectures"] = new JsonArray("GPT2LMHeadModel"));
        var ex = LoadFails();
        Assert.Contains("GPT2LMHeadModel", ex.Message);
        Assert.Contains("config.json", ex.Message);
    }

    [Fact]
    public void MissingWeightsNameTheDirectory()
    {
        File.Delete(Weights);
        var ex = LoadFails();
        Assert.Contains(_dir.Path, ex.Message);
        Assert.Contains("safetensors", ex.Message);
    }

    [Fact]
    public void PromptLongerThanContextIsRefusedAtOnce()
    {
        using var engine = InferenceEngine.Create(new InferenceEngineOptions { ModelPath = _dir.Path, MaxSequenceLength = 32, MaxBatchSize = 1, MaxBatchTokens = 32, KvCacheBytes = 1 << 20 });
        var ex = Assert.Throws<PromptTooLongException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = Enumerable.Range(1, 40).ToArray(), Sampling = SamplingParams.Greedy }));
        Assert.Equal(40, ex.PromptTokens);
        Assert.Equal(32, ex.ContextLength);
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = [1, 999_999] }));
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = [] }));
    }

    [Fact]
    public void KvBudgetTooSmallForOneSequenceIsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() => InferenceEngine.Create(new InferenceEngineOptions { ModelPath = _dir.Path, MaxSequenceLength = 1024, KvCacheBytes = 1000 }).Dispose());
        Assert.Contains("KV cache budget", ex.Message);
    }

    public void Dispose() => _dir.Dispose();
}
