using System.Text.Json;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Tokenization;

/// <summary>Reads tokenizer JSON files; every error names the file and the field.</summary>
internal static class JsonFields
{
    public static JsonDocument Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"is not valid JSON ({e.Message})", e);
        }
    }

    public static JsonElement RootObject(JsonDocument document, string path)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, $"expected a JSON object at the top level, found {document.RootElement.ValueKind}.");
        return document.RootElement;
    }

    /// <summary>The property, or null when it is absent or JSON null.</summary>
    public static JsonElement? Get(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    public static string? String(JsonElement obj, string name, string path)
    {
        if (Get(obj, name) is not JsonElement value)
            return null;
        if (value.ValueKind != JsonValueKind.String)
            throw new ModelFormatException(path, $"\"{name}\" must be a string, found {value.ValueKind}.");
        return value.GetString();
    }

    public static bool Bool(JsonElement obj, string name, bool defaultValue, string path)
    {
        if (Get(obj, name) is not JsonElement value)
            return defaultValue;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelFormatException(path, $"\"{name}\" must be true or false, found {value.ValueKind}."),
        };
    }

    public static int Int(JsonElement value, string what, string path)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result))
            throw new ModelFormatException(path, $"{what} must be an integer, found {value.ValueKind} {value.GetRawText()}.");
        return result;
    }

    /// <summary>An object's required "type" discriminator (normalizer, pre_tokenizer, decoder, model).</summary>
    public static string Type(JsonElement obj, string what, string path)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, $"{what} must be an object, found {obj.ValueKind}.");
        return String(obj, "type", path) ?? throw new ModelFormatException(path, $"{what} has no \"type\".");
    }

    public static IEnumerable<JsonElement> Array(JsonElement obj, string name, string path)
    {
        if (Get(obj, name) is not JsonElement value)
            return [];
        if (value.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException(path, $"\"{name}\" must be an array, found {value.ValueKind}.");
        return value.EnumerateArray();
    }

    /// <summary>
    /// A special-token field of tokenizer_config.json: a plain string, or an AddedToken object
    /// (<c>{"content": "&lt;s&gt;", "__type": "AddedToken", ...}</c>) as older transformers wrote.
    /// </summary>
    public static string? TokenContent(JsonElement obj, string name, string path)
    {
        if (Get(obj, name) is not JsonElement value)
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => String(value, "content", path)
                ?? throw new ModelFormatException(path, $"\"{name}\" is an object without \"content\"."),
            _ => throw new ModelFormatException(path, $"\"{name}\" must be a string or an object with \"content\", found {value.ValueKind}."),
        };
    }
}
