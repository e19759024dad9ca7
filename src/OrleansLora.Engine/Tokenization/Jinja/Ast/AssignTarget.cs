using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>What a set or for assigns to: a name, names to unpack into, or a namespace attribute.</summary>
internal abstract class AssignTarget(SourceLocation location) : Node(location)
{
    public abstract void Assign(RenderContext context, Scope scope, object? value);
}
