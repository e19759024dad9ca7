using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OrleansLora.Engine.Constraints;

/// <summary>
/// A constraint on a sequence's output, as requests state it. <see cref="Text"/> is the schema JSON, the
/// regex, or the choices as a JSON array of strings. Compiled grammars are cached by a SHA-256 of kind
/// and text, so a request shape compiles once per process.
/// </summary>
public sealed record GrammarSpec(GrammarKind Kind, string Text)
{
    private const int MaxCached = 512;

    private static readonly ConcurrentDictionary<string, Lazy<ByteDfa>> Compiled = new(StringComparer.Ordinal);

    /// <summary>Any JSON object.</summary>
    public static GrammarSpec JsonObject { get; } = new(GrammarKind.JsonObject, "");

    public static GrammarSpec JsonSchema(JsonElement schema) => new(GrammarKind.JsonSchema, schema.GetRawText());

    public static GrammarSpec JsonSchema(string schemaJson) => new(GrammarKind.JsonSchema, schemaJson);

    public static GrammarSpec Regex(string pattern) => new(GrammarKind.Regex, pattern);

    public static GrammarSpec Choice(IEnumerable<string> choices) =>
        new(GrammarKind.Choice, System.Text.Json.JsonSerializer.Serialize(choices.ToArray()));

    /// <summary>SHA-256 of kind and text, hex: the cache key.</summary>
    public string Key { get; } = Hash(Kind, Text);

    /// <summary>Compiles (or finds) the grammar; call on the request path to turn a bad spec into a 400.</summary>
    /// <exception cref="GrammarException">Unsupported keyword, bad regex, empty language, too large.</exception>
    public void Validate() => Compile();

    internal ByteDfa Compile()
    {
        if (Compiled.Count > MaxCached)
            Compiled.Clear();
        var lazy = Compiled.GetOrAdd(Key, _ => new Lazy<ByteDfa>(() => ByteDfa.Compile(ToRegex())));
        try
        {
            return lazy.Value;
        }
        catch (GrammarException)
        {
            // Failures are not cached: the next request recompiles (and fails the same way), which keeps
            // the cache to grammars actually in use.
            Compiled.TryRemove(new KeyValuePair<string, Lazy<ByteDfa>>(Key, lazy));
            throw;
        }
    }

    internal RegexNode ToRegex() => Kind switch
    {
        GrammarKind.JsonObject => JsonGrammar.AnyObject,
        GrammarKind.JsonSchema => JsonSchemaCompiler.Compile(ParseSchema(Text)),
        GrammarKind.Regex => RegexParser.Parse(Text),
        GrammarKind.Choice => Choices(Text),
        _ => throw new GrammarException($"unknown grammar kind {Kind}."),
    };

    private static JsonElement ParseSchema(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new GrammarException($"the schema is not valid JSON: {e.Message}");
        }
    }

    private static RegexNode Choices(string text)
    {
        string[]? choices;
        try
        {
            choices = System.Text.Json.JsonSerializer.Deserialize<string[]>(text);
        }
        catch (JsonException e)
        {
            throw new GrammarException($"choices must be a JSON array of strings: {e.Message}");
        }
        if (choices is null || choices.Length == 0 || choices.Any(string.IsNullOrEmpty))
            throw new GrammarException("choices must be a non-empty list of non-empty strings.");
        return RegexNode.Alt(choices.Select(RegexNode.Literal));
    }

    private static string Hash(GrammarKind kind, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}\n{text}")));
    }
}
