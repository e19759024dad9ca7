using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansLora.Bench;

/// <summary>The document shared/BENCH-FORMAT.md describes: machine, date, command, results.</summary>
internal sealed class BenchReport
{
    public JsonObject Machine { get; } = new();
    public List<JsonObject> Results { get; } = [];

    public JsonObject Add(string scenario, IEnumerable<KeyValuePair<string, JsonNode?>> fields)
    {
        var result = new JsonObject { ["scenario"] = scenario };
        foreach (var (k, v) in fields)
            result[k] = v;
        Results.Add(result);
        Console.WriteLine(result.ToJsonString());
        return result;
    }

    public void Write(string path, string command)
    {
        var doc = new JsonObject
        {
            ["machine"] = Machine.DeepClone(),
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["command"] = command,
            ["results"] = new JsonArray(Results.Select(r => (JsonNode)r.DeepClone()).ToArray()),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
