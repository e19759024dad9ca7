using System.Buffers.Binary;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Quantization;

namespace OrleansLora.Engine.Tests.Support;

/// <summary>
/// Float32 checkpoints that an engine feature must equal, computed independently of the code
/// under test: LoRA merged into the weights in float64, and quantized weights replaced by their
/// quantize → dequantize round trip.
/// </summary>
internal static class ReferenceCheckpoints
{
    public static float[] ReadFloats(SafetensorsFile file, string name)
    {
        Assert.True(file.TryGet(name, out var info), name);
        byte[] bytes = file.ReadBytes(info);
        return info.Dtype switch
        {
            SafetensorsDtype.F32 => Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray(),
            SafetensorsDtype.BF16 => Enumerable.Range(0, bytes.Length / 2).Select(i => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2)) << 16)).ToArray(),
            _ => throw new NotSupportedException(info.Dtype.ToString()),
        };
    }

    /// <summary>
    /// W + scale · B · A for every adapted projection, in float64 from the raw files, written as a
    /// float32 checkpoint; with <paramref name="roundFactorsToBFloat16"/>, A and B are first rounded
    /// to the nearest bfloat16 (what bfloat16 adapter tables hold).
    /// </summary>
    public static void WriteMerged(string baseDir, string adapterDir, string target, double scale, bool roundFactorsToBFloat16 = false)
    {
        ModelFiles.CopyAll(baseDir, target);
        ModelFiles.EditConfig(target, config => config["torch_dtype"] = "float32");
        using var adapter = SafetensorsFile.Open(Path.Combine(adapterDir, PeftAdapter.WeightsFileName));
        using var weights = SafetensorsFile.Open(Path.Combine(baseDir, CheckpointReader.SingleFileName));
        var entries = weights.Tensors.Select(t => new SafetensorsWriter.Entry(t.Name, SafetensorsDtype.F32, t.Shape)).ToList();
        SafetensorsWriter.Write(Path.Combine(target, CheckpointReader.SingleFileName), entries, (e, stream) =>
        {
            float[] w = ReadFloats(weights, e.Name);
            string key = "base_model.model." + e.Name[..^".weight".Length];
            if (adapter.TryGet(key + ".lora_A.weight", out var aInfo))
            {
                float[] a = ReadFloats(adapter, key + ".lora_A.weight"), b = ReadFloats(adapter, key + ".lora_B.weight");
                if (roundFactorsToBFloat16)
                {
                    a = Array.ConvertAll(a, RoundToBFloat16);
                    b = Array.ConvertAll(b, RoundToBFloat16);
                }
                int r = (int)aInfo.Shape[0], inF = (int)aInfo.Shape[1], outF = (int)e.Shape[0];
                for (int o = 0; o < outF; o++)
                    for (int i = 0; i < inF; i++)
                    {
                        double delta = 0;
                        for (int k = 0; k < r; k++)
                            delta += (double)b[o * r + k] * a[k * inF + i];
                        w[o * inF + i] = (float)(w[o * inF + i] + scale * delta);
                    }
            }
            foreach (float v in w)
                stream.Write(BitConverter.GetBytes(v));
        });
    }

    /// <summary>
    /// The checkpoint with every linear weight replaced by its quantize→dequantize round trip
    /// (float32, untied so the head can differ from the embedding): what the quantized engine must
    /// compute exactly, up to float32 rounding.
    /// </summary>
    public static void WriteDequantized(string source, string target, QuantizationMode mode)
    {
        ModelFiles.CopyAll(source, target);
        ModelFiles.EditConfig(target, config =>
        {
            config["torch_dtype"] = "float32";
            config["tie_word_embeddings"] = false;
        });

        using var file = SafetensorsFile.Open(Path.Combine(source, CheckpointReader.SingleFileName));
        var entries = file.Tensors.Select(t => new SafetensorsWriter.Entry(t.Name, SafetensorsDtype.F32, t.Shape)).ToList();
        entries.Add(new SafetensorsWriter.Entry("lm_head.weight", SafetensorsDtype.F32, file.Tensors.First(t => t.Name == "model.embed_tokens.weight").Shape));
        SafetensorsWriter.Write(Path.Combine(target, CheckpointReader.SingleFileName), entries, (e, stream) =>
        {
            bool linear = e.Name.EndsWith("proj.weight", StringComparison.Ordinal) || e.Name == "lm_head.weight";
            using var stored = file.Read(file.Tensors.First(t => t.Name == (e.Name == "lm_head.weight" ? "model.embed_tokens.weight" : e.Name)));
            using var w = stored.to(TorchSharp.torch.ScalarType.Float32);
            using var roundTrip = !linear ? w.clone()
                : mode == QuantizationMode.Nf4 ? Dequantized(Nf4Linear.Quantize(w)) : Dequantized(Int8Linear.Quantize(w));
            stream.Write(roundTrip.bytes);
        });
    }

    private static TorchSharp.torch.Tensor Dequantized(ILinearLayer layer)
    {
        using (layer)
            return layer is Nf4Linear nf4 ? nf4.Dequantize() : ((Int8Linear)layer).Dequantize();
    }

    /// <summary>Largest |actual - expected| / max(1, |expected|).</summary>
    /// <summary>The nearest bfloat16 (ties to even), written out from the bit layout rather than through the code under test.</summary>
    public static float RoundToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u);
    }

    public static double WorstRelative(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Max(1.0, Math.Abs(expected[i])));
        return worst;
    }
}
