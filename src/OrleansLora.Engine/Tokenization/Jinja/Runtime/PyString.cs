using System.Globalization;
using System.Text;

namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>Python's str() and repr(), and string helpers that count code points as Python does.</summary>
internal static class PyString
{
    /// <summary>str(value), which is what <c>{{ value }}</c> prints (Undefined prints nothing).</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PyFloat.Repr(d),
        Undefined => "",
        _ => Repr(value),
    };

    /// <summary>repr(value): strings quoted, containers with their items' repr.</summary>
    public static string Repr(object? value)
    {
        var text = new StringBuilder();
        AppendRepr(text, value, 0);
        return text.ToString();
    }

    private static void AppendRepr(StringBuilder text, object? value, int depth)
    {
        if (depth > 64)
            throw new TemplateRuntimeException("value nested too deeply to print", "repr");
        switch (value)
        {
            case string s:
                AppendQuoted(text, s);
                break;
            case List<object?> list:
                text.Append('[');
                AppendItems(text, list, depth);
                text.Append(']');
                break;
            case object?[] tuple:
                text.Append('(');
                AppendItems(text, tuple, depth);
                text.Append(tuple.Length == 1 ? ",)" : ")");
                break;
            case PyDict dict:
                text.Append('{');
                bool first = true;
                foreach (var (key, item) in dict)
                {
                    if (!first)
                        text.Append(", ");
                    first = false;
                    AppendRepr(text, key, depth + 1);
                    text.Append(": ");
                    AppendRepr(text, item, depth + 1);
                }
                text.Append('}');
                break;
            case Undefined:
                text.Append("Undefined");
                break;
            case JinjaNamespace ns:
                text.Append("<Namespace ");
                AppendRepr(text, ToDict(ns), depth + 1);
                text.Append('>');
                break;
            default:
                text.Append(value is null or bool or long or double ? Str(value) : value.ToString());
                break;
        }
    }

    private static PyDict ToDict(JinjaNamespace ns)
    {
        var dict = new PyDict();
        foreach (var (key, value) in ns.Attributes)
            dict[key] = value;
        return dict;
    }

    private static void AppendItems(StringBuilder text, IReadOnlyList<object?> items, int depth)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0)
                text.Append(", ");
            AppendRepr(text, items[i], depth + 1);
        }
    }

    private static void AppendQuoted(StringBuilder text, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        text.Append(quote);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == quote || c == '\\')
            {
                text.Append('\\').Append(c);
            }
            else if (c == '\n')
            {
                text.Append("\\n");
            }
            else if (c == '\r')
            {
                text.Append("\\r");
            }
            else if (c == '\t')
            {
                text.Append("\\t");
            }
            else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                int cp = char.ConvertToUtf32(c, s[i + 1]);
                if (IsPrintable(cp))
                    text.Append(c).Append(s[i + 1]);
                else
                    text.Append("\\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
                i++;
            }
            else if (IsPrintable(c))
            {
                text.Append(c);
            }
            else
            {
                text.Append(c < 0x100 ? "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture) : "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }
        text.Append(quote);
    }

    /// <summary>Python's str.isprintable for one code point: not a control, format, separator (but space), surrogate, private or unassigned.</summary>
    private static bool IsPrintable(int codePoint)
    {
        if (codePoint == ' ')
            return true;
        return CharUnicodeInfo.GetUnicodeCategory(codePoint) is not (UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
    }

    /// <summary>Python's str.isspace for one character (.NET's IsWhiteSpace misses U+001C..U+001F).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    public static bool HasSurrogates(string s)
    {
        foreach (char c in s)
        {
            if (char.IsSurrogate(c))
                return true;
        }
        return false;
    }

    public static long CodePointCount(string s)
    {
        if (!HasSurrogates(s))
            return s.Length;
        long count = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                i++;
            count++;
        }
        return count;
    }

    /// <summary>The string's code points, each as a string (what iterating a Python str gives).</summary>
    public static List<object?> Characters(string s)
    {
        var items = new List<object?>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                items.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                items.Add(s[i].ToString());
            }
        }
        return items;
    }

    /// <summary>str.strip / lstrip / rstrip: whitespace, or any of <paramref name="chars"/> when given.</summary>
    public static string Strip(string s, string? chars, bool left, bool right)
    {
        int start = 0, end = s.Length;
        if (left)
        {
            while (start < end && IsStripped(s[start], chars))
                start++;
        }
        if (right)
        {
            while (end > start && IsStripped(s[end - 1], chars))
                end--;
        }
        return start == 0 && end == s.Length ? s : s[start..end];
    }

    private static bool IsStripped(char c, string? chars) => chars is null ? IsSpace(c) : chars.Contains(c);
}
