using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% if %}…{% elif %}…{% else %}…{% endif %}</c>; opens no scope.</summary>
internal sealed class IfStatement(SourceLocation location, IReadOnlyList<(Expression Condition, IReadOnlyList<Statement> Body)> branches, IReadOnlyList<Statement>? otherwise)
    : Statement(location)
{
    public override Flow Execute(RenderContext context)
    {
        foreach (var (condition, body) in branches)
        {
            if (PyOps.Truthy(condition.Evaluate(context)))
                return Run(body, context);
        }
        return otherwise is null ? Flow.Normal : Run(otherwise, context);
    }
}
