using OrleansLora.Engine.Tokenization;
using OrleansLora.Engine.Tokenization.Jinja;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// Every fixture template over every fixture conversation, against jinja2's render byte for byte
/// (or jinja2's error: the same raise_exception message, or a render failure where jinja2 failed).
/// </summary>
public sealed class ChatTemplateFixtureTests
{
    public static TheoryData<string> Cases => [.. ChatTemplateFixtures.Keys.Where(k => !k.StartsWith("snippets/", StringComparison.Ordinal))];

    public static TheoryData<string> Snippets => [.. ChatTemplateFixtures.Keys.Where(k => k.StartsWith("snippets/", StringComparison.Ordinal)).Select(k => k["snippets/".Length..])];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_as_jinja2_does(string key)
    {
        string templateName = key[..key.IndexOf('/')], caseName = key[(key.IndexOf('/') + 1)..];
        var template = ChatTemplateFixtures.Template(templateName);
        var expected = ChatTemplateFixtures.Expected(key);
        if (expected.TryGetProperty("output", out var output))
        {
            Assert.Equal(output.GetString(), ChatTemplateFixtures.Render(template, caseName));
            return;
        }
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplateFixtures.Render(template, caseName));
        var inner = Assert.IsAssignableFrom<TemplateRuntimeException>(error.InnerException);
        Assert.False(inner.IsUnsupported, $"jinja2 failed with {expected.GetProperty("error")}, this engine lacks a construct: {inner.Message}");
        if (expected.GetProperty("error").GetString() == "TemplateError")
            Assert.Equal(expected.GetProperty("message").GetString(), Assert.IsType<TemplateRaisedException>(inner).Detail);
        else
            Assert.IsNotType<TemplateRaisedException>(inner);
    }

    /// <summary>One construct per template (snippets.json): its jinja2 output, or an error where jinja2 raised one.</summary>
    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_renders_as_jinja2_does(string name)
    {
        var (source, variables) = ChatTemplateFixtures.Snippet(name);
        var expected = ChatTemplateFixtures.Expected("snippets/" + name);
        var template = JinjaTemplate.Parse(source);
        if (expected.TryGetProperty("output", out var output))
        {
            Assert.Equal(output.GetString(), template.Render(variables, clock: ChatTemplateFixtures.Clock));
            return;
        }
        var error = Assert.ThrowsAny<TemplateRuntimeException>(() => template.Render(variables, clock: ChatTemplateFixtures.Clock));
        Assert.False(error.IsUnsupported, error.Message);
        Assert.NotNull(error.Location);
        if (expected.GetProperty("error").GetString() == "TemplateError")
            Assert.Equal(expected.GetProperty("message").GetString(), Assert.IsType<TemplateRaisedException>(error).Detail);
    }

    [Fact]
    public void Every_template_and_conversation_has_a_fixture()
    {
        var keys = ChatTemplateFixtures.Keys.Where(k => !k.StartsWith("snippets/", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(ChatTemplateFixtures.TemplateNames.Count() * ChatTemplateFixtures.CaseNames.Count(), keys.Count);
        Assert.True(keys.Count >= 380);
        Assert.Contains("qwen3/thinking-disabled", keys);
    }
}
