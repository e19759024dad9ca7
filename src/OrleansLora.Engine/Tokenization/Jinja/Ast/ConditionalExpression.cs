using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>a if condition else b</c>; without <c>else</c> the value is undefined when the condition is false.</summary>
internal sealed class ConditionalExpression(SourceLocation location, Expression condition, Expression then, Expression? otherwise) : Expression(location)
{
    public override object? Evaluate(RenderContext context) =>
        PyOps.Truthy(condition.Evaluate(context)) ? then.Evaluate(context)
            : otherwise is null ? Undefined.Anonymous : otherwise.Evaluate(context);
}
