using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>
/// The filters a template may use, by name. An unknown name fails when the template is parsed, as
/// jinja2 fails at compile time. Text filters are in <see cref="TextFilters"/>, sequence filters in
/// <see cref="SequenceFilters"/>.
/// </summary>
internal static class Filters
{
    public delegate object? Filter(RenderContext context, object? value, Arguments arguments);

    private static readonly Dictionary<string, Filter> Registry = new(StringComparer.Ordinal);

    static Filters()
    {
        TextFilters.Register(Registry);
        SequenceFilters.Register(Registry);
        ValueFilters.Register(Registry);
    }

    public static Filter? Find(string name) => Registry.GetValueOrDefault(name);

    /// <summary>A filter named at render time (<c>map('upper')</c>), which can only fail then.</summary>
    public static Filter Require(object? name, string caller) =>
        name is string s && Find(s) is { } filter ? filter
            : throw new TemplateRuntimeException($"{caller}: no filter named {PyString.Repr(name)}", caller);
}
