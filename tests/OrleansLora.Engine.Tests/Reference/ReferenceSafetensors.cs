using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace OrleansLora.Engine.Tests.Reference;

/// <summary>
/// A minimal safetensors reader, independent of the engine: an 8-byte little-endian header
/// length, a JSON header {name: {dtype, shape, data_offsets}} (offsets relative to the end of the
/// header), then the raw data. F32, F16 and BF16 are widened to float64.
/// </summary>
public static class ReferenceSafetensors
{
    /// <summary>All tensors of a model directory: model.safetensors, or the shards listed in model.safetensors.index.json.</summary>
    public static Dictionary<string, ReferenceTensor> LoadDirectory(string directory)
    {
        string single = Path.Combine(directory, "model.safetensors");
        string index = Path.Combine(directory, "model.safetensors.index.json");
        if (File.Exists(index))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(index));
            var weightMap = doc.RootElement.GetProperty("weight_map");
            var byFile = new Dictionary<string, List<string>>();
            foreach (var entry in weightMap.EnumerateObject())
            {
                string file = entry.Value.GetString()!;
                if (!byFile.TryGetValue(file, out var names))
                    byFile[file] = names = [];
                names.Add(entry.Name);
            }
            var all = new Dictionary<string, ReferenceTensor>();
            foreach (var (file, names) in byFile)
            {
                var tensors = LoadFile(Path.Combine(directory, file));
                foreach (string name in names)
                {
                    if (!tensors.TryGetValue(name, out var t))
                        throw new InvalidDataException($"reference: index maps {name} to {file}, which lacks it.");
                    all.Add(name, t);
                }
            }
            return all;
        }
        if (File.Exists(single))
            return LoadFile(single);
        throw new FileNotFoundException($"reference: neither model.safetensors nor model.safetensors.index.json in {directory}.");
    }

    public static Dictionary<string, ReferenceTensor> LoadFile(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
            throw new InvalidDataException($"reference: {path} is too short for a safetensors header.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"reference: {path} header length {headerLength} exceeds the file.");
        long dataStart = 8 + (long)headerLength;
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        using var doc = JsonDocument.Parse(header);

        var result = new Dictionary<string, ReferenceTensor>();
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
                continue;
            string dtype = entry.Value.GetProperty("dtype").GetString()!;
            long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets");
            long begin = offsets[0].GetInt64(), end = offsets[1].GetInt64();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            int elementSize = dtype switch
            {
                "F32" => 4,
                "F16" or "BF16" => 2,
                _ => throw new InvalidDataException($"reference: dtype {dtype} of {entry.Name} is not supported."),
            };
            if (end - begin != count * elementSize || dataStart + end > bytes.Length)
                throw new InvalidDataException($"reference: {entry.Name} has offsets [{begin}, {end}) inconsistent with {dtype} shape [{string.Join(", ", shape)}].");

            var data = new double[count];
            var src = bytes.AsSpan((int)(dataStart + begin), (int)(end - begin));
            switch (dtype)
            {
                case "F32":
                    for (int i = 0; i < count; i++)
                        data[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
                    break;
                case "F16":
                    for (int i = 0; i < count; i++)
                        data[i] = (double)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]));
                    break;
                default: // BF16: the upper half of a float32
                    for (int i = 0; i < count; i++)
                        data[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]) << 16);
                    break;
            }
            result.Add(entry.Name, new ReferenceTensor(shape, data));
        }
        return result;
    }
}
