using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% set target = value %}</c>: assigns in the innermost scope (a loop iteration's own, if inside one).</summary>
internal sealed class SetStatement(SourceLocation location, AssignTarget target, Expression value) : Statement(location)
{
    public override Flow Execute(RenderContext context)
    {
        target.Assign(context, context.Scope, value.Evaluate(context));
        return Flow.Normal;
    }
}
