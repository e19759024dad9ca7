using System.Text;
using System.Text.Json;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// The checked-in chat template fixtures (Tokenization/Fixtures): real templates, the conversations
/// they are rendered over, and jinja2's renders of each pair (render_fixtures.py writes them).
/// </summary>
internal static class ChatTemplateFixtures
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Tokenization", "Fixtures");

    /// <summary>The fixed time render_fixtures.py gives strftime_now.</summary>
    public static TimeProvider Clock { get; } = new FixedClock(new DateTimeOffset(2024, 9, 26, 14, 30, 5, TimeSpan.Zero));

    private static readonly Lazy<JsonElement> Sources = new(() => Load("templates/sources.json"));
    private static readonly Lazy<JsonElement> Conversations = new(() => Load("conversations.json"));
    private static readonly Lazy<JsonElement> Snippets = new(() => Load("snippets.json"));
    private static readonly Lazy<JsonElement> Rendered = new(() => Load("rendered.json"));

    public static IEnumerable<string> Keys => Rendered.Value.GetProperty("results").EnumerateObject().Select(p => p.Name);

    public static JsonElement Expected(string key) => Rendered.Value.GetProperty("results").GetProperty(key);

    public static string TemplateSource(string name) =>
        File.ReadAllText(Path.Combine(Directory, "templates", name + ".jinja"), Encoding.UTF8);

    public static ChatTemplate Template(string name)
    {
        var tokens = Sources.Value.GetProperty("templates").GetProperty(name).GetProperty("special_tokens");
        string? Token(string key) => tokens.TryGetProperty(key, out var value) ? value.GetString() : null;
        return ChatTemplate.Parse(TemplateSource(name), new ChatTemplateTokens(Token("bos_token"), Token("eos_token"), Token("unk_token"), Token("pad_token")), Clock);
    }

    public static IEnumerable<string> TemplateNames => Sources.Value.GetProperty("templates").EnumerateObject().Select(p => p.Name);

    /// <summary>Renders one fixture case the way render_fixtures.py does.</summary>
    public static string Render(ChatTemplate template, string caseName)
    {
        var conversation = Case(caseName);
        JsonElement? tools = conversation.TryGetProperty("tools", out var t) && t.GetBoolean() ? Conversations.Value.GetProperty("tools") : null;
        Dictionary<string, JsonElement>? kwargs = null;
        if (conversation.TryGetProperty("kwargs", out var k))
            kwargs = k.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        return template.Render(conversation.GetProperty("messages"), tools, conversation.GetProperty("add_generation_prompt").GetBoolean(), kwargs);
    }

    public static IEnumerable<string> CaseNames =>
        Conversations.Value.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    public static (string Source, IReadOnlyDictionary<string, object?> Variables) Snippet(string name)
    {
        var snippet = Snippets.Value.GetProperty("snippets").GetProperty(name);
        var variables = snippet.GetProperty("variables").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        return (snippet.GetProperty("template").GetString()!, variables);
    }

    public static JsonElement Case(string caseName) =>
        Conversations.Value.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == caseName);

    private static JsonElement Load(string relative)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, relative), Encoding.UTF8));
        return document.RootElement.Clone();
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
