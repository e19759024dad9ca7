using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>value | filter(args)</c>.</summary>
internal sealed class FilterExpression(SourceLocation location, Expression value, FilterCall filter) : Expression(location)
{
    public override object? Evaluate(RenderContext context) => filter.Apply(context, value.Evaluate(context));
}
