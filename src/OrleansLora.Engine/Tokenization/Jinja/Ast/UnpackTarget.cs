using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% for key, value in … %}</c>, <c>{% set a, b = … %}</c>: unpacks a sequence of exactly as many items.</summary>
internal sealed class UnpackTarget(SourceLocation location, IReadOnlyList<NameTarget> names) : AssignTarget(location)
{
    public override void Assign(RenderContext context, Scope scope, object? value)
    {
        var items = PyTypes.Iterate(value);
        if (items.Count != names.Count)
        {
            throw new TemplateRuntimeException(
                items.Count > names.Count ? $"too many values to unpack (expected {names.Count})" : $"not enough values to unpack (expected {names.Count}, got {items.Count})",
                "unpack",
                Location);
        }
        for (int i = 0; i < names.Count; i++)
            names[i].Assign(context, scope, items[i]);
    }
}
