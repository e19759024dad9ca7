using System.Text.Json.Nodes;

namespace OrleansLora.Engine.Tests.Support;

/// <summary>Copies and edits of a model directory, for tests that need a variant of the fixture's model.</summary>
public static class ModelFiles
{
    /// <summary>Copies every file of <paramref name="source"/> into <paramref name="target"/> (which must exist).</summary>
    public static void CopyAll(string source, string target)
    {
        foreach (string file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
    }

    /// <summary>Rewrites <c>config.json</c> of a model directory after <paramref name="edit"/>.</summary>
    public static void EditConfig(string directory, Action<JsonObject> edit)
    {
        string path = Path.Combine(directory, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}
