using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Models;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>
/// Writes one case's adapter directory: a valid PEFT adapter to start from, and raw edits of its files
/// (config JSON, the safetensors header, length field and data, file types, links), made without the
/// loader under test.
/// </summary>
public sealed class CaseContext(string storeRoot, string name, string outside, ModelConfig model)
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    public const string QA = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
    public const string QB = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
    public const string VB = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";

    public string StoreRoot { get; } = storeRoot;
    public string Directory { get; } = Path.Combine(storeRoot, name);
    /// <summary>This case's own directory outside the store.</summary>
    public string Outside { get; } = Path.Combine(outside, name);
    public ModelConfig Model { get; } = model;
    public string ConfigPath => Path.Combine(Directory, ConfigFile);
    public string WeightsPath => Path.Combine(Directory, WeightsFile);

    /// <summary>A valid adapter (q_proj and v_proj of both layers) in <paramref name="directory"/> (default: the case's).</summary>
    public void WriteValid(int rank = 4, double? alpha = null, string? directory = null) =>
        PeftAdapterWriter.WriteRandom(Model, directory ?? Directory, rank, alpha ?? 2.0 * rank, [LoraTargetModules.QProj, LoraTargetModules.VProj], seed: 17);

    public void EditConfig(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(ConfigPath))!.AsObject();
        edit(json);
        File.WriteAllText(ConfigPath, json.ToJsonString());
    }

    public void WriteConfigText(string text) => File.WriteAllText(ConfigPath, text);

    /// <summary>The weight file's header (parsed) and data section.</summary>
    public (JsonObject Header, byte[] Data) ReadWeights()
    {
        byte[] bytes = File.ReadAllBytes(WeightsPath);
        long length = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)length))!.AsObject();
        return (header, bytes[(int)(8 + length)..]);
    }

    /// <summary>Writes the weight file from a header text and data; <paramref name="lengthField"/> overrides the 8-byte length.</summary>
    public void WriteWeights(string header, byte[] data, ulong? lengthField = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        using var stream = File.Create(WeightsPath);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, lengthField ?? (ulong)h.Length);
        stream.Write(length);
        stream.Write(h);
        stream.Write(data);
    }

    /// <summary>Edits the header JSON, keeping the data section.</summary>
    public void EditHeader(Action<JsonObject> edit)
    {
        var (header, data) = ReadWeights();
        edit(header);
        WriteWeights(header.ToJsonString(), data);
    }

    public void SetLengthField(ulong value)
    {
        var (header, data) = ReadWeights();
        WriteWeights(header.ToJsonString(), data, value);
    }

    public void Truncate(long length)
    {
        using var stream = new FileStream(WeightsPath, FileMode.Open);
        stream.SetLength(length);
    }

    public long HeaderLength => BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(WeightsPath).AsSpan(0, 8));

    public long WeightsLength => new FileInfo(WeightsPath).Length;

    /// <summary>
    /// Rewrites every tensor in the dtype <paramref name="dtypeOf"/> picks (F32, BF16 or F16), after
    /// <paramref name="edit"/> changed its values; offsets are laid out afresh.
    /// </summary>
    public void Retensor(Func<string, string> dtypeOf, Action<string, float[]>? edit = null)
    {
        var (header, data) = ReadWeights();
        var output = new JsonObject();
        var bytes = new MemoryStream();
        foreach (var (key, node) in header.Where(p => p.Key != "__metadata__").OrderBy(p => (long)p.Value!["data_offsets"]![0]!).ToList())
        {
            var entry = node!.AsObject();
            long begin = (long)entry["data_offsets"]![0]!, end = (long)entry["data_offsets"]![1]!;
            var values = new float[(end - begin) / 4];
            for (int i = 0; i < values.Length; i++)
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan((int)begin + 4 * i));
            edit?.Invoke(key, values);
            string dtype = dtypeOf(key);
            long start = bytes.Length;
            bytes.Write(Encode(values, dtype));
            output[key] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = entry["shape"]!.DeepClone(),
                ["data_offsets"] = new JsonArray(start, bytes.Length),
            };
        }
        WriteWeights(output.ToJsonString(), bytes.ToArray());
    }

    /// <summary>Sets element <paramref name="index"/> of <paramref name="key"/>, every tensor stored as <paramref name="dtype"/>.</summary>
    public void SetValue(string key, int index, float value, string dtype = "F32") =>
        Retensor(_ => dtype, (k, values) =>
        {
            if (k == key)
                values[index] = value;
        });

    private static byte[] Encode(float[] values, string dtype)
    {
        int size = dtype == "F32" ? 4 : 2;
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            var at = bytes.AsSpan(i * size);
            if (dtype == "F32")
                BinaryPrimitives.WriteSingleLittleEndian(at, values[i]);
            else if (dtype == "F16")
                BinaryPrimitives.WriteHalfLittleEndian(at, (Half)values[i]);
            else
                BinaryPrimitives.WriteUInt16LittleEndian(at, float.IsNaN(values[i]) ? (ushort)0x7fc0 : (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16));
        }
        return bytes;
    }

    /// <summary>Mode 000 (a root user still reads it: the cases that use this accept either answer).</summary>
    public void MakeUnreadable(string file)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path.Combine(Directory, file), UnixFileMode.None);
    }

    public void ReplaceWithFifo(string file)
    {
        File.Delete(Path.Combine(Directory, file));
        Fifo.Create(Path.Combine(Directory, file));
    }

    public void ReplaceWithDirectory(string file)
    {
        File.Delete(Path.Combine(Directory, file));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, file));
    }

    public void ReplaceWithLink(string file, string target)
    {
        File.Delete(Path.Combine(Directory, file));
        File.CreateSymbolicLink(Path.Combine(Directory, file), target);
    }

    /// <summary>A valid adapter outside the store (a link's target), returning its directory.</summary>
    public string WriteValidOutside(string sub = "victim")
    {
        string dir = Path.Combine(Outside, sub);
        WriteValid(directory: dir);
        return dir;
    }
}
