using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% set ns.attribute = … %}</c>: the one mutation a template may make, on a <c>namespace()</c> object.</summary>
internal sealed class NamespaceTarget(SourceLocation location, string name, string attribute) : AssignTarget(location)
{
    public override void Assign(RenderContext context, Scope scope, object? value)
    {
        // The namespace is looked up through all scopes, so a loop body can update one made outside it.
        if (!context.Scope.TryGet(name, out var target) || target is not JinjaNamespace ns)
            throw new TemplateRuntimeException($"cannot assign attribute on non-namespace object '{name}'", "set", Location);
        ns.Attributes[attribute] = value;
    }
}
