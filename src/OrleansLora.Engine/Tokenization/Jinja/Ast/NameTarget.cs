using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% set name = … %}</c>, <c>{% for name in … %}</c>.</summary>
internal sealed class NameTarget(SourceLocation location, string name) : AssignTarget(location)
{
    public string Name => name;

    public override void Assign(RenderContext context, Scope scope, object? value) => scope.Set(name, value);
}
