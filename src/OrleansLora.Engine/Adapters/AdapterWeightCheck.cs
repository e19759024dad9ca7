using System.Buffers;
using System.Globalization;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using TorchSharp;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// Refuses an adapter whose factors hold a NaN, an infinity, or a magnitude above
/// <see cref="AdapterLoadOptions.MaxAbsWeight"/> (lora_B counted with the scaling folded in, as it is
/// served): such an adapter would load and then turn every request on it into NaN logits. One
/// native pass per tensor (<see cref="FiniteCheck"/>); the error names the tensor, the element and
/// the value.
/// </summary>
internal static unsafe class AdapterWeightCheck
{
    private const int StreamBufferBytes = 1 << 20;

    /// <summary>Reads every factor through a small buffer (registration keeps no weights) and checks it.</summary>
    public static void Verify(SafetensorsFile file, PeftAdapterConfig config, IEnumerable<KeyValuePair<(int Layer, string Module, bool IsB), SafetensorsTensorInfo>> factors, float maxAbs)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StreamBufferBytes);
        try
        {
            foreach (var (key, info) in factors.OrderBy(f => f.Value.DataOffset))
            {
                int size = info.Dtype.ElementSize();
                float bound = Bound(config, key.IsB, maxAbs);
                int chunk = StreamBufferBytes / size * size;
                for (long done = 0; done < info.ByteLength; done += chunk)
                {
                    int n = (int)Math.Min(chunk, info.ByteLength - done);
                    file.ReadRange(info, done, buffer.AsSpan(0, n));
                    fixed (byte* p = buffer)
                    {
                        long at = FiniteCheck.FirstRefused(p, n / size, info.Dtype, bound);
                        if (at >= 0)
                            throw Refused(file.Path, info, done / size + at, FiniteCheck.ValueAt(p, at, info.Dtype), key.IsB, config, maxAbs);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Checks one factor already read into <paramref name="tensor"/> (contiguous, on the CPU, float32 / bfloat16 / float16).</summary>
    public static void Check(string path, SafetensorsTensorInfo info, torch.Tensor tensor, PeftAdapterConfig config, bool isB, float maxAbs)
    {
        var dtype = SafetensorsDtypeExtensions.FromScalarType(tensor.dtype);
        void* data = (void*)TensorMemory.DataPointer(tensor);
        long at = FiniteCheck.FirstRefused(data, tensor.NumberOfElements, dtype, Bound(config, isB, maxAbs));
        float value = at >= 0 ? FiniteCheck.ValueAt(data, at, dtype) : 0;
        GC.KeepAlive(tensor);
        if (at >= 0)
            throw Refused(path, info, at, value, isB, config, maxAbs);
    }

    /// <summary>lora_A is served as stored; lora_B multiplied by the scaling, so its bound is divided by it.</summary>
    private static float Bound(PeftAdapterConfig config, bool isB, float maxAbs) => isB ? (float)(maxAbs / config.Scaling) : maxAbs;

    private static ModelFormatException Refused(string path, SafetensorsTensorInfo info, long index, float value, bool isB, PeftAdapterConfig config, float maxAbs)
    {
        string at = Position(info.Shape, index);
        if (!float.IsFinite(value))
        {
            string what = float.IsNaN(value) ? "NaN" : value > 0 ? "+Infinity" : "-Infinity";
            return new ModelFormatException(path, info.Name, $"holds {what} at {at}: adapter weights must be finite numbers (a diverged or corrupted training run?); this adapter cannot be served.");
        }
        string scaled = isB ? string.Create(CultureInfo.InvariantCulture, $", times the scaling lora_alpha / r = {config.Scaling:G6}") : "";
        return new ModelFormatException(path, info.Name, string.Create(CultureInfo.InvariantCulture,
            $"holds {value:G6} at {at}{scaled}: above the largest accepted weight magnitude {maxAbs:G6} (float16's range); such a weight makes the adapter's outputs overflow. Trained LoRA weights are far smaller: the file is corrupted or the training diverged."));
    }

    /// <summary>The row-major position of element <paramref name="index"/> of <paramref name="shape"/>, e.g. "[3, 17]".</summary>
    private static string Position(long[] shape, long index)
    {
        var position = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            long extent = Math.Max(1, shape[d]);
            position[d] = index % extent;
            index /= extent;
        }
        return $"[{string.Join(", ", position)}]";
    }
}
