using System.Buffers.Binary;
using System.Text.Json;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.ModelInit;

/// <summary>
/// Writes a random-weight model in exactly the Hugging Face layout (config.json,
/// generation_config.json, model.safetensors or shards with model.safetensors.index.json, GPT-2
/// tokenizer files). Weights are generated tensor by tensor in chunks and streamed to disk, so a
/// 7B-shaped model needs little memory.
/// </summary>
public static class RandomModelWriter
{
    private const int ChunkElements = 1 << 20;

    /// <summary>Names and shapes of a Llama/Mistral checkpoint, in transformers' order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> TensorLayout(ModelConfig c)
    {
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim, ff = c.IntermediateSize;
        var list = new List<(string, long[])> { ("model.embed_tokens.weight", [c.VocabSize, h]) };
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add((p + "input_layernorm.weight", [h]));
            list.Add((p + "self_attn.q_proj.weight", [q, h]));
            list.Add((p + "self_attn.k_proj.weight", [kv, h]));
            list.Add((p + "self_attn.v_proj.weight", [kv, h]));
            list.Add((p + "self_attn.o_proj.weight", [h, q]));
            list.Add((p + "post_attention_layernorm.weight", [h]));
            list.Add((p + "mlp.gate_proj.weight", [ff, h]));
            list.Add((p + "mlp.up_proj.weight", [ff, h]));
            list.Add((p + "mlp.down_proj.weight", [h, ff]));
        }
        list.Add(("model.norm.weight", [h]));
        if (!c.TieWordEmbeddings)
            list.Add(("lm_head.weight", [c.VocabSize, h]));
        return list;
    }

    /// <param name="maxShardBytes">Split into shards of at most this many bytes (0: one file).</param>
    public static void Write(ModelConfig config, string directory, ulong seed, long maxShardBytes = 0, IProgress<ModelWriteProgress>? progress = null)
    {
        config.Validate("preset");
        Directory.CreateDirectory(directory);
        var dtype = SafetensorsDtypeExtensions.FromScalarType(EngineDtypes.FromTorchDtypeName(config.TorchDtype ?? "float32", "preset"));
        var layout = TensorLayout(config);
        var entries = layout.Select(t => new SafetensorsWriter.Entry(t.Name, dtype, t.Shape)).ToList();
        var indexOf = layout.Select((t, i) => (t.Name, i)).ToDictionary(x => x.Name, x => x.i);
        long total = entries.Sum(e => e.ByteLength);
        long written = 0;

        void WriteData(SafetensorsWriter.Entry e, Stream s)
        {
            WriteTensor(config, e, indexOf[e.Name], seed, s, n =>
            {
                written += n;
                progress?.Report(new ModelWriteProgress(written, total, e.Name));
            });
        }

        var shards = Shard(entries, maxShardBytes);
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(directory, CheckpointReader.SingleFileName), shards[0], WriteData, metadata);
        }
        else
        {
            var weightMap = new Dictionary<string, string>();
            for (int i = 0; i < shards.Count; i++)
            {
                string name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                SafetensorsWriter.Write(Path.Combine(directory, name), shards[i], WriteData, metadata);
                foreach (var e in shards[i])
                    weightMap[e.Name] = name;
            }
            SafetensorsWriter.WriteIndex(directory, weightMap, total);
        }

        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson());
        var generation = new Dictionary<string, object?>
        {
            ["bos_token_id"] = config.BosTokenId,
            ["eos_token_id"] = config.EosTokenIds,
        };
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), JsonSerializer.Serialize(generation, new JsonSerializerOptions { WriteIndented = true }));
        Gpt2TokenizerFiles.Write(directory, config.VocabSize);
    }

    private static List<List<SafetensorsWriter.Entry>> Shard(List<SafetensorsWriter.Entry> entries, long maxShardBytes)
    {
        var shards = new List<List<SafetensorsWriter.Entry>> { new() };
        long size = 0;
        foreach (var e in entries)
        {
            if (maxShardBytes > 0 && size > 0 && size + e.ByteLength > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add(e);
            size += e.ByteLength;
        }
        return shards;
    }

    /// <summary>
    /// Standard deviations chosen so activations stay O(1) and logits have a spread of about 2:
    /// linear layers 1/sqrt(fan_in), embeddings 2/sqrt(hidden), norm weights 1 ± 0.1.
    /// </summary>
    private static (double Mean, double Std) Distribution(ModelConfig c, SafetensorsWriter.Entry e) => e.Name switch
    {
        _ when e.Name.EndsWith("norm.weight", StringComparison.Ordinal) => (1.0, 0.1),
        "model.embed_tokens.weight" or "lm_head.weight" => (0.0, 2.0 / Math.Sqrt(c.HiddenSize)),
        _ => (0.0, 1.0 / Math.Sqrt(e.Shape[^1])),
    };

    private static void WriteTensor(ModelConfig config, SafetensorsWriter.Entry e, int tensorIndex, ulong seed, Stream stream, Action<long> advanced)
    {
        var (mean, std) = Distribution(config, e);
        long count = e.Shape.Aggregate(1L, (a, b) => a * b);
        int elementSize = e.Dtype.ElementSize();
        long chunks = (count + ChunkElements - 1) / ChunkElements;
        // Generate a batch of chunks in parallel, then write them in order.
        int parallel = Math.Max(1, Environment.ProcessorCount);
        var buffers = new byte[parallel][];
        for (long first = 0; first < chunks; first += parallel)
        {
            int n = (int)Math.Min(parallel, chunks - first);
            Parallel.For(0, n, i =>
            {
                long chunk = first + i;
                int len = (int)Math.Min(ChunkElements, count - chunk * ChunkElements);
                var buffer = buffers[i] ??= new byte[ChunkElements * 4];
                var rng = RandomWeights.For(seed, tensorIndex, chunk);
                for (int k = 0; k < len; k++)
                {
                    float value = (float)(mean + std * rng.NextNormal());
                    var span = buffer.AsSpan(k * elementSize);
                    switch (e.Dtype)
                    {
                        case SafetensorsDtype.F32:
                            BinaryPrimitives.WriteSingleLittleEndian(span, value);
                            break;
                        case SafetensorsDtype.F16:
                            BinaryPrimitives.WriteHalfLittleEndian(span, (Half)value);
                            break;
                        default:
                            BinaryPrimitives.WriteUInt16LittleEndian(span, ToBFloat16(value));
                            break;
                    }
                }
            });
            for (int i = 0; i < n; i++)
            {
                long chunk = first + i;
                int len = (int)Math.Min(ChunkElements, count - chunk * ChunkElements);
                stream.Write(buffers[i], 0, len * elementSize);
                advanced((long)len * elementSize);
            }
        }
    }

    /// <summary>Round-to-nearest-even float32 → bfloat16 (finite inputs).</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
