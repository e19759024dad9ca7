using System.Text;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>Filters on text: trim, upper, lower, capitalize, title, replace, indent, string, format, escape, safe, wordcount.</summary>
internal static class TextFilters
{
    public static void Register(Dictionary<string, Filters.Filter> filters)
    {
        filters["trim"] = (_, value, args) =>
        {
            args.Check("trim", 1, "chars");
            return PyString.Strip(PyString.Str(value), args.Get(0, "chars") as string, true, true);
        };
        filters["upper"] = (_, value, _) => PyString.Str(value).ToUpperInvariant();
        filters["lower"] = (_, value, _) => PyString.Str(value).ToLowerInvariant();
        filters["capitalize"] = (_, value, _) => StringMethods.Capitalize(PyString.Str(value));
        filters["title"] = (_, value, _) => Title(PyString.Str(value));
        filters["string"] = (_, value, _) => PyString.Str(value);
        filters["safe"] = (_, value, _) => value;
        filters["escape"] = filters["e"] = (_, value, _) => Escape(PyString.Str(value));
        filters["replace"] = (context, value, args) =>
        {
            args.Check("replace", 3, "old", "new", "count");
            string old = PyString.Str(args.Get(0, "old")), replacement = PyString.Str(args.Get(1, "new"));
            var count = args.Get(2, "count");
            return StringMethods.Replace(PyString.Str(value), old, replacement, count is null ? -1 : PyOps.ToLong(count), context);
        };
        filters["indent"] = (context, value, args) =>
        {
            args.Check("indent", 3, "width", "first", "blank");
            var width = args.Get(0, "width", 4L);
            string pad = width as string ?? new string(' ', (int)Math.Clamp(PyOps.ToLong(width), 0, 1000));
            return Indent(PyString.Str(value), pad, PyOps.Truthy(args.Get(1, "first", false)), PyOps.Truthy(args.Get(2, "blank", false)), context);
        };
        filters["format"] = (context, value, args) =>
            PyFormat.Percent(PyString.Str(value), args.Keywords.Count > 0 ? ToDict(args.Keywords) : args.Positional.ToArray(), context);
        filters["wordcount"] = (_, value, _) => (long)StringMethods.Split(PyString.Str(value), null, -1, false).Count;
    }

    /// <summary>jinja2's title filter: each word (split at whitespace and -({[&lt;) capitalised.</summary>
    private static string Title(string s)
    {
        var text = new StringBuilder(s.Length);
        bool wordStart = true;
        foreach (char c in s)
        {
            bool separator = PyString.IsSpace(c) || c is '-' or '(' or '{' or '[' or '<';
            text.Append(separator ? c : wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            wordStart = separator;
        }
        return text.ToString();
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal).Replace("\"", "&#34;", StringComparison.Ordinal);

    /// <summary>jinja2's indent: every line but the first (and it too with first=True), blank lines only with blank=True.</summary>
    private static string Indent(string s, string pad, bool first, bool blank, RenderContext context)
    {
        var lines = StringMethods.SplitLines(s + "\n", false).Cast<string>().ToList();
        context.CheckSize(s.Length + (long)lines.Count * pad.Length, "indent");
        var text = new StringBuilder(first ? pad : "");
        for (int i = 0; i < lines.Count; i++)
        {
            if (i > 0)
                text.Append('\n');
            if (i > 0 && (blank || lines[i].Length > 0))
                text.Append(pad);
            text.Append(lines[i]);
        }
        return text.ToString();
    }

    private static PyDict ToDict(IReadOnlyList<KeyValuePair<string, object?>> pairs)
    {
        var dict = new PyDict(pairs.Count);
        foreach (var (key, value) in pairs)
            dict[key] = value;
        return dict;
    }
}
