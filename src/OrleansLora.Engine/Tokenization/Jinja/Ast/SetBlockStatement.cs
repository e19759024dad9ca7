using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% set name %}…{% endset %}</c>, optionally <c>{% set name | filter %}</c>: assigns the body's output.</summary>
internal sealed class SetBlockStatement(SourceLocation location, AssignTarget target, IReadOnlyList<Statement> body, IReadOnlyList<FilterCall> filters)
    : Statement(location)
{
    public override Flow Execute(RenderContext context)
    {
        object? value = context.Capture(() => Run(body, context));
        foreach (var filter in filters)
            value = filter.Apply(context, value);
        target.Assign(context, context.Scope, value);
        return Flow.Normal;
    }
}
