using System.Runtime.CompilerServices;

namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>Python's truth, equality, ordering and membership on template values.</summary>
internal static class PyOps
{
    public static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        object?[] tuple => tuple.Length > 0,
        PyDict dict => dict.Count > 0,
        Undefined => false,
        _ => true,
    };

    public static bool Equal(object? a, object? b)
    {
        if (ReferenceEquals(a, b))
            return true;
        switch (a)
        {
            case null:
                return b is null;
            case string s:
                return b is string t && string.Equals(s, t, StringComparison.Ordinal);
            case bool or long or double when b is bool or long or double:
                return NumericEqual(a, b);
            case List<object?> list:
                RuntimeHelpers.EnsureSufficientExecutionStack(); // a template can nest lists arbitrarily deep
                return b is List<object?> other && ItemsEqual(list, other);
            case object?[] tuple:
                RuntimeHelpers.EnsureSufficientExecutionStack();
                return b is object?[] other2 && ItemsEqual(tuple, other2);
            case PyDict dict:
                RuntimeHelpers.EnsureSufficientExecutionStack();
                if (b is not PyDict od || od.Count != dict.Count)
                    return false;
                foreach (var (key, value) in dict)
                {
                    if (!od.TryGetValue(key, out var v) || !Equal(value, v))
                        return false;
                }
                return true;
            case Undefined:
                return b is Undefined;
            default:
                return Equals(a, b);
        }
    }

    private static bool NumericEqual(object a, object b)
    {
        if (a is double || b is double)
            return ToDouble(a) == ToDouble(b);
        return ToLong(a) == ToLong(b);
    }

    private static bool ItemsEqual(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count)
            return false;
        for (int i = 0; i < a.Count; i++)
        {
            if (!Equal(a[i], b[i]))
                return false;
        }
        return true;
    }

    /// <summary>Python's <c>a op b</c> for the orderings &lt; &lt;= &gt; &gt;=.</summary>
    public static bool Ordered(object? a, object? b, string op)
    {
        int? order = Compare(a, b, op);
        return order is int o && op switch
        {
            "<" => o < 0,
            "<=" => o <= 0,
            ">" => o > 0,
            ">=" => o >= 0,
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not an ordering"),
        };
    }

    /// <summary>Python's ordering: numbers with numbers, strings by code point, lists and tuples item by item; null when unordered (NaN).</summary>
    private static int? Compare(object? a, object? b, string op)
    {
        switch (a)
        {
            case bool or long or double when b is bool or long or double:
                if (a is double || b is double)
                {
                    double x = ToDouble(a), y = ToDouble(b);
                    if (double.IsNaN(x) || double.IsNaN(y))
                        return null;
                    return x.CompareTo(y);
                }
                return ToLong(a).CompareTo(ToLong(b));
            case string s when b is string t:
                return CompareCodePoints(s, t);
            case IReadOnlyList<object?> l when b is IReadOnlyList<object?> r && a.GetType() == b.GetType():
                RuntimeHelpers.EnsureSufficientExecutionStack();
                for (int i = 0; i < Math.Min(l.Count, r.Count); i++)
                {
                    if (!Equal(l[i], r[i]))
                        return Compare(l[i], r[i], op);
                }
                return l.Count.CompareTo(r.Count);
            default:
                if (a is Undefined ua)
                    throw ua.Error();
                if (b is Undefined ub)
                    throw ub.Error();
                throw new TemplateRuntimeException($"'{op}' not supported between instances of {PyTypes.Name(a)} and {PyTypes.Name(b)}", op);
        }
    }

    private static int CompareCodePoints(string s, string t)
    {
        // Ordinal UTF-16 order differs from code point order only above U+D7FF; fix those up.
        int n = Math.Min(s.Length, t.Length);
        for (int i = 0; i < n; i++)
        {
            char x = s[i], y = t[i];
            if (x == y)
                continue;
            bool xs = char.IsSurrogate(x), ys = char.IsSurrogate(y);
            if (xs != ys && (x >= 0xE000 || y >= 0xE000))
                return xs ? 1 : -1;
            return x.CompareTo(y);
        }
        return s.Length.CompareTo(t.Length);
    }

    /// <summary><paramref name="item"/> in <paramref name="container"/>.</summary>
    public static bool Contains(object? container, object? item) => container switch
    {
        string s => item is string t ? s.Contains(t, StringComparison.Ordinal)
            : item is Undefined u ? throw u.Error()
            : throw new TemplateRuntimeException($"'in <string>' requires string as left operand, not {PyTypes.Name(item)}", "in"),
        PyDict dict => dict.TryGet(item, out _),
        List<object?> or object?[] => ((IReadOnlyList<object?>)container).Any(x => Equal(x, item)),
        Undefined => false,
        _ => throw new TemplateRuntimeException($"argument of type {PyTypes.Name(container)} is not iterable", "in"),
    };

    public static double ToDouble(object? value) => value switch
    {
        double d => d,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new TemplateRuntimeException($"{PyTypes.Name(value)} is not a number"),
    };

    public static long ToLong(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new TemplateRuntimeException($"{PyTypes.Name(value)} is not an integer"),
    };
}
