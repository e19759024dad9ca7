namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>
/// Variables visible at one point of a render. As in jinja2, the template's top level is one scope,
/// each for-loop iteration and each macro call opens a new one, and if blocks open none; an
/// assignment always writes to the innermost scope, which is why templates use namespaces.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private Dictionary<string, object?>? _variables;

    public Scope? Parent => parent;

    public bool TryGet(string name, out object? value)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables is { } variables && variables.TryGetValue(name, out value))
                return true;
        }
        value = null;
        return false;
    }

    public void Set(string name, object? value) => (_variables ??= new(StringComparer.Ordinal))[name] = value;
}
