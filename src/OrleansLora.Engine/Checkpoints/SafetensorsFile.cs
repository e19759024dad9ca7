using System.Text.Json;
using OrleansLora.Engine.Files;
using OrleansLora.Engine.Models;
using TorchSharp;

namespace OrleansLora.Engine.Checkpoints;

/// <summary>
/// Reads a safetensors file: an 8-byte little-endian header length, a JSON header, then raw
/// little-endian tensor data. Tensors are read straight from the file into tensor memory, one at a
/// time, so loading never holds the checkpoint twice. Every inconsistency is a
/// <see cref="ModelFormatException"/> naming the file and tensor.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Headers beyond this are refused rather than allocated (the format's own limit is 100 MB).</summary>
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;
    private readonly Dictionary<string, SafetensorsTensorInfo> _tensors;

    private SafetensorsFile(string path, Microsoft.Win32.SafeHandles.SafeFileHandle handle, Dictionary<string, SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        _tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyCollection<SafetensorsTensorInfo> Tensors => _tensors.Values;

    public bool TryGet(string name, out SafetensorsTensorInfo info) => _tensors.TryGetValue(name, out info!);

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path))
            throw new ModelFormatException(path, "safetensors file not found.");
        return FromHandle(path, File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess), MaxHeaderBytes);
    }

    /// <summary>
    /// Opens a file that came from elsewhere (an adapter): as <see cref="RegularFiles.OpenRead"/> does
    /// (a regular file, inside <paramref name="sandbox"/> when given, opened without blocking), with
    /// a header of at most <paramref name="maxHeaderBytes"/>.
    /// </summary>
    public static SafetensorsFile Open(string path, long maxHeaderBytes, FileSandbox? sandbox)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHeaderBytes);
        return FromHandle(path, RegularFiles.OpenRead(path, long.MaxValue, sandbox), Math.Min(maxHeaderBytes, MaxHeaderBytes));
    }

    private static SafetensorsFile FromHandle(string path, Microsoft.Win32.SafeHandles.SafeFileHandle handle, long maxHeaderBytes)
    {
        try
        {
            long fileLength = RandomAccess.GetLength(handle);
            Span<byte> lengthBytes = stackalloc byte[8];
            if (fileLength < 8 || RandomAccess.Read(handle, lengthBytes, 0) != 8)
                throw new ModelFormatException(path, $"truncated: {fileLength} bytes, too short for the 8-byte header length.");
            // An unsigned 64-bit field: a value with the top bit set reads as negative here.
            long headerLength = BitConverter.ToInt64(lengthBytes);
            if (headerLength <= 0 || headerLength > fileLength - 8)
                throw new ModelFormatException(path, $"header length {(ulong)headerLength} is beyond the file ({fileLength} bytes).");
            if (headerLength > maxHeaderBytes)
                throw new ModelFormatException(path, $"header length {headerLength} is above the {maxHeaderBytes} bytes accepted.");
            byte[] header = new byte[headerLength];
            if (RandomAccess.Read(handle, header, 8) != headerLength)
                throw new ModelFormatException(path, "could not read the whole header.");
            long dataStart = 8 + headerLength;
            var (tensors, metadata) = ParseHeader(path, header, dataStart, fileLength);
            return new SafetensorsFile(path, handle, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, SafetensorsTensorInfo>, IReadOnlyDictionary<string, string>) ParseHeader(string path, byte[] header, long dataStart, long fileLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(path, $"header is not valid JSON: {ex.Message}", ex);
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, "header is not a JSON object.");

        var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        long dataLength = fileLength - dataStart;
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                }
                continue;
            }
            if (!tensors.TryAdd(property.Name, ParseEntry(path, property.Name, property.Value, dataStart, dataLength)))
                throw new ModelFormatException(path, property.Name, "appears twice in the header.");
        }
        RequireDisjoint(path, tensors.Values);
        return (tensors, metadata);
    }

    /// <summary>Tensors may not share bytes (the format lays them out one after another).</summary>
    private static void RequireDisjoint(string path, IEnumerable<SafetensorsTensorInfo> tensors)
    {
        SafetensorsTensorInfo? previous = null;
        foreach (var t in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.DataOffset))
        {
            if (previous is not null && t.DataOffset < previous.DataOffset + previous.ByteLength)
                throw new ModelFormatException(path, t.Name, $"its data_offsets overlap those of \"{previous.Name}\".");
            previous = t;
        }
    }

    private static SafetensorsTensorInfo ParseEntry(string path, string name, JsonElement entry, long dataStart, long dataLength)
    {
        try
        {
            string dtypeText = entry.GetProperty("dtype").GetString() ?? "";
            // Exact names only: Enum.TryParse would also take "0" or "F32, F16".
            SafetensorsDtype dtype = dtypeText switch
            {
                "F32" => SafetensorsDtype.F32,
                "F16" => SafetensorsDtype.F16,
                "BF16" => SafetensorsDtype.BF16,
                _ => throw new ModelFormatException(path, name, $"dtype \"{dtypeText}\" is not supported; supported: F32, F16, BF16."),
            };
            long[] shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (shape.Any(d => d < 0))
                throw new ModelFormatException(path, name, "shape has a negative dimension.");
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw new ModelFormatException(path, name, "data_offsets must be [begin, end] with 0 <= begin <= end.");
            if (offsets[1] > dataLength)
                throw new ModelFormatException(path, name, $"data ends at byte {offsets[1]} of the data section, but the file holds only {dataLength} (truncated file?).");
            var info = new SafetensorsTensorInfo(name, dtype, shape, dataStart + offsets[0], offsets[1] - offsets[0]);
            long expected = checked(info.ElementCount * dtype.ElementSize());
            if (expected != info.ByteLength)
                throw new ModelFormatException(path, name, $"holds {info.ByteLength} bytes but {dtype} {info.ShapeText} needs {expected}.");
            return info;
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            throw new ModelFormatException(path, name, $"malformed header entry: {ex.Message}", ex);
        }
    }

    /// <summary>Reads a tensor into a new CPU tensor of its stored dtype.</summary>
    public torch.Tensor Read(SafetensorsTensorInfo info)
    {
        var tensor = torch.empty(info.Shape, info.Dtype.ToScalarType());
        try
        {
            ReadInto(info, tensor);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the data of <paramref name="tensors"/>, all of one dtype, with one read into one flat
    /// tensor of that dtype; each tensor is then <see cref="ViewOf"/> it. One read instead of one
    /// per tensor: a rank-16 adapter is 112 small tensors. Null when the dtypes differ.
    /// <paramref name="dataOffset"/> is where the flat tensor starts in the file.
    /// </summary>
    public torch.Tensor? ReadFlat(IReadOnlyCollection<SafetensorsTensorInfo> tensors, out long dataOffset)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        dataOffset = 0;
        if (tensors.Count == 0 || tensors.Select(t => t.Dtype).Distinct().Count() != 1)
            return null;
        var first = tensors.MinBy(t => t.DataOffset)!;
        long end = tensors.Max(t => t.DataOffset + t.ByteLength);
        int size = first.Dtype.ElementSize();
        if (tensors.Any(t => (t.DataOffset - first.DataOffset) % size != 0) || (end - first.DataOffset) % size != 0)
            return null;
        dataOffset = first.DataOffset;
        var span = first with { Name = $"{tensors.Count} tensors from {first.Name}", Shape = [(end - first.DataOffset) / size], ByteLength = end - first.DataOffset };
        return Read(span);
    }

    /// <summary>The tensor <paramref name="info"/> as a view of <paramref name="flat"/>, read by <see cref="ReadFlat"/> from <paramref name="dataOffset"/>.</summary>
    public static torch.Tensor ViewOf(torch.Tensor flat, long dataOffset, SafetensorsTensorInfo info)
    {
        ArgumentNullException.ThrowIfNull(flat);
        ArgumentNullException.ThrowIfNull(info);
        long start = (info.DataOffset - dataOffset) / info.Dtype.ElementSize();
        using var part = flat.narrow(0, start, info.ElementCount);
        return part.view(info.Shape);
    }

    /// <summary>Reads the raw little-endian bytes of a tensor (tests, tools).</summary>
    public byte[] ReadBytes(SafetensorsTensorInfo info)
    {
        byte[] buffer = new byte[info.ByteLength];
        ReadExactly(info, buffer);
        return buffer;
    }

    /// <summary>
    /// Reads bytes <paramref name="offset"/> .. offset + destination.Length of a tensor's data into
    /// <paramref name="destination"/>: for callers that stream a tensor through a small buffer.
    /// </summary>
    public void ReadRange(SafetensorsTensorInfo info, long offset, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (offset < 0 || offset + destination.Length > info.ByteLength)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"bytes {offset}..{offset + destination.Length} are not within the {info.ByteLength} bytes of {info.Name}.");
        ReadExactly(info, destination, offset);
    }

    private unsafe void ReadInto(SafetensorsTensorInfo info, torch.Tensor tensor)
    {
        // Chunked so a single read call never exceeds int.MaxValue bytes (a 7B embedding is 500 MB+).
        const int chunk = 1 << 28;
        byte* basePtr = (byte*)Native.TensorMemory.DataPointer(tensor);
        for (long done = 0; done < info.ByteLength;)
        {
            int n = (int)Math.Min(chunk, info.ByteLength - done);
            ReadExactly(info, new Span<byte>(basePtr + done, n), done);
            done += n;
        }
        GC.KeepAlive(tensor);
    }

    private void ReadExactly(SafetensorsTensorInfo info, Span<byte> destination, long relativeOffset = 0)
    {
        long offset = info.DataOffset + relativeOffset;
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, destination, offset);
            if (read <= 0)
                throw new ModelFormatException(Path, info.Name, "file ended while reading tensor data (truncated file?).");
            destination = destination[read..];
            offset += read;
        }
    }

    public void Dispose() => _handle.Dispose();
}
