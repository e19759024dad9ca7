namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>
/// The Python types template values stand for: None is null, bool, int is long, float is double,
/// str is string, list is <see cref="List{T}"/>, tuple is an array, dict is <see cref="PyDict"/>.
/// </summary>
internal static class PyTypes
{
    public static string Name(object? value) => value switch
    {
        null => "'NoneType'",
        bool => "'bool'",
        long => "'int'",
        double => "'float'",
        string => "'str'",
        List<object?> => "'list'",
        object?[] => "'tuple'",
        PyDict => "'dict'",
        Undefined => "'Undefined'",
        JinjaNamespace => "'Namespace'",
        LoopInfo => "'LoopContext'",
        JinjaCallable => "'function'",
        _ => $"'{value.GetType().Name}'",
    };

    public static bool IsNumber(object? value) => value is long or double or bool;

    /// <summary>A list or tuple.</summary>
    public static bool IsSequence(object? value) => value is List<object?> or object?[];

    public static bool IsIterable(object? value) => value is string or List<object?> or object?[] or PyDict or Undefined;

    /// <summary>Python's iteration: items of a list or tuple, keys of a dict, characters (code points) of a string.</summary>
    public static IReadOnlyList<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        object?[] tuple => tuple,
        PyDict dict => dict.Keys.ToList<object?>(),
        string s => PyString.Characters(s),
        Undefined => [],
        _ => throw new TemplateRuntimeException($"{Name(value)} object is not iterable", "for"),
    };

    /// <summary>Python's len().</summary>
    public static long Length(object? value) => value switch
    {
        string s => PyString.CodePointCount(s),
        List<object?> list => list.Count,
        object?[] tuple => tuple.Length,
        PyDict dict => dict.Count,
        Undefined => 0,
        _ => throw new TemplateRuntimeException($"object of type {Name(value)} has no len()", "length"),
    };
}
