namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>
/// The object <c>namespace(...)</c> returns: the one mutable value a template has, so that a loop
/// body can carry state out of its scope (<c>{% set ns.found = true %}</c>).
/// </summary>
internal sealed class JinjaNamespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);

    public override string ToString() => "<Namespace>";
}
