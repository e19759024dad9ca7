using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>The tests of <c>value is name</c>, by name; an unknown name fails when the template is parsed.</summary>
internal static class Tests
{
    public delegate bool Test(RenderContext context, object? value, Arguments arguments);

    private static readonly Dictionary<string, Test> Registry = new(StringComparer.Ordinal)
    {
        ["defined"] = (_, v, _) => v is not Undefined,
        ["undefined"] = (_, v, _) => v is Undefined,
        ["none"] = (_, v, _) => v is null,
        ["boolean"] = (_, v, _) => v is bool,
        ["true"] = (_, v, _) => v is true,
        ["false"] = (_, v, _) => v is false,
        ["integer"] = (_, v, _) => v is long,
        ["float"] = (_, v, _) => v is double,
        ["number"] = (_, v, _) => v is long or double or bool,
        ["string"] = (_, v, _) => v is string,
        ["mapping"] = (_, v, _) => v is PyDict,
        ["sequence"] = (_, v, _) => v is string or List<object?> or object?[] or PyDict,
        ["iterable"] = (_, v, _) => PyTypes.IsIterable(v),
        ["callable"] = (_, v, _) => v is JinjaCallable,
        ["lower"] = (_, v, _) => v is string s && s == s.ToLowerInvariant(),
        ["upper"] = (_, v, _) => v is string s && s == s.ToUpperInvariant(),
        ["odd"] = (_, v, _) => PyOps.ToLong(v) % 2 != 0,
        ["even"] = (_, v, _) => PyOps.ToLong(v) % 2 == 0,
        ["divisibleby"] = (_, v, a) => PyOps.ToLong(a.Get(0, "num")) is long n && n != 0
            ? PyOps.ToLong(v) % n == 0
            : throw new TemplateRuntimeException("integer division or modulo by zero", "divisibleby"),
        ["sameas"] = (_, v, a) => SameAs(v, a.Get(0, "other")),
        ["escaped"] = (_, _, _) => false,
        ["in"] = (_, v, a) => PyOps.Contains(a.Get(0, "seq"), v),
        ["eq"] = (_, v, a) => PyOps.Equal(v, a.Get(0, "other")),
        ["ne"] = (_, v, a) => !PyOps.Equal(v, a.Get(0, "other")),
        ["lt"] = (_, v, a) => PyOps.Ordered(v, a.Get(0, "other"), "<"),
        ["le"] = (_, v, a) => PyOps.Ordered(v, a.Get(0, "other"), "<="),
        ["gt"] = (_, v, a) => PyOps.Ordered(v, a.Get(0, "other"), ">"),
        ["ge"] = (_, v, a) => PyOps.Ordered(v, a.Get(0, "other"), ">="),
    };

    static Tests()
    {
        Registry["equalto"] = Registry["=="] = Registry["eq"];
        Registry["!="] = Registry["ne"];
        Registry["lessthan"] = Registry["<"] = Registry["lt"];
        Registry["<="] = Registry["le"];
        Registry["greaterthan"] = Registry[">"] = Registry["gt"];
        Registry[">="] = Registry["ge"];
    }

    public static Test? Find(string name) => Registry.GetValueOrDefault(name);

    /// <summary>A test named at render time (<c>selectattr('role', 'equalto', 'user')</c>), which can only fail then.</summary>
    public static Test Require(object? name, string caller) =>
        name is string s && Find(s) is { } test ? test
            : throw new TemplateRuntimeException($"{caller}: no test named {PyString.Repr(name)}", caller);

    /// <summary>Python's <c>is</c>: the same singleton (None, True, False) or the same object.</summary>
    private static bool SameAs(object? a, object? b) => a switch
    {
        null => b is null,
        bool x => b is bool y && x == y,
        long x => b is long y && x == y,
        _ => ReferenceEquals(a, b),
    };
}
