using System.Text.Json;
using OrleansLora.Engine.Models;
using TorchSharp;

namespace OrleansLora.Engine.Checkpoints;

/// <summary>
/// A Hugging Face checkpoint: <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c>. Loads tensors by name, checks their shape, and converts
/// each to the compute dtype one tensor at a time.
/// </summary>
public sealed class CheckpointReader : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files = [];
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Info)> _byName = new(StringComparer.Ordinal);

    private CheckpointReader(string directory) => Directory = directory;

    public string Directory { get; }
    public IEnumerable<string> TensorNames => _byName.Keys;

    public static CheckpointReader Open(string directory)
    {
        var reader = new CheckpointReader(directory);
        try
        {
            string index = System.IO.Path.Combine(directory, IndexFileName);
            string single = System.IO.Path.Combine(directory, SingleFileName);
            if (File.Exists(index))
                reader.OpenSharded(index);
            else if (File.Exists(single))
                reader.Add(SafetensorsFile.Open(single));
            else
                throw new ModelFormatException(directory, $"no {SingleFileName} or {IndexFileName} (pickled .bin checkpoints are not supported; convert them to safetensors).");
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private void OpenSharded(string indexPath)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath)); // ReadAllText drops a BOM
            weightMap = doc.RootElement.GetProperty("weight_map").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.GetString() ?? throw new FormatException($"weight_map entry \"{p.Name}\" is not a string"), StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelFormatException(indexPath, $"not a valid safetensors index: {ex.Message}", ex);
        }
        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (string shardName in weightMap.Values.Distinct())
        {
            if (shardName.Contains('/') || shardName.Contains('\\') || shardName.Contains(".."))
                throw new ModelFormatException(indexPath, $"shard name \"{shardName}\" must be a file name in the model directory.");
            var file = SafetensorsFile.Open(System.IO.Path.Combine(Directory, shardName));
            _files.Add(file);
            shards[shardName] = file;
        }
        foreach (var (tensor, shardName) in weightMap)
        {
            var file = shards[shardName];
            if (!file.TryGet(tensor, out var info))
                throw new ModelFormatException(file.Path, tensor, $"listed in {IndexFileName} but missing from the shard.");
            _byName[tensor] = (file, info);
        }
    }

    private void Add(SafetensorsFile file)
    {
        _files.Add(file);
        foreach (var info in file.Tensors)
            _byName[info.Name] = (file, info);
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsTensorInfo Info(string name) =>
        _byName.TryGetValue(name, out var e) ? e.Info : throw Missing(name);

    /// <summary>
    /// Loads a tensor, checks it has <paramref name="expectedShape"/> (and, when given, the stored
    /// dtype config.json declares), and returns it in <paramref name="dtype"/> on <paramref name="device"/>.
    /// </summary>
    public torch.Tensor Load(string name, long[] expectedShape, torch.ScalarType dtype, SafetensorsDtype? expectedStoredDtype = null, torch.Device? device = null)
    {
        if (!_byName.TryGetValue(name, out var entry))
            throw Missing(name);
        var (file, info) = entry;
        if (!info.Shape.SequenceEqual(expectedShape))
            throw new ModelFormatException(file.Path, name, $"shape {info.ShapeText} disagrees with config.json, which implies [{string.Join(", ", expectedShape)}].");
        if (expectedStoredDtype is { } stored && info.Dtype != stored)
            throw new ModelFormatException(file.Path, name, $"stored as {info.Dtype} but config.json's torch_dtype says {stored}.");
        // Weights outlive any dispose scope the caller happens to have open.
        var raw = file.Read(info).DetachFromDisposeScope();
        if (raw.dtype == dtype && (device is null || device.type == DeviceType.CPU))
            return raw;
        using (raw)
            return raw.to(dtype, device ?? torch.CPU).DetachFromDisposeScope();
    }

    private ModelFormatException Missing(string name)
    {
        string where = _files.Count == 1 ? _files[0].Path : System.IO.Path.Combine(Directory, IndexFileName);
        return new ModelFormatException(where, name, "missing from the checkpoint.");
    }

    public void Dispose()
    {
        foreach (var f in _files)
            f.Dispose();
        _files.Clear();
    }
}
