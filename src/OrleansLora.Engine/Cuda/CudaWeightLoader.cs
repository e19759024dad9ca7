using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Quantization;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// Reads a Hugging Face checkpoint with <see cref="CheckpointReader"/>, under the names and stackings
/// <see cref="LlamaModel.Load"/> uses (tied embeddings; q/k/v stacked by rows; gate/up stacked), and hands every tensor
/// to the CUDA model with one set_weight each: bf16 as read, or NF4 / int8 quantized here on the host from float32 by
/// the CPU kernels (<see cref="Nf4Linear"/>, <see cref="Int8Linear"/>: the same codes the CPU runner computes). The
/// embedding and the norms are always bf16; lm_head is quantized only with <see cref="ModelLoadOptions.QuantizeLmHead"/>.
/// Host memory: one layer's tensors at a time (the library copies each before set_weight returns).
/// </summary>
internal static unsafe class CudaWeightLoader
{
    /// <summary>The format of the decoder projections under <paramref name="mode"/>.</summary>
    public static int FormatOf(QuantizationMode mode) => mode switch
    {
        QuantizationMode.None => CudaNative.Format.BFloat16,
        QuantizationMode.Nf4 => CudaNative.Format.Nf4,
        QuantizationMode.Int8 => CudaNative.Format.Int8,
        _ => throw new ArgumentException($"quantization mode {mode} is not one the CUDA runner stores (none, nf4, int8).", nameof(mode)),
    };

    /// <summary>lm_head's format: the projections' when quantized and <see cref="ModelLoadOptions.QuantizeLmHead"/>, else bf16.</summary>
    public static int LmHeadFormatOf(ModelLoadOptions options) =>
        options.Quantization != QuantizationMode.None && options.QuantizeLmHead ? FormatOf(options.Quantization) : CudaNative.Format.BFloat16;

    public static void Load(CudaModel model, string directory, ModelConfig config, ModelLoadOptions options)
    {
        NativeRuntime.EnsureInitialized(); // the quantizers are libolora_kernels'
        int format = FormatOf(options.Quantization);
        int headFormat = LmHeadFormatOf(options);
        SafetensorsDtype? storedDtype = config.TorchDtype is { } declared
            ? SafetensorsDtypeExtensions.FromScalarType(EngineDtypes.FromTorchDtypeName(declared, Path.Combine(directory, "config.json")))
            : null;
        long h = config.HiddenSize, q = (long)config.NumAttentionHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim;
        long ff = config.IntermediateSize, vocab = config.VocabSize;
        using var reader = CheckpointReader.Open(directory);

        Tensor Read(string name, ScalarType dtype, params long[] shape) => reader.Load(name, shape, dtype, storedDtype);
        ScalarType ReadDtype(int f) => f == CudaNative.Format.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;

        // Tied checkpoints usually omit lm_head.weight; a copy some still carry is ignored (as LlamaModel.Load does).
        string headName = config.TieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
        using (var embed = Read("model.embed_tokens.weight", ScalarType.BFloat16, vocab, h))
        {
            SetBf16(model, CudaNative.Weight.Embed, -1, embed, "model.embed_tokens.weight");
            if (config.TieWordEmbeddings && headFormat == CudaNative.Format.BFloat16)
                SetBf16(model, CudaNative.Weight.LmHead, -1, embed, "lm_head (tied to model.embed_tokens.weight)");
        }
        if (!(config.TieWordEmbeddings && headFormat == CudaNative.Format.BFloat16))
        {
            using var head = Read(headName, ReadDtype(headFormat), vocab, h);
            SetLinear(model, directory, CudaNative.Weight.LmHead, -1, head, headFormat, headName);
        }
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string p = $"model.layers.{i}.";
            var dtype = ReadDtype(format);
            using (var norm = Read(p + "input_layernorm.weight", ScalarType.BFloat16, h))
                SetBf16(model, CudaNative.Weight.InputNorm, i, norm, p + "input_layernorm.weight");
            using (var norm = Read(p + "post_attention_layernorm.weight", ScalarType.BFloat16, h))
                SetBf16(model, CudaNative.Weight.PostNorm, i, norm, p + "post_attention_layernorm.weight");
            using (var qkv = Stacked(reader, storedDtype, dtype, h, (p + "self_attn.q_proj.weight", q), (p + "self_attn.k_proj.weight", kv), (p + "self_attn.v_proj.weight", kv)))
                SetLinear(model, directory, CudaNative.Weight.Qkv, i, qkv, format, p + "self_attn.{q,k,v}_proj.weight");
            using (var o = Read(p + "self_attn.o_proj.weight", dtype, h, q))
                SetLinear(model, directory, CudaNative.Weight.O, i, o, format, p + "self_attn.o_proj.weight");
            using (var gateUp = Stacked(reader, storedDtype, dtype, h, (p + "mlp.gate_proj.weight", ff), (p + "mlp.up_proj.weight", ff)))
                SetLinear(model, directory, CudaNative.Weight.GateUp, i, gateUp, format, p + "mlp.{gate,up}_proj.weight");
            using (var down = Read(p + "mlp.down_proj.weight", dtype, h, ff))
                SetLinear(model, directory, CudaNative.Weight.Down, i, down, format, p + "mlp.down_proj.weight");
        }
        using (var norm = Read("model.norm.weight", ScalarType.BFloat16, h))
            SetBf16(model, CudaNative.Weight.FinalNorm, -1, norm, "model.norm.weight");
    }

    /// <summary>Parts [rows_i, cols] read one at a time and stacked by rows: [Σ rows_i, cols].</summary>
    private static Tensor Stacked(CheckpointReader reader, SafetensorsDtype? storedDtype, ScalarType dtype, long cols, params (string Name, long Rows)[] parts)
    {
        var loaded = new List<Tensor>(parts.Length);
        try
        {
            foreach (var (name, rows) in parts)
                loaded.Add(reader.Load(name, [rows, cols], dtype, storedDtype));
            return cat(loaded, 0).DetachFromDisposeScope();
        }
        finally
        {
            foreach (var t in loaded)
                t.Dispose();
        }
    }

    private static void SetBf16(CudaModel model, int kind, int layer, Tensor weight, string what)
    {
        var data = (void*)TensorMemory.DataPointer(weight);
        model.SetWeight(kind, layer, data, weight.NumberOfElements * 2, null, 0, what);
        GC.KeepAlive(weight);
    }

    /// <summary>A linear layer's weight [n, k] (bf16 for <see cref="CudaNative.Format.BFloat16"/>, else float32 to quantize).</summary>
    private static void SetLinear(CudaModel model, string directory, int kind, int layer, Tensor weight, int format, string what)
    {
        switch (format)
        {
            case CudaNative.Format.BFloat16:
                SetBf16(model, kind, layer, weight, what);
                break;
            case CudaNative.Format.Nf4:
                using (var nf4 = Quantize(() => Nf4Linear.Quantize(weight), directory, what))
                {
                    model.SetWeight(kind, layer, (void*)TensorMemory.DataPointer(nf4.Codes), nf4.Codes.NumberOfElements,
                        (void*)TensorMemory.DataPointer(nf4.Absmax), nf4.Absmax.NumberOfElements * 4, what);
                    GC.KeepAlive(nf4);
                }
                break;
            case CudaNative.Format.Int8:
                using (var int8 = Quantize(() => Int8Linear.Quantize(weight), directory, what))
                {
                    model.SetWeight(kind, layer, (void*)TensorMemory.DataPointer(int8.Q), int8.Q.NumberOfElements,
                        (void*)TensorMemory.DataPointer(int8.Scales), int8.Scales.NumberOfElements * 4, what);
                    GC.KeepAlive(int8);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "unknown CUDA weight format.");
        }
    }

    // The quantizers' own message says what is wrong but not which tensor.
    private static T Quantize<T>(Func<T> quantize, string directory, string what)
    {
        try
        {
            return quantize();
        }
        catch (ArgumentException ex)
        {
            throw new ModelFormatException(directory, what, ex.Message, ex);
        }
    }
}
