using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>The methods templates may call on str, dict, list and tuple values, bound to their owner.</summary>
internal static class Methods
{
    private static readonly HashSet<string> MutatingDict = ["pop", "popitem", "setdefault", "update", "clear"];
    private static readonly HashSet<string> MutatingList = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];

    private static readonly HashSet<string> PythonStr =
    [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map", "index",
        "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
        "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace",
        "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
        "title", "translate", "upper", "zfill",
    ];

    private static readonly HashSet<string> PythonDict = ["clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"];
    private static readonly HashSet<string> PythonList = ["append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"];

    /// <summary>A method Python has on this value that this engine lacks (so the template is using something unsupported).</summary>
    public static bool IsUnimplemented(object? owner, string name) => owner switch
    {
        string => PythonStr.Contains(name),
        PyDict => PythonDict.Contains(name),
        List<object?> or object?[] => PythonList.Contains(name),
        _ => false,
    } && Find(owner, name) is null && !IsMutating(owner, name);

    public static JinjaCallable? Find(object? owner, string name) => owner switch
    {
        string s => StringMethods.Find(s, name),
        PyDict dict => FindDict(dict, name),
        List<object?> or object?[] => FindSequence((IReadOnlyList<object?>)owner, name),
        _ => null,
    };

    /// <summary>Methods that exist but change their object, which the immutable sandbox refuses.</summary>
    public static bool IsMutating(object? owner, string name) => owner switch
    {
        PyDict => MutatingDict.Contains(name),
        List<object?> => MutatingList.Contains(name),
        _ => false,
    };

    private static BuiltinFunction? FindDict(PyDict dict, string name) => name switch
    {
        "items" => new(name, (_, args) =>
        {
            args.Check("items", 0);
            return dict.Select(e => (object?)new object?[] { e.Key, e.Value }).ToList();
        }),
        "keys" => new(name, (_, args) =>
        {
            args.Check("keys", 0);
            return dict.Keys.ToList<object?>();
        }),
        "values" => new(name, (_, args) =>
        {
            args.Check("values", 0);
            return dict.Values.ToList();
        }),
        "get" => new(name, (_, args) =>
        {
            args.Check("get", 2);
            return dict.TryGet(args.Get(0, "key"), out var value) ? value : args.Get(1, "default");
        }),
        "copy" => new(name, (_, args) =>
        {
            args.Check("copy", 0);
            var copy = new PyDict(dict.Count);
            foreach (var (key, value) in dict)
                copy[key] = value;
            return copy;
        }),
        _ => null,
    };

    private static BuiltinFunction? FindSequence(IReadOnlyList<object?> items, string name) => name switch
    {
        "index" => new(name, (_, args) =>
        {
            args.Check("index", 1);
            for (int i = 0; i < items.Count; i++)
            {
                if (PyOps.Equal(items[i], args.Get(0, "value")))
                    return (long)i;
            }
            throw new TemplateRuntimeException($"{PyString.Repr(args.Get(0, "value"))} is not in list", "index");
        }),
        "count" => new(name, (_, args) =>
        {
            args.Check("count", 1);
            return (long)items.Count(x => PyOps.Equal(x, args.Get(0, "value")));
        }),
        "copy" when items is List<object?> list => new(name, (_, _) => new List<object?>(list)),
        _ => null,
    };
}
