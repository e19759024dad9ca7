using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>
/// Filters on sequences and mappings: length, first, last, join, list, items, map, select, reject,
/// selectattr, rejectattr, sort, unique, reverse, sum, min, max, dictsort. jinja2 returns generators
/// from some of these; here they are lists, which every template consumes the same way.
/// </summary>
internal static class SequenceFilters
{
    public static void Register(Dictionary<string, Filters.Filter> filters)
    {
        filters["length"] = filters["count"] = (_, value, _) => PyTypes.Length(value);
        filters["list"] = (context, value, _) => Collect(context, PyTypes.Iterate(value));
        filters["first"] = (_, value, _) => PyTypes.Iterate(value) is { Count: > 0 } items ? items[0] : Undefined.Named("first item of an empty sequence");
        filters["last"] = (_, value, _) => PyTypes.Iterate(value) is { Count: > 0 } items ? items[^1] : Undefined.Named("last item of an empty sequence");
        filters["reverse"] = (context, value, _) => value is string s
            ? string.Concat(PyString.Characters(s).Cast<string>().Reverse())
            : Collect(context, PyTypes.Iterate(value).Reverse());
        filters["items"] = (context, value, _) => value switch
        {
            Undefined => new List<object?>(),
            PyDict dict => Collect(context, dict.Select(e => (object?)new object?[] { e.Key, e.Value })),
            _ => throw new TemplateRuntimeException("Can only get item pairs from a mapping.", "items"),
        };
        filters["join"] = (context, value, args) =>
        {
            args.Check("join", 2, "d", "attribute");
            var items = PyTypes.Iterate(value);
            if (args.Get(1, "attribute") is { } attribute)
                items = items.Select(item => AttributePath(item, attribute)).ToList();
            string joined = string.Join(PyString.Str(args.Get(0, "d", "")), items.Select(PyString.Str));
            context.CheckSize(joined.Length, "join");
            return joined;
        };
        filters["map"] = Map;
        filters["select"] = (context, value, args) => Select(context, value, args, attribute: false, keep: true);
        filters["reject"] = (context, value, args) => Select(context, value, args, attribute: false, keep: false);
        filters["selectattr"] = (context, value, args) => Select(context, value, args, attribute: true, keep: true);
        filters["rejectattr"] = (context, value, args) => Select(context, value, args, attribute: true, keep: false);
        filters["sort"] = (context, value, args) =>
        {
            args.Check("sort", 3, "reverse", "case_sensitive", "attribute");
            var key = KeyFunction(args.Get(1, "case_sensitive", false), args.Get(2, "attribute"));
            var sorted = PyTypes.Iterate(value).OrderBy(key, PyComparer.Instance).ToList();
            if (PyOps.Truthy(args.Get(0, "reverse", false)))
                sorted = PyTypes.Iterate(value).OrderByDescending(key, PyComparer.Instance).ToList();
            return Collect(context, sorted);
        };
        filters["unique"] = (context, value, args) =>
        {
            args.Check("unique", 2, "case_sensitive", "attribute");
            var key = KeyFunction(args.Get(0, "case_sensitive", false), args.Get(1, "attribute"));
            var seen = new List<object?>();
            var result = new List<object?>();
            foreach (var item in PyTypes.Iterate(value))
            {
                var k = key(item);
                if (!seen.Any(s => PyOps.Equal(s, k)))
                {
                    seen.Add(k);
                    result.Add(item);
                }
            }
            return result;
        };
        filters["min"] = (_, value, args) => Extreme(value, args, "min", -1);
        filters["max"] = (_, value, args) => Extreme(value, args, "max", 1);
        filters["sum"] = (context, value, args) =>
        {
            args.Check("sum", 2, "attribute", "start");
            object? total = args.Get(1, "start", 0L);
            foreach (var item in PyTypes.Iterate(value))
                total = PyArithmetic.Binary("+", total, args.Get(0, "attribute") is { } a ? AttributePath(item, a) : item, context);
            return total;
        };
        filters["dictsort"] = (context, value, args) =>
        {
            args.Check("dictsort", 3, "case_sensitive", "by", "reverse");
            if (value is not PyDict dict)
                throw new TemplateRuntimeException("dictsort: value must be a dict", "dictsort");
            bool byValue = PyString.Str(args.Get(1, "by", "key")) == "value";
            var key = KeyFunction(args.Get(0, "case_sensitive", false), null);
            var pairs = dict.Select(e => (object?)new object?[] { e.Key, e.Value });
            Func<object?, object?> pick = pair => key(((object?[])pair!)[byValue ? 1 : 0]);
            var sorted = PyOps.Truthy(args.Get(2, "reverse", false)) ? pairs.OrderByDescending(pick, PyComparer.Instance) : pairs.OrderBy(pick, PyComparer.Instance);
            return Collect(context, sorted);
        };
    }

    private static object? Map(RenderContext context, object? value, Arguments args)
    {
        var items = PyTypes.Iterate(value);
        if (args.Count == 0 && args.Keywords.Any(k => k.Key == "attribute"))
        {
            var attribute = args.Get(int.MaxValue, "attribute");
            bool hasDefault = args.Has(int.MaxValue, "default");
            var fallback = args.Get(int.MaxValue, "default");
            return Collect(context, items.Select(item =>
            {
                var v = AttributePath(item, attribute);
                return v is Undefined && hasDefault ? fallback : v;
            }));
        }
        if (args.Count == 0)
            throw new TemplateRuntimeException("map requires a filter argument", "map");
        var filter = Filters.Require(args.Positional[0], "map");
        var rest = new Arguments(args.Positional.Skip(1).ToList(), args.Keywords);
        return Collect(context, items.Select(item => filter(context, item, rest)));
    }

    private static List<object?> Select(RenderContext context, object? value, Arguments args, bool attribute, bool keep)
    {
        var positional = args.Positional;
        int at = 0;
        object? path = attribute ? (positional.Count > 0 ? positional[at++] : throw new TemplateRuntimeException("selectattr needs an attribute", "selectattr")) : null;
        Tests.Test? test = positional.Count > at ? Tests.Require(positional[at++], attribute ? "selectattr" : "select") : null;
        var rest = new Arguments(positional.Skip(at).ToList(), args.Keywords);
        var result = new List<object?>();
        foreach (var item in PyTypes.Iterate(value))
        {
            context.Step();
            var subject = attribute ? AttributePath(item, path) : item;
            bool passes = test is null ? PyOps.Truthy(subject) : test(context, subject, rest);
            if (passes == keep)
                result.Add(item);
        }
        return result;
    }

    private static object? Extreme(object? value, Arguments args, string name, int sign)
    {
        args.Check(name, 2, "case_sensitive", "attribute");
        var key = KeyFunction(args.Get(0, "case_sensitive", false), args.Get(1, "attribute"));
        var items = PyTypes.Iterate(value);
        if (items.Count == 0)
            return Undefined.Named($"{name} of an empty sequence");
        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            if (PyComparer.Instance.Compare(key(item), key(best)) * sign > 0)
                best = item;
        }
        return best;
    }

    /// <summary>jinja2's attribute getter: "a.b.0" looks up each part as an item (integers as indices), then as an attribute.</summary>
    public static object? AttributePath(object? item, object? path)
    {
        if (path is long or bool)
            return Access.GetItem(item, path);
        foreach (var part in PyString.Str(path).Split('.'))
        {
            object key = long.TryParse(part, out long index) ? index : part;
            item = Access.GetItem(item, key);
        }
        return item;
    }

    private static Func<object?, object?> KeyFunction(object? caseSensitive, object? attribute)
    {
        bool sensitive = PyOps.Truthy(caseSensitive);
        return item =>
        {
            var k = attribute is null ? item : AttributePath(item, attribute);
            return !sensitive && k is string s ? s.ToLowerInvariant() : k;
        };
    }

    private static List<object?> Collect(RenderContext context, IEnumerable<object?> items)
    {
        var list = new List<object?>();
        foreach (var item in items)
        {
            context.Step();
            list.Add(item);
        }
        return list;
    }

    /// <summary>Python's ordering as a comparer, for sorting.</summary>
    private sealed class PyComparer : IComparer<object?>
    {
        public static PyComparer Instance { get; } = new();

        public int Compare(object? x, object? y) =>
            PyOps.Ordered(x, y, "<") ? -1 : PyOps.Ordered(y, x, "<") ? 1 : 0;
    }
}
