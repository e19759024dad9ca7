using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>A part of the template that computes a value.</summary>
internal abstract class Expression(SourceLocation location) : Node(location)
{
    public abstract object? Evaluate(RenderContext context);
}
