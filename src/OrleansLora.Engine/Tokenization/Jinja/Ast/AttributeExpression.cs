using OrleansLora.Engine.Tokenization.Jinja.Library;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>value.name</c>: a method or attribute first, then the item of that name (jinja2's getattr).</summary>
internal sealed class AttributeExpression(SourceLocation location, Expression target, string name) : Expression(location)
{
    public Expression Target => target;

    public string Name => name;

    public override object? Evaluate(RenderContext context)
    {
        var value = target.Evaluate(context);
        context.Location = Location;
        return Access.GetAttribute(value, name);
    }
}
