namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>
/// jinja2's default Undefined: prints as "", is false, iterates as empty and has length 0, but
/// raises on attribute access, calls and arithmetic. It remembers why it is undefined: a missing
/// name or attribute, an attribute the sandbox refuses (jinja2 raises SecurityError on use), or a
/// Python method this engine does not implement (an unsupported construct, reported as such).
/// </summary>
internal sealed class Undefined
{
    private readonly UndefinedKind _kind;

    private Undefined(string? name, string? hint, UndefinedKind kind)
    {
        Name = name;
        Hint = hint;
        _kind = kind;
    }

    private enum UndefinedKind
    {
        Missing,
        Forbidden,
        Unsupported,
    }

    public static Undefined Anonymous { get; } = new(null, null, UndefinedKind.Missing);

    public string? Name { get; }

    public string? Hint { get; }

    public static Undefined Named(string name) => new(name, null, UndefinedKind.Missing);

    public static Undefined Missing(object? owner, object? key) =>
        new(null, $"{PyTypes.Name(owner)} object has no attribute {PyString.Repr(PyString.Str(key))}", UndefinedKind.Missing);

    public static Undefined Forbidden(object? owner, string attribute) =>
        new(null, $"access to attribute '{attribute}' of {PyTypes.Name(owner)} object is unsafe", UndefinedKind.Forbidden);

    public static Undefined Unsupported(object? owner, string method) =>
        new(null, $"the method {PyTypes.Name(owner).Trim('\'')}.{method}() is not supported by this engine", UndefinedKind.Unsupported);

    /// <summary>The error jinja2 raises when this value is used.</summary>
    public TemplateRuntimeException Error() => _kind switch
    {
        UndefinedKind.Forbidden => new TemplateRuntimeException(Hint!, "sandbox"),
        UndefinedKind.Unsupported => new TemplateRuntimeException(Hint!, "method") { IsUnsupported = true },
        _ => new TemplateRuntimeException(Hint ?? (Name is null ? "value is undefined" : $"'{Name}' is undefined"), "undefined"),
    };

    public override string ToString() => "";
}
