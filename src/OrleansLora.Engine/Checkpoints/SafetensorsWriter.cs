using System.Text.Json;

namespace OrleansLora.Engine.Checkpoints;

/// <summary>
/// Writes a safetensors file whose tensor data is produced one tensor at a time by a callback, so
/// a multi-gigabyte checkpoint is written without holding it in memory.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>A tensor to write: its bytes come from the callback passed to <see cref="Write"/>.</summary>
    public sealed record Entry(string Name, SafetensorsDtype Dtype, long[] Shape)
    {
        public long ByteLength => Shape.Aggregate(1L, (a, b) => a * b) * Dtype.ElementSize();
    }

    /// <param name="writeData">Writes exactly <see cref="Entry.ByteLength"/> bytes for the entry.</param>
    public static void Write(string path, IReadOnlyList<Entry> entries, Action<Entry, Stream> writeData, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata)
                    json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.Dtype.ToString());
                json.WriteStartArray("shape");
                foreach (long d in e.Shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.ByteLength;
            }
            json.WriteEndObject();
        }
        // The format pads the header with spaces to a multiple of 8 so tensor data is aligned.
        while (buffer.Length % 8 != 0)
            buffer.WriteByte((byte)' ');

        string temp = path + ".partial";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(BitConverter.GetBytes(buffer.Length));
            buffer.Position = 0;
            buffer.CopyTo(stream);
            foreach (var e in entries)
            {
                long before = stream.Position;
                writeData(e, stream);
                if (stream.Position - before != e.ByteLength)
                    throw new InvalidOperationException($"writer for tensor \"{e.Name}\" wrote {stream.Position - before} bytes, expected {e.ByteLength}.");
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Writes <c>model.safetensors.index.json</c> for shards written with <see cref="Write"/>.</summary>
    public static void WriteIndex(string directory, IReadOnlyDictionary<string, string> weightMap, long totalSize)
    {
        var index = new
        {
            metadata = new Dictionary<string, object> { ["total_size"] = totalSize },
            weight_map = new SortedDictionary<string, string>(weightMap.ToDictionary(), StringComparer.Ordinal),
        };
        File.WriteAllText(Path.Combine(directory, CheckpointReader.IndexFileName),
            JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true }));
    }
}
