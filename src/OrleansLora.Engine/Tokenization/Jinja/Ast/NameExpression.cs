using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>A variable: looked up from the innermost scope out; undefined when no scope has it.</summary>
internal sealed class NameExpression(SourceLocation location, string name) : Expression(location)
{
    public string Name => name;

    public override object? Evaluate(RenderContext context) =>
        context.Scope.TryGet(name, out var value) ? value : Undefined.Named(name);
}
