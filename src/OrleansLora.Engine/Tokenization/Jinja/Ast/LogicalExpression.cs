using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>a and b</c>, <c>a or b</c>: short-circuit, yielding an operand (not a bool) as Python does.</summary>
internal sealed class LogicalExpression(SourceLocation location, bool isAnd, Expression left, Expression right) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var a = left.Evaluate(context);
        return PyOps.Truthy(a) == isAnd ? right.Evaluate(context) : a;
    }
}
