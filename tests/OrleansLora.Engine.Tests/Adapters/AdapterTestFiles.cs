using System.Buffers.Binary;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Checkpoints;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>Reads and edits adapter files independently of the loader under test.</summary>
internal static class AdapterTestFiles
{
    public static float[] RawFloats(string adapterDir, string key)
    {
        using var file = SafetensorsFile.Open(Path.Combine(adapterDir, PeftAdapter.WeightsFileName));
        Assert.True(file.TryGet(key, out var info), $"tensor {key} not in file");
        Assert.Equal(SafetensorsDtype.F32, info.Dtype);
        byte[] bytes = file.ReadBytes(info);
        var values = new float[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        return values;
    }

    public static void EditConfig(string adapterDir, Action<JsonObject> edit)
    {
        string path = Path.Combine(adapterDir, PeftAdapterConfig.FileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>Rewrites the weights with tensors renamed (null drops them) and extra ones added.</summary>
    public static void RewriteWeights(string adapterDir, Func<string, string?> rename, IReadOnlyList<(string Name, long[] Shape)>? extra = null)
    {
        string path = Path.Combine(adapterDir, PeftAdapter.WeightsFileName);
        var kept = new List<(SafetensorsWriter.Entry Entry, byte[] Bytes)>();
        using (var file = SafetensorsFile.Open(path))
        {
            foreach (var info in file.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                if (rename(info.Name) is { } name)
                    kept.Add((new SafetensorsWriter.Entry(name, info.Dtype, info.Shape), file.ReadBytes(info)));
            }
        }
        foreach (var (name, shape) in extra ?? [])
        {
            var entry = new SafetensorsWriter.Entry(name, SafetensorsDtype.F32, shape);
            kept.Add((entry, new byte[entry.ByteLength]));
        }
        var bytesOf = kept.ToDictionary(k => k.Entry.Name, k => k.Bytes);
        SafetensorsWriter.Write(path, kept.Select(k => k.Entry).ToList(), (e, s) => s.Write(bytesOf[e.Name]));
    }

    /// <summary>
    /// Rewrites every tensor of the (float32) weights in <paramref name="dtype"/>, with element
    /// <paramref name="index"/> of <paramref name="key"/> set to <paramref name="value"/> (rounded to the dtype).
    /// </summary>
    public static void SetValue(string adapterDir, string key, long index, float value, SafetensorsDtype dtype = SafetensorsDtype.F32)
    {
        string path = Path.Combine(adapterDir, PeftAdapter.WeightsFileName);
        var tensors = new List<(SafetensorsWriter.Entry Entry, float[] Values)>();
        using (var file = SafetensorsFile.Open(path))
        {
            foreach (var info in file.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                Assert.Equal(SafetensorsDtype.F32, info.Dtype);
                byte[] bytes = file.ReadBytes(info);
                var values = new float[bytes.Length / 4];
                for (int i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
                tensors.Add((new SafetensorsWriter.Entry(info.Name, dtype, info.Shape), values));
            }
        }
        var target = tensors.Single(t => t.Entry.Name == key);
        target.Values[index] = value;
        var valuesOf = tensors.ToDictionary(t => t.Entry.Name, t => t.Values);
        SafetensorsWriter.Write(path, tensors.Select(t => t.Entry).ToList(), (e, s) => s.Write(Encode(valuesOf[e.Name], e.Dtype)));
    }

    /// <summary>Little-endian bytes of <paramref name="values"/> in <paramref name="dtype"/> (bfloat16: truncated, NaN kept NaN).</summary>
    public static byte[] Encode(float[] values, SafetensorsDtype dtype)
    {
        int size = dtype == SafetensorsDtype.F32 ? 4 : 2;
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            var at = bytes.AsSpan(i * size);
            switch (dtype)
            {
                case SafetensorsDtype.F32:
                    BinaryPrimitives.WriteSingleLittleEndian(at, values[i]);
                    break;
                case SafetensorsDtype.F16:
                    BinaryPrimitives.WriteHalfLittleEndian(at, (Half)values[i]);
                    break;
                default:
                    int bits = BitConverter.SingleToInt32Bits(values[i]);
                    BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)(float.IsNaN(values[i]) ? 0x7fc0 : bits >>> 16));
                    break;
            }
        }
        return bytes;
    }

    /// <summary>Writes a safetensors file from a raw JSON header and data section (malformed on purpose).</summary>
    public static void WriteRaw(string path, string headerJson, byte[] data)
    {
        byte[] header = System.Text.Encoding.UTF8.GetBytes(headerJson);
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((long)header.Length));
        stream.Write(header);
        stream.Write(data);
    }
}
