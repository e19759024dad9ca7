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
}
