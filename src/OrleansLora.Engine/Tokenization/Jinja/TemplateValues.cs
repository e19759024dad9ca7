using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja;

/// <summary>
/// Converts .NET and JSON values into the Python values a template sees: null → None, integers →
/// int, other numbers → float (a JSON number with a point or exponent is a float, as json.loads
/// reads it), strings, lists, dictionaries (key order kept).
/// </summary>
public static class TemplateValues
{
    private const int MaxDepth = 64;

    public static object? From(object? value) => Convert(value, 0);

    private static object? Convert(object? value, int depth)
    {
        if (depth > MaxDepth)
            throw new ArgumentException($"a template variable is nested deeper than {MaxDepth} levels");
        switch (value)
        {
            case null or string or bool or long or double:
                return value;
            case int or short or byte or sbyte or ushort or uint:
                return System.Convert.ToInt64(value, CultureInfo.InvariantCulture);
            case float f:
                return (double)f;
            case decimal m:
                return (double)m;
            case JsonElement element:
                return FromJson(element, depth);
            case JsonNode node:
                return FromJson(JsonSerializer.SerializeToElement(node), depth);
            case PyDict:
                return value;
            case IDictionary dictionary:
                var dict = new PyDict(dictionary.Count);
                foreach (DictionaryEntry entry in dictionary)
                    dict[Key(entry.Key)] = Convert(entry.Value, depth + 1);
                return dict;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                var fromPairs = new PyDict();
                foreach (var (key, item) in pairs)
                    fromPairs[key] = Convert(item, depth + 1);
                return fromPairs;
            case IEnumerable items:
                var list = new List<object?>();
                foreach (var item in items)
                    list.Add(Convert(item, depth + 1));
                return list;
            default:
                throw new ArgumentException($"a template variable has unsupported type {value.GetType().Name}");
        }
    }

    private static object Key(object? key) => Convert(key, 0) switch
    {
        string or long or double or bool => Convert(key, 0)!,
        _ => throw new ArgumentException($"a dictionary key of type {key?.GetType().Name ?? "null"} cannot be a template key"),
    };

    private static object? FromJson(JsonElement element, int depth)
    {
        if (depth > MaxDepth)
            throw new ArgumentException($"a template variable is nested deeper than {MaxDepth} levels");
        switch (element.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return null;
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                string raw = element.GetRawText();
                if (raw.AsSpan().IndexOfAny(".eE") < 0 && element.TryGetInt64(out long l))
                    return l;
                return element.GetDouble();
            case JsonValueKind.Array:
                var list = new List<object?>(element.GetArrayLength());
                foreach (var item in element.EnumerateArray())
                    list.Add(FromJson(item, depth + 1));
                return list;
            default:
                var dict = new PyDict();
                foreach (var property in element.EnumerateObject())
                    dict[property.Name] = FromJson(property.Value, depth + 1);
                return dict;
        }
    }
}
