using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>A string, number, boolean or none literal.</summary>
internal sealed class LiteralExpression(SourceLocation location, object? value) : Expression(location)
{
    public object? Value => value;

    public override object? Evaluate(RenderContext context) => value;
}
