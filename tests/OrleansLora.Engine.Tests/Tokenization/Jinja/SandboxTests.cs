using OrleansLora.Engine.Tokenization.Jinja;

namespace OrleansLora.Engine.Tests.Tokenization.Jinja;

/// <summary>
/// A hostile template (an adapter directory's, say) can neither hang a thread nor exhaust memory,
/// nor reach anything but the documented methods of its values.
/// </summary>
public sealed class SandboxTests
{
    private static readonly Dictionary<string, object?> NoVariables = [];

    [Theory]
    [InlineData("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loop")]
    [InlineData("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "~")]
    [InlineData("{{ 'x' * 100000000 }}", "*")]
    [InlineData("{% for i in range(100000) %}{{ 'abcdefghij' * 100 }}{% endfor %}", "output")]
    [InlineData("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "macro")]
    [InlineData("{{ range(1000000)|length }}", "range")]
    [InlineData("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", "+")]
    [InlineData("{{ 2 ** 200 }}", "**")]
    public void Runaway_templates_stop_at_a_limit(string source, string construct)
    {
        var limits = new JinjaLimits { MaxSteps = 200_000, MaxOutputChars = 1_000_000 };
        var error = Assert.ThrowsAny<TemplateRuntimeException>(() => JinjaTemplate.Parse(source).Render(NoVariables, limits));
        Assert.Equal(construct, error.Construct);
    }

    [Fact]
    public void Deeply_nested_templates_are_refused_when_parsed()
    {
        string source = string.Concat(Enumerable.Repeat("{% if true %}", 200)) + string.Concat(Enumerable.Repeat("{% endif %}", 200));
        Assert.Equal("nesting", Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(source)).Construct);
        string expression = "{{ " + new string('(', 500) + "1" + new string(')', 500) + " }}";
        Assert.Equal("nesting", Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(expression)).Construct);
        // Chains evaluate recursively too: a.b.c..., 1 + 1 + ..., x | f | f ...
        foreach (string chain in new[] { "{{ x" + string.Concat(Enumerable.Repeat(".a", 5000)) + " }}", "{{ 1" + string.Concat(Enumerable.Repeat(" + 1", 5000)) + " }}", "{{ x" + string.Concat(Enumerable.Repeat("|trim", 5000)) + " }}" })
            Assert.Equal("nesting", Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(chain)).Construct);
        // What real templates write stays well inside the bound.
        JinjaTemplate.Parse("{{ 'a' + b + 'c' + d + 'e' + f + 'g' + h + 'i' + j + 'k' + l + 'm' + n + 'o' + p + 'q' + r + 's' + t }}");
    }

    [Fact]
    public void Values_nested_deeper_than_the_stack_allows_fail_cleanly()
    {
        // A thread with a small stack, as a thread-pool thread might have: the render must fail, not crash the process.
        string source = "{% set ns = namespace(a=[], b=[]) %}{% for i in range(100000) %}{% set ns.a = [ns.a] %}{% set ns.b = [ns.b] %}{% endfor %}{{ ns.a == ns.b }}";
        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(() => JinjaTemplate.Parse(source).Render(NoVariables)), maxStackSize: 256 * 1024);
        thread.Start();
        thread.Join();
        Assert.Equal("nesting", Assert.IsType<TemplateRuntimeException>(error).Construct);
    }

    [Theory]
    [InlineData("{{ messages.append(1) }}")]
    [InlineData("{{ messages.__class__.__mro__ }}")]
    [InlineData("{{ messages[0].update({'role': 'x'}) }}")]
    [InlineData("{{ messages[0].pop('role') }}")]
    public void Values_cannot_be_changed_or_inspected(string source)
    {
        var variables = new Dictionary<string, object?> { ["messages"] = new List<object?> { new Dictionary<string, object?> { ["role"] = "user" } } };
        var template = JinjaTemplate.Parse(source);
        try
        {
            Assert.Equal("", template.Render(variables));
        }
        catch (TemplateRuntimeException e)
        {
            Assert.Contains(e.Construct, new[] { "sandbox", "undefined" });
        }
        Assert.Equal("user", ((Dictionary<string, object?>)((List<object?>)variables["messages"]!)[0]!)["role"]);
    }
}
