using System.Globalization;
using System.Text;

namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>
/// Python's <c>json.dumps</c> as transformers' <c>tojson</c> filter calls it: ensure_ascii=False,
/// sort_keys=False by default, separators ", " and ": " (or "," and ": " with an indent), floats
/// as repr(), non-serialisable values (Undefined) an error.
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, bool ensureAscii, string? indent, string itemSeparator, string keySeparator, bool sortKeys, RenderContext context)
    {
        var text = new StringBuilder();
        var writer = new Writer(text, ensureAscii, indent, itemSeparator, keySeparator, sortKeys, context);
        writer.Write(value, 0);
        return text.ToString();
    }

    private sealed class Writer(StringBuilder text, bool ensureAscii, string? indent, string itemSeparator, string keySeparator, bool sortKeys, RenderContext context)
    {
        public void Write(object? value, int depth)
        {
            if (depth > 64)
                throw new TemplateRuntimeException("value nested too deeply for tojson", "tojson");
            context.CheckSize(text.Length, "tojson");
            switch (value)
            {
                case null:
                    text.Append("null");
                    break;
                case bool b:
                    text.Append(b ? "true" : "false");
                    break;
                case long l:
                    text.Append(l.ToString(CultureInfo.InvariantCulture));
                    break;
                case double d:
                    text.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyFloat.Repr(d));
                    break;
                case string s:
                    WriteString(s);
                    break;
                case List<object?> or object?[]:
                    WriteList((IReadOnlyList<object?>)value, depth);
                    break;
                case PyDict dict:
                    WriteDict(dict, depth);
                    break;
                default:
                    throw new TemplateRuntimeException($"Object of type {PyTypes.Name(value).Trim('\'')} is not JSON serializable", "tojson");
            }
        }

        private void WriteList(IReadOnlyList<object?> items, int depth)
        {
            if (items.Count == 0)
            {
                text.Append("[]");
                return;
            }
            text.Append('[');
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0)
                    text.Append(itemSeparator);
                NewLine(depth + 1);
                Write(items[i], depth + 1);
            }
            NewLine(depth);
            text.Append(']');
        }

        private void WriteDict(PyDict dict, int depth)
        {
            if (dict.Count == 0)
            {
                text.Append("{}");
                return;
            }
            IEnumerable<KeyValuePair<object, object?>> entries = dict;
            if (sortKeys)
                entries = dict.OrderBy(e => Key(e.Key), StringComparer.Ordinal);
            text.Append('{');
            bool first = true;
            foreach (var (key, item) in entries)
            {
                if (!first)
                    text.Append(itemSeparator);
                first = false;
                NewLine(depth + 1);
                WriteString(Key(key));
                text.Append(keySeparator);
                Write(item, depth + 1);
            }
            NewLine(depth);
            text.Append('}');
        }

        private static string Key(object key) => key switch
        {
            string s => s,
            bool b => b ? "true" : "false",
            long l => l.ToString(CultureInfo.InvariantCulture),
            double d => PyFloat.Repr(d),
            _ => throw new TemplateRuntimeException($"keys must be str, int, float, bool or None, not {PyTypes.Name(key).Trim('\'')}", "tojson"),
        };

        private void NewLine(int depth)
        {
            if (indent is null)
                return;
            text.Append('\n');
            for (int i = 0; i < depth; i++)
                text.Append(indent);
        }

        private void WriteString(string s)
        {
            text.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': text.Append("\\\""); break;
                    case '\\': text.Append("\\\\"); break;
                    case '\n': text.Append("\\n"); break;
                    case '\r': text.Append("\\r"); break;
                    case '\t': text.Append("\\t"); break;
                    case '\b': text.Append("\\b"); break;
                    case '\f': text.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (ensureAscii && c > 0x7e))
                            text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else
                            text.Append(c);
                        break;
                }
            }
            text.Append('"');
        }
    }
}
