using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>[a, b]</c> (a list) or <c>(a, b)</c> (a tuple).</summary>
internal sealed class ListExpression(SourceLocation location, IReadOnlyList<Expression> items, bool tuple) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var values = new object?[items.Count];
        for (int i = 0; i < values.Length; i++)
            values[i] = items[i].Evaluate(context);
        return tuple ? values : new List<object?>(values);
    }
}
