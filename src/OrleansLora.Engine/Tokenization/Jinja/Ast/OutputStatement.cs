using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{{ expression }}</c>: writes str(value); None prints "None", an undefined value nothing.</summary>
internal sealed class OutputStatement(SourceLocation location, Expression value) : Statement(location)
{
    public override Flow Execute(RenderContext context)
    {
        context.Write(PyString.Str(value.Evaluate(context)));
        return Flow.Normal;
    }
}
