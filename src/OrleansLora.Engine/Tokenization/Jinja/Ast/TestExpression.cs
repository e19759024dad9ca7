using OrleansLora.Engine.Tokenization.Jinja.Library;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>value is [not] test(args)</c>, the test resolved when the template is parsed.</summary>
internal sealed class TestExpression(SourceLocation location, Expression value, string name, Tests.Test test, CallArguments arguments, bool negated)
    : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var subject = value.Evaluate(context);
        var args = arguments.Evaluate(context);
        context.Location = Location;
        return test(context, subject, args) != negated;
    }

    public string Name => name;
}
