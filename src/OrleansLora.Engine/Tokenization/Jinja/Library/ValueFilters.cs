using System.Globalization;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>Filters on single values: default, tojson (transformers' version), int, float, round, abs, attr.</summary>
internal static class ValueFilters
{
    public static void Register(Dictionary<string, Filters.Filter> filters)
    {
        filters["default"] = filters["d"] = (_, value, args) =>
        {
            args.Check("default", 2, "default_value", "boolean");
            bool boolean = PyOps.Truthy(args.Get(1, "boolean", false));
            return value is Undefined || (boolean && !PyOps.Truthy(value)) ? args.Get(0, "default_value", "") : value;
        };
        filters["tojson"] = ToJson;
        filters["int"] = (_, value, args) =>
        {
            args.Check("int", 2, "default", "base");
            return ToInt(value, args.Get(0, "default", 0L), (int)PyOps.ToLong(args.Get(1, "base", 10L)));
        };
        filters["float"] = (_, value, args) =>
        {
            args.Check("float", 1, "default");
            return value switch
            {
                double d => d,
                long or bool => PyOps.ToDouble(value),
                string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
                _ => args.Get(0, "default", 0.0),
            };
        };
        filters["round"] = (_, value, args) =>
        {
            args.Check("round", 2, "precision", "method");
            int precision = (int)Math.Clamp(PyOps.ToLong(args.Get(0, "precision", 0L)), 0, 15);
            string method = PyString.Str(args.Get(1, "method", "common"));
            double x = PyOps.ToDouble(value);
            double scale = Math.Pow(10, precision);
            return method switch
            {
                // Python's round() rounds halves to even.
                "common" => value is double ? Math.Round(x, precision, MidpointRounding.ToEven) : value,
                "ceil" => Math.Ceiling(x * scale) / scale,
                "floor" => Math.Floor(x * scale) / scale,
                _ => throw new TemplateRuntimeException("method must be 'common', 'ceil' or 'floor'", "round"),
            };
        };
        filters["abs"] = (_, value, _) => value switch
        {
            long l => (object)checked(Math.Abs(l)),
            double d => Math.Abs(d),
            bool b => b ? 1L : 0L,
            _ => throw new TemplateRuntimeException($"bad operand type for abs(): {PyTypes.Name(value)}", "abs"),
        };
        // jinja2's attr looks up attributes only, never items: on a dict it finds methods, not keys.
        filters["attr"] = (_, value, args) =>
        {
            string name = PyString.Str(args.Get(0, "name"));
            return value is PyDict dict ? Methods.Find(dict, name) ?? (object)Undefined.Missing(dict, name) : Access.GetAttribute(value, name);
        };
    }

    /// <summary>transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).</summary>
    private static object? ToJson(RenderContext context, object? value, Arguments args)
    {
        args.Check("tojson", 4, "ensure_ascii", "indent", "separators", "sort_keys");
        var indentArg = args.Get(1, "indent");
        string? indent = indentArg switch
        {
            null => null,
            string s => s,
            _ => new string(' ', (int)Math.Clamp(PyOps.ToLong(indentArg), 0, 64)),
        };
        string item = indent is null ? ", " : ",", key = ": ";
        if (args.Get(2, "separators") is { } separators)
        {
            var pair = PyTypes.Iterate(separators);
            if (pair.Count != 2 || pair[0] is not string i || pair[1] is not string k)
                throw new TemplateRuntimeException("tojson separators must be a pair of strings", "tojson");
            (item, key) = (i, k);
        }
        return PyJson.Dumps(value, PyOps.Truthy(args.Get(0, "ensure_ascii", false)), indent, item, key, PyOps.Truthy(args.Get(3, "sort_keys", false)), context);
    }

    private static object? ToInt(object? value, object? fallback, int numberBase)
    {
        switch (value)
        {
            case long or bool:
                return PyOps.ToLong(value);
            case double d:
                return double.IsFinite(d) && Math.Abs(d) < 9.2e18 ? (long)Math.Truncate(d) : fallback;
            case string s:
                string t = s.Trim().Replace("_", "", StringComparison.Ordinal);
                try
                {
                    if (numberBase == 10)
                    {
                        if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                            return l;
                        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && double.IsFinite(f) && Math.Abs(f) < 9.2e18
                            ? (long)Math.Truncate(f) : fallback;
                    }
                    if (numberBase is 2 or 8 or 16)
                    {
                        string digits = t.Length > 2 && t[0] == '0' && char.IsAsciiLetter(t[1]) ? t[2..] : t;
                        return Convert.ToInt64(digits, numberBase);
                    }
                }
                catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
                {
                    return fallback;
                }
                return fallback;
            default:
                return fallback;
        }
    }
}
