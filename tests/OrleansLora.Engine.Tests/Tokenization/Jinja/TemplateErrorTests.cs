using OrleansLora.Engine.Tokenization.Jinja;

namespace OrleansLora.Engine.Tests.Tokenization.Jinja;

/// <summary>Errors name the construct and where it is; what this engine lacks fails at parse time where it can.</summary>
public sealed class TemplateErrorTests
{
    [Theory]
    [InlineData("a\n  {% include 'x.jinja' %}", "include", 2, 6)]
    [InlineData("{% for m in messages %}{{ m|shout }}{% endfor %}", "shout", 1, 29)]
    [InlineData("{{ x is purple }}", "purple", 1, 9)]
    [InlineData("{% do x.append(1) %}", "do", 1, 4)]
    [InlineData("{% if x %}never closed", "endif", 1, 23)]
    [InlineData("{{ x + }}", "}}", 1, 8)]
    [InlineData("{% for x in y recursive %}{% endfor %}", "for", 1, 15)]
    [InlineData("{{ f(*args) }}", "call", 1, 6)]
    [InlineData("{% break %}", "break", 1, 4)]
    [InlineData("{{ 'unterminated }}", "string", 1, 4)]
    public void Syntax_errors_name_the_construct_and_location(string source, string construct, int line, int column)
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(source));
        Assert.Equal(construct, error.Construct);
        Assert.Equal(new SourceLocation(line, column), error.Location);
        Assert.Contains($"line {line}, column {column}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Runtime_errors_name_the_location_of_the_failing_expression()
    {
        var template = JinjaTemplate.Parse("line one\n{% for m in messages %}\n  {{ m.content.upper() + 1 }}\n{% endfor %}");
        var error = Assert.Throws<TemplateRuntimeException>(() => template.Render(new Dictionary<string, object?> { ["messages"] = new[] { new Dictionary<string, object?> { ["content"] = "x" } } }));
        Assert.Equal(3, error.Location?.Line);
        Assert.Contains("unsupported operand", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_python_method_this_engine_lacks_is_reported_as_unsupported()
    {
        var template = JinjaTemplate.Parse("{{ '7'.zfill(3) }}");
        var error = Assert.Throws<TemplateRuntimeException>(() => template.Render(new Dictionary<string, object?>()));
        Assert.True(error.IsUnsupported);
        Assert.Contains("str.zfill()", error.Message, StringComparison.Ordinal);
    }
}
