using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>not value</c>.</summary>
internal sealed class NotExpression(SourceLocation location, Expression operand) : Expression(location)
{
    public override object? Evaluate(RenderContext context) => !PyOps.Truthy(operand.Evaluate(context));
}
