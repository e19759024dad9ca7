using OrleansLora.Engine.Tokenization.Jinja.Library;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>value[key]</c>: the item first, then the attribute of that name (jinja2's getitem).</summary>
internal sealed class IndexExpression(SourceLocation location, Expression target, Expression key) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var value = target.Evaluate(context);
        var index = key.Evaluate(context);
        context.Location = Location;
        return Access.GetItem(value, index);
    }
}
