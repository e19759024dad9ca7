using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLora.Reliability.Tests.BadInput;

/// <summary>
/// Valid request bodies for every JSON endpoint, and the same bodies with one field (a path such as
/// <c>parameters.temperature</c> or <c>messages[0].content</c>) replaced by raw JSON text or removed.
/// Raw text goes in verbatim, so values no JSON library writes (<c>1e309</c>, huge integers) reach the server as sent.
/// </summary>
public static class JsonBodies
{
    private const string Placeholder = "@@raw-value@@";

    public static JsonObject Chat() => new()
    {
        ["model"] = "demo-sql",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }),
        ["max_tokens"] = 2,
    };

    public static JsonObject Completion() => new() { ["model"] = "demo-sql", ["prompt"] = "Hi", ["max_tokens"] = 2 };

    public static JsonObject Lorax() => new()
    {
        ["inputs"] = "Hi",
        ["parameters"] = new JsonObject { ["adapter_id"] = "demo-sql", ["max_new_tokens"] = 2 },
    };

    public static JsonObject Tokenize() => new() { ["model"] = "demo-sql", ["prompt"] = "Hi" };

    public static JsonObject Detokenize() => new() { ["model"] = "demo-sql", ["tokens"] = new JsonArray(17250, 0) };

    /// <summary>A load of a name nobody registered, from the demo adapter's directory.</summary>
    public static JsonObject Load() => new() { ["lora_name"] = "bad-input-never-loaded", ["lora_path"] = "demo-sql" };

    public static JsonObject Unload() => new() { ["lora_name"] = "bad-input-never-loaded" };

    /// <summary><paramref name="body"/> with <paramref name="path"/> set to <paramref name="raw"/> (JSON text), or removed when it is null.</summary>
    public static string With(JsonObject body, string path, string? raw)
    {
        var (parent, last) = Walk(body, path);
        if (raw is null)
        {
            if (parent is JsonObject o)
                o.Remove(last);
            return body.ToJsonString();
        }
        switch (parent)
        {
            case JsonObject o:
                o[last] = Placeholder;
                break;
            case JsonArray a:
                int index = int.Parse(last.Trim('[', ']'), System.Globalization.CultureInfo.InvariantCulture);
                while (a.Count <= index)
                    a.Add(null);
                a[index] = Placeholder;
                break;
        }
        // The placeholder is written as a JSON string; swap that string for the raw text.
        return body.ToJsonString().Replace($"\"{Placeholder}\"", raw, StringComparison.Ordinal);
    }

    public static HttpContent Json(string text, string contentType = "application/json") =>
        Bytes(Encoding.UTF8.GetBytes(text), contentType);

    public static HttpContent Bytes(byte[] body, string? contentType = "application/json")
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>The container holding the last segment of <paramref name="path"/>, creating objects on the way.</summary>
    private static (JsonNode Parent, string Last) Walk(JsonObject body, string path)
    {
        var segments = new List<string>();
        foreach (string part in path.Split('.'))
        {
            int bracket = part.IndexOf('[', StringComparison.Ordinal);
            if (bracket < 0)
            {
                segments.Add(part);
                continue;
            }
            segments.Add(part[..bracket]);
            segments.Add(part[bracket..]);
        }
        JsonNode node = body;
        for (int i = 0; i < segments.Count - 1; i++)
        {
            string s = segments[i];
            JsonNode? next = s.StartsWith('[') ? node.AsArray()[int.Parse(s.Trim('[', ']'), System.Globalization.CultureInfo.InvariantCulture)] : node[s];
            if (next is null)
            {
                next = new JsonObject();
                node.AsObject()[s] = next;
            }
            node = next;
        }
        return (node, segments[^1]);
    }
}
