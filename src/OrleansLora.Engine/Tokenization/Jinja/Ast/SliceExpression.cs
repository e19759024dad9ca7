using OrleansLora.Engine.Tokenization.Jinja.Library;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>value[start:stop:step]</c> on lists, tuples and strings, Python's semantics (<c>[::-1]</c> reverses).</summary>
internal sealed class SliceExpression(SourceLocation location, Expression target, Expression? start, Expression? stop, Expression? step) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var value = target.Evaluate(context);
        var from = start?.Evaluate(context);
        var to = stop?.Evaluate(context);
        var by = step?.Evaluate(context);
        context.Location = Location;
        return Access.Slice(value, from, to, by);
    }
}
