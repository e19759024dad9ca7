using System.Globalization;
using System.Text;
using System.Text.Json;
using OrleansLora.Engine.Constraints;

namespace OrleansLora.Engine.Tests.Constraints;

public sealed class GrammarCompilationTests
{
    private static ByteDfa Dfa(GrammarSpec spec) => spec.Compile();

    private static bool Matches(GrammarSpec spec, string text) => Dfa(spec).Matches(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("[a-c]+x?", "abcx", true)]
    [InlineData("[a-c]+x?", "x", false)]
    [InlineData("^(foo|bar){2}$", "foobar", true)]
    [InlineData("^(foo|bar){2}$", "foo", false)]
    [InlineData("\\d{3}-\\w+", "123-ab_9", true)]
    [InlineData("[^a]", "ä", true)]
    [InlineData("[^a]", "a", false)]
    [InlineData(".", "\n", false)]
    [InlineData("é+", "ééé", true)]
    [InlineData("(?:a|b)*?c", "ababc", true)]
    [InlineData("\\u00e9\\.", "é.", true)]
    public void Regex_matches_whole_text(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Matches(GrammarSpec.Regex(pattern), text));

    [Theory]
    [InlineData("(?=a)b", "lookaround")]
    [InlineData("(a)\\1", "\\1")]
    [InlineData("a{1000}", "256")]
    [InlineData("[a", "missing ']'")]
    public void Unsupported_regex_is_refused_naming_the_problem(string pattern, string fragment)
    {
        var e = Assert.Throws<GrammarException>(() => Dfa(GrammarSpec.Regex(pattern)));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Utf8_ranges_cover_every_scalar_exactly()
    {
        // Every code point in [0x70, 0x20000) at a stride, plus the encoding boundaries.
        var spec = GrammarSpec.Regex("[\\u0080-\\uFFFF]");
        var dfa = Dfa(spec);
        foreach (int c in new[] { 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF }.Concat(Enumerable.Range(0, 300).Select(i => 0x70 + i * 211)))
        {
            if (c is >= 0xD800 and <= 0xDFFF || c > 0xFFFF)
                continue;
            bool expected = c >= 0x80;
            Assert.True(expected == dfa.Matches(Encoding.UTF8.GetBytes(char.ConvertFromUtf32(c))), $"U+{c:X4}");
        }
        // A surrogate half is not a character, encoded or not.
        Assert.False(dfa.Matches([0xED, 0xA0, 0x80]));
    }

    [Theory]
    [InlineData(-57, 123)]
    [InlineData(0, 9)]
    [InlineData(10, 10)]
    [InlineData(-1000, -7)]
    [InlineData(95, 1105)]
    public void Integer_bounds_admit_exactly_the_range(long min, long max)
    {
        string schema = $$"""{"type":"integer","minimum":{{min}},"maximum":{{max}}}""";
        var dfa = Dfa(GrammarSpec.JsonSchema(schema));
        for (long n = -1500; n <= 1500; n++)
            Assert.True((n >= min && n <= max) == dfa.Matches(Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture))), $"{n}");
        Assert.False(dfa.Matches("007"u8));
        Assert.False(dfa.Matches("-0"u8));
    }

    [Fact]
    public void Choice_admits_only_the_choices()
    {
        var spec = GrammarSpec.Choice(["yes", "no", "maybe so"]);
        Assert.True(Matches(spec, "maybe so"));
        Assert.False(Matches(spec, "maybe"));
        Assert.False(Matches(spec, "yesno"));
    }

    [Fact]
    public void Json_object_grammar_accepts_json_and_refuses_the_rest()
    {
        var spec = GrammarSpec.JsonObject;
        Assert.True(Matches(spec, """{"a": [1, 2.5e3, "x\"y\u00e9"], "b": {"c": null, "d": true}}"""));
        Assert.True(Matches(spec, "{}"));
        Assert.True(Matches(spec, "{\n  \"a\": 1\n}"));
        Assert.False(Matches(spec, "[1]"));
        Assert.False(Matches(spec, """{"a": 01}"""));
        Assert.False(Matches(spec, """{"a": 1,}"""));
        Assert.False(Matches(spec, """{"a": "\ud800"}"""));
        Assert.False(Matches(spec, "{\"a\": \"\u0001\"}"));
    }

    [Fact]
    public void Object_properties_follow_required_and_order()
    {
        string schema = """
            {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},
             "required":["b"],"additionalProperties":false}
            """;
        var spec = GrammarSpec.JsonSchema(schema);
        Assert.True(Matches(spec, """{"b": "x"}"""));
        Assert.True(Matches(spec, """{"a": 1, "b": "x", "c": true}"""));
        Assert.True(Matches(spec, """{"b":"x","c":false}"""));
        Assert.False(Matches(spec, """{"a": 1}"""));
        Assert.False(Matches(spec, """{, "b": "x"}"""));
        Assert.False(Matches(spec, """{"a": 1, "b": "x",}"""));
        Assert.False(Matches(spec, """{"b": "x", "d": 1}"""));
    }

    [Fact]
    public void Refs_enums_anyOf_arrays_and_formats_compile_to_the_right_language()
    {
        string schema = """
            {"$defs":{"node":{"type":"object","properties":{"v":{"enum":["x",2,null]},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v"]}},
             "type":"object","properties":{"root":{"$ref":"#/$defs/node"},"when":{"type":"string","format":"date"},
             "id":{"anyOf":[{"type":"string","format":"uuid"},{"type":"integer","minimum":0}]}},"required":["root","when","id"]}
            """;
        var spec = GrammarSpec.JsonSchema(schema);
        Assert.True(Matches(spec, """{"root": {"v": "x", "kids": [{"v": 2}, {"v": null, "kids": []}]}, "when": "2024-02-28", "id": 5}"""));
        Assert.True(Matches(spec, """{"root": {"v": 2}, "when": "1999-12-01", "id": "0a1b2c3d-0000-4444-8888-abcdefabcdef"}"""));
        Assert.False(Matches(spec, """{"root": {"v": 3}, "when": "2024-02-28", "id": 5}"""));
        Assert.False(Matches(spec, """{"root": {"v": "x"}, "when": "2024-02-30", "id": 5}"""));
        Assert.False(Matches(spec, """{"root": {"v": "x"}, "when": "2024-02-28", "id": -5}"""));
        Assert.False(Matches(spec, """{"root": {"v": "x", "kids": [{"v": 2}, {"v": 2}, {"v": 2}]}, "when": "2024-02-28", "id": 5}"""));
    }

    [Fact]
    public void Unsupported_keywords_are_refused_with_their_names_and_places()
    {
        string schema = """{"type":"object","properties":{"a":{"type":"string","format":"email"},"b":{"type":"array","uniqueItems":true}},"not":{}}""";
        var e = Assert.Throws<GrammarException>(() => Dfa(GrammarSpec.JsonSchema(schema)));
        Assert.Contains("'not' at #", e.Message);
        Assert.Contains("'uniqueItems' at #/properties/b", e.Message);
        Assert.Contains("'format' 'email' at #/properties/a", e.Message);
    }

    [Fact]
    public void A_schema_that_allows_nothing_is_refused()
    {
        var e = Assert.Throws<GrammarException>(() => Dfa(GrammarSpec.JsonSchema("""{"type":"integer","minimum":5,"maximum":4}""")));
        Assert.Contains("matches nothing", e.Message);
    }

    [Fact]
    public void Pattern_strings_never_need_escaping()
    {
        var spec = GrammarSpec.JsonSchema("""{"type":"string","pattern":"^[a-z\"\\\\]{2}$"}""");
        Assert.True(Matches(spec, "\"ab\""));
        Assert.False(Matches(spec, "\"a\\\"\""));
        using var doc = JsonDocument.Parse("\"ab\"");
        Assert.Equal("ab", doc.RootElement.GetString());
    }
}
