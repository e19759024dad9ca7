using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>
/// <c>{% for target in iterable [if condition] %}…{% else %}…{% endfor %}</c>. Each iteration runs
/// in a fresh scope (jinja2's semantics: an assignment in the body does not outlive the iteration),
/// with <c>loop</c> describing the filtered items; <c>else</c> runs when there were none.
/// </summary>
internal sealed class ForStatement(
    SourceLocation location,
    AssignTarget target,
    Expression iterable,
    Expression? condition,
    IReadOnlyList<Statement> body,
    IReadOnlyList<Statement>? otherwise) : Statement(location)
{
    public override Flow Execute(RenderContext context)
    {
        var items = PyTypes.Iterate(iterable.Evaluate(context));
        var outer = context.Scope;
        try
        {
            if (condition is not null)
                items = Filter(items, context, outer);
            if (items.Count == 0)
                return otherwise is null ? Flow.Normal : Run(otherwise, context);

            var loop = new LoopInfo(items, 0);
            for (int i = 0; i < items.Count; i++)
            {
                var scope = new Scope(outer);
                target.Assign(context, scope, items[i]);
                loop.Index0 = i;
                scope.Set("loop", loop);
                context.Scope = scope;
                context.Step();
                if (Run(body, context) == Flow.Break)
                    break;
            }
            return Flow.Normal;
        }
        finally
        {
            context.Scope = outer;
        }
    }

    private List<object?> Filter(IReadOnlyList<object?> items, RenderContext context, Scope outer)
    {
        var kept = new List<object?>(items.Count);
        foreach (var item in items)
        {
            var scope = new Scope(outer);
            target.Assign(context, scope, item);
            context.Scope = scope;
            context.Step();
            if (PyOps.Truthy(condition!.Evaluate(context)))
                kept.Add(item);
        }
        context.Scope = outer;
        return kept;
    }
}
