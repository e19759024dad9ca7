using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansLora.Engine.Constraints;

/// <summary>
/// Compiles a JSON Schema (draft 2020-12 / OpenAI structured-output subset) to a byte-level regex whose
/// every match is a JSON document valid against the schema. Properties are written in schema order,
/// only declared properties are generated (extra ones are allowed by schemas but never needed), and
/// every keyword that is not enforced is refused with a <see cref="GrammarException"/> naming it and
/// where it is, so nothing is silently ignored. docs/STRUCTURED-OUTPUT.md lists the keywords.
/// </summary>
internal sealed class JsonSchemaCompiler
{
    /// <summary>How many times a recursive <c>$ref</c> may be expanded inside itself.</summary>
    public const int MaxRecursion = 3;

    public const int MaxStringLength = 1024;

    public const int MaxArrayItems = 64;

    // Keywords that only describe (never constrain) and are accepted anywhere.
    private static readonly HashSet<string> Annotations =
    [
        "$schema", "$id", "$comment", "$anchor", "title", "description", "default", "examples",
        "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "contentMediaType", "contentEncoding",
    ];

    private static readonly HashSet<string> Enforced =
    [
        "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
        "properties", "required", "additionalProperties",
        "items", "minItems", "maxItems",
        "pattern", "format", "minLength", "maxLength",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    ];

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly JsonNode _root;
    private readonly Dictionary<string, int> _expanding = new(StringComparer.Ordinal);
    private readonly List<string> _unsupported = [];

    private JsonSchemaCompiler(JsonNode root) => _root = root;

    /// <exception cref="GrammarException">The schema uses keywords or values that are not enforced, or allows nothing.</exception>
    public static RegexNode Compile(JsonElement schema)
    {
        var root = JsonNode.Parse(schema.GetRawText())
            ?? throw new GrammarException("the schema must be a JSON object or boolean, not null.");
        var compiler = new JsonSchemaCompiler(root);
        var node = compiler.Schema(root, "#");
        if (compiler._unsupported.Count > 0)
            throw new GrammarException($"the schema uses what structured output does not enforce: {string.Join("; ", compiler._unsupported.Distinct())}.");
        return node;
    }

    private RegexNode Schema(JsonNode? schema, string path)
    {
        if (schema is JsonValue value && value.TryGetValue(out bool allow))
            return allow ? JsonGrammar.AnyValue : RegexNode.Never;
        if (schema is not JsonObject obj)
        {
            _unsupported.Add($"{path} is not a schema (an object or boolean)");
            return RegexNode.Never;
        }
        foreach (var (key, _) in obj)
        {
            if (!Annotations.Contains(key) && !Enforced.Contains(key))
                _unsupported.Add($"'{key}' at {path}");
        }

        if (obj["$ref"] is JsonNode reference)
            return Reference(obj, reference, path);
        if (obj["allOf"] is JsonNode allOf)
            return AllOf(obj, allOf, path);
        foreach (string key in (ReadOnlySpan<string>)["anyOf", "oneOf"])
        {
            if (obj[key] is JsonArray branches)
            {
                // Siblings of anyOf apply to every branch: compile each branch merged with them.
                var rest = Without(obj, key);
                return RegexNode.Alt(branches.Select((b, i) => Schema(Merge(rest, b, $"{path}/{key}/{i}"), $"{path}/{key}/{i}")));
            }
        }
        if (obj.ContainsKey("const"))
            return Literals([obj["const"]], obj, path);
        if (obj["enum"] is JsonArray values)
            return Literals(values, obj, path);

        var types = Types(obj, path);
        return RegexNode.Alt(types.Select(t => Typed(t, obj, path)));
    }

    private RegexNode Reference(JsonObject obj, JsonNode reference, string path)
    {
        string target = reference.GetValue<string>();
        var resolved = Resolve(target, path);
        if (resolved is null)
            return RegexNode.Never;
        var siblings = Without(obj, "$ref");
        var merged = siblings.Count == 0 ? resolved : Merge(siblings, resolved, path);
        int depth = _expanding.GetValueOrDefault(target);
        if (depth > MaxRecursion)
            return RegexNode.Never;
        _expanding[target] = depth + 1;
        try
        {
            return Schema(merged, target);
        }
        finally
        {
            _expanding[target] = depth;
        }
    }

    private JsonNode? Resolve(string reference, string path)
    {
        if (reference == "#")
            return _root;
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            _unsupported.Add($"'$ref' to '{reference}' at {path} (only local '#/…' references)");
            return null;
        }
        JsonNode? node = _root;
        foreach (string raw in reference[2..].Split('/'))
        {
            string part = Uri.UnescapeDataString(raw).Replace("~1", "/").Replace("~0", "~");
            node = node is JsonObject o ? o[part] : null;
            if (node is null)
            {
                _unsupported.Add($"'$ref' to '{reference}' at {path} (not found)");
                return null;
            }
        }
        return node;
    }

    private RegexNode AllOf(JsonObject obj, JsonNode allOf, string path)
    {
        if (allOf is not JsonArray parts || parts.Count == 0)
        {
            _unsupported.Add($"'allOf' at {path} (must be a non-empty array)");
            return RegexNode.Never;
        }
        // Merging is exact only when the parts do not constrain the same keyword.
        JsonObject merged = Without(obj, "allOf");
        for (int i = 0; i < parts.Count; i++)
        {
            string partPath = $"{path}/allOf/{i}";
            JsonNode? part = parts[i] is JsonObject p && p["$ref"] is JsonNode r && p.Count == 1
                ? Resolve(r.GetValue<string>(), partPath)
                : parts[i];
            if (part is not JsonObject partObject)
            {
                _unsupported.Add($"'allOf' at {partPath} (each part must be an object schema)");
                return RegexNode.Never;
            }
            foreach (var (key, value) in partObject)
            {
                if (Annotations.Contains(key))
                    continue;
                if (merged.ContainsKey(key) && !(key == "type" && JsonNode.DeepEquals(merged[key], value)))
                {
                    _unsupported.Add($"'allOf' at {path} (parts constrain '{key}' twice)");
                    return RegexNode.Never;
                }
                merged[key] = value?.DeepClone();
            }
        }
        return Schema(merged, path);
    }

    private RegexNode Literals(IEnumerable<JsonNode?> values, JsonObject obj, string path)
    {
        var types = obj.ContainsKey("type") ? Types(obj, path) : null;
        var options = new List<RegexNode>();
        foreach (var value in values)
        {
            if (types is not null && !types.Contains(TypeOf(value)) && !(TypeOf(value) == "integer" && types.Contains("number")))
                continue;
            options.Add(RegexNode.Literal(value is null ? "null" : value.ToJsonString(Compact)));
        }
        return RegexNode.Alt(options);
    }

    private static string TypeOf(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "string",
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValue v when v.TryGetValue(out long _) => "integer",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out decimal d) && d == decimal.Truncate(d) => "integer",
        _ => "number",
    };

    private List<string> Types(JsonObject obj, string path)
    {
        switch (obj["type"])
        {
            case JsonValue v when v.TryGetValue(out string? single):
                return [single];
            case JsonArray list:
                return list.Select(t => t?.GetValue<string>() ?? "null").ToList();
            case null:
                // Untyped: infer from the keywords present, else any value.
                if (obj.ContainsKey("properties") || obj.ContainsKey("additionalProperties") || obj.ContainsKey("required"))
                    return ["object"];
                if (obj.ContainsKey("items") || obj.ContainsKey("minItems") || obj.ContainsKey("maxItems"))
                    return ["array"];
                if (obj.ContainsKey("pattern") || obj.ContainsKey("format") || obj.ContainsKey("minLength") || obj.ContainsKey("maxLength"))
                    return ["string"];
                if (obj.ContainsKey("minimum") || obj.ContainsKey("maximum") || obj.ContainsKey("exclusiveMinimum") || obj.ContainsKey("exclusiveMaximum"))
                    return ["number"];
                return ["any"];
            default:
                _unsupported.Add($"'type' at {path} (must be a string or array of strings)");
                return [];
        }
    }

    private RegexNode Typed(string type, JsonObject obj, string path) => type switch
    {
        "any" => JsonGrammar.AnyValue,
        "null" => JsonGrammar.Null,
        "boolean" => JsonGrammar.Boolean,
        "integer" => IntegerSchema(obj, path, integerOnly: true),
        "number" => IntegerSchema(obj, path, integerOnly: false),
        "string" => StringSchema(obj, path),
        "array" => ArraySchema(obj, path),
        "object" => ObjectSchema(obj, path),
        _ => Unsupported($"'type' '{type}' at {path}"),
    };

    private RegexNode Unsupported(string what)
    {
        _unsupported.Add(what);
        return RegexNode.Never;
    }

    private RegexNode IntegerSchema(JsonObject obj, string path, bool integerOnly)
    {
        double? min = Bound(obj, "minimum", path), max = Bound(obj, "maximum", path);
        double? exMin = Bound(obj, "exclusiveMinimum", path), exMax = Bound(obj, "exclusiveMaximum", path);
        if (min is null && max is null && exMin is null && exMax is null)
            return integerOnly ? JsonGrammar.Integer : JsonGrammar.Number;
        // Bounded numbers are generated as integers in the range: exact and always valid.
        long? lo = null, hi = null;
        if (min is double a)
            lo = (long)Math.Ceiling(a);
        if (exMin is double ea)
            lo = Math.Max(lo ?? long.MinValue, (long)Math.Floor(ea) + 1);
        if (max is double b)
            hi = (long)Math.Floor(b);
        if (exMax is double eb)
            hi = Math.Min(hi ?? long.MaxValue, (long)Math.Ceiling(eb) - 1);
        return IntegerRanges.Between(lo, hi);
    }

    private double? Bound(JsonObject obj, string key, string path)
    {
        if (obj[key] is not JsonNode node)
            return null;
        if (node is JsonValue v && v.TryGetValue(out double d) && Math.Abs(d) <= IntegerRanges.Limit)
            return d;
        _unsupported.Add($"'{key}' at {path} (must be a number within ±{IntegerRanges.Limit})");
        return null;
    }

    private RegexNode StringSchema(JsonObject obj, string path)
    {
        int? minLength = Count(obj, "minLength", path, MaxStringLength);
        int? maxLength = Count(obj, "maxLength", path, MaxStringLength);
        string? pattern = obj["pattern"]?.GetValue<string>();
        string? format = obj["format"]?.GetValue<string>();
        if ((pattern is not null ? 1 : 0) + (format is not null ? 1 : 0) + (minLength is not null || maxLength is not null ? 1 : 0) > 1)
            return Unsupported($"'pattern', 'format' and 'minLength'/'maxLength' together at {path} (use one)");
        if (pattern is not null)
        {
            try
            {
                return JsonGrammar.Quoted(RegexParser.Parse(pattern, JsonGrammar.PlainChars));
            }
            catch (GrammarException e)
            {
                return Unsupported($"'pattern' at {path}: {e.Message.TrimEnd('.')}");
            }
        }
        if (format is not null)
        {
            return StringFormats.TryGet(format, out var regex)
                ? JsonGrammar.Quoted(regex)
                : Unsupported($"'format' '{format}' at {path} (enforced: {string.Join(", ", StringFormats.Names)})");
        }
        if (minLength is not null || maxLength is not null)
        {
            int lo = minLength ?? 0;
            int hi = maxLength ?? -1;
            if (hi >= 0 && hi < lo)
                return RegexNode.Never;
            return JsonGrammar.Quoted(RegexNode.Repeat(JsonGrammar.CountableChars.ToUtf8(), lo, hi));
        }
        return JsonGrammar.String;
    }

    private int? Count(JsonObject obj, string key, string path, int limit)
    {
        if (obj[key] is not JsonNode node)
            return null;
        if (node is JsonValue v && v.TryGetValue(out int n) && n >= 0 && n <= limit)
            return n;
        _unsupported.Add($"'{key}' at {path} (must be an integer in 0..{limit})");
        return null;
    }

    private RegexNode ArraySchema(JsonObject obj, string path)
    {
        int min = Count(obj, "minItems", path, MaxArrayItems) ?? 0;
        int max = Count(obj, "maxItems", path, MaxArrayItems) ?? -1;
        if (max >= 0 && max < min)
            return RegexNode.Never;
        var item = obj["items"] is JsonNode items ? Schema(items, $"{path}/items") : JsonGrammar.AnyValue;
        return JsonGrammar.Array(item, min, max);
    }

    private RegexNode ObjectSchema(JsonObject obj, string path)
    {
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (obj["required"] is JsonArray list)
        {
            foreach (var name in list)
                required.Add(name!.GetValue<string>());
        }
        var properties = obj["properties"] as JsonObject;
        var additional = obj["additionalProperties"];
        if (properties is null || properties.Count == 0)
        {
            if (required.Count > 0)
                return Unsupported($"'required' at {path} without 'properties' naming those keys");
            // A map: any keys, values of the additionalProperties schema.
            if (additional is JsonValue v && v.TryGetValue(out bool allowed) && !allowed)
                return RegexNode.Literal("{}");
            return JsonGrammar.Object(additional is null ? JsonGrammar.AnyValue : Schema(additional, $"{path}/additionalProperties"));
        }
        foreach (string name in required)
        {
            if (!properties.ContainsKey(name))
                return Unsupported($"'required' at {path} names '{name}', which 'properties' does not define");
        }
        var members = new List<(RegexNode, bool)>();
        foreach (var (name, schema) in properties)
        {
            var key = RegexNode.Literal(JsonSerializer.Serialize(name, Compact));
            members.Add((JsonGrammar.Member(key, Schema(schema, $"{path}/properties/{name}")), required.Contains(name)));
        }
        return JsonGrammar.Braced("{", RegexNode.OptionalSequence(members, JsonGrammar.Comma), "}");
    }

    private static JsonObject Without(JsonObject obj, string key)
    {
        var copy = new JsonObject();
        foreach (var (k, v) in obj)
        {
            if (k != key && !(key is "anyOf" or "oneOf" or "$ref" && Annotations.Contains(k)))
                copy[k] = v?.DeepClone();
        }
        return copy;
    }

    private JsonNode? Merge(JsonObject siblings, JsonNode? branch, string path)
    {
        if (siblings.Count == 0)
            return branch;
        if (branch is not JsonObject b)
            return branch;
        var merged = (JsonObject)siblings.DeepClone();
        foreach (var (key, value) in b)
            merged[key] = value?.DeepClone();
        return merged;
    }
}
