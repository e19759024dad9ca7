using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>+ - * / // % **</c> with Python's semantics.</summary>
internal sealed class BinaryExpression(SourceLocation location, string op, Expression left, Expression right) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var a = left.Evaluate(context);
        var b = right.Evaluate(context);
        context.Location = Location;
        return PyArithmetic.Binary(op, a, b, context);
    }
}
