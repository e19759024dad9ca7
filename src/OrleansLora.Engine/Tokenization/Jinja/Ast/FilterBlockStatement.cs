using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% filter name(args) %}…{% endfilter %}</c>: writes the body's output passed through filters.</summary>
internal sealed class FilterBlockStatement(SourceLocation location, IReadOnlyList<FilterCall> filters, IReadOnlyList<Statement> body) : Statement(location)
{
    public override Flow Execute(RenderContext context)
    {
        object? value = context.Capture(() => Run(body, context));
        foreach (var filter in filters)
            value = filter.Apply(context, value);
        context.Write(PyString.Str(value));
        return Flow.Normal;
    }
}
