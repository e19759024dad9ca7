using System.Globalization;
using System.Text;

namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>
/// Python's <c>"%s" % value</c> and <c>"{}".format(...)</c>, for the conversions templates use:
/// s, r, d, i, f with width and precision. Anything else fails, naming the directive.
/// </summary>
internal static class PyFormat
{
    public static string Percent(string format, object? values, RenderContext context)
    {
        var positional = values is object?[] tuple ? tuple : null;
        var mapping = values as PyDict;
        int next = 0;
        var text = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%')
            {
                text.Append(c);
                continue;
            }
            if (++i >= format.Length)
                throw new TemplateRuntimeException("incomplete format", "%");
            object? value;
            if (format[i] == '%')
            {
                text.Append('%');
                continue;
            }
            if (format[i] == '(')
            {
                int close = format.IndexOf(')', i);
                if (close < 0 || mapping is null)
                    throw new TemplateRuntimeException("format requires a mapping", "%");
                value = mapping.TryGet(format[(i + 1)..close], out var v) ? v : throw new TemplateRuntimeException($"format key {format[(i + 1)..close]} is missing", "%");
                i = close + 1;
            }
            else
            {
                value = positional is null ? (next++ == 0 ? values : throw new TemplateRuntimeException("not enough arguments for format string", "%"))
                    : next < positional.Length ? positional[next++] : throw new TemplateRuntimeException("not enough arguments for format string", "%");
            }
            var spec = ReadSpec(format, ref i);
            text.Append(Convert(value, spec, "%"));
            context.CheckSize(text.Length, "%");
        }
        if (positional is not null && next < positional.Length)
            throw new TemplateRuntimeException("not all arguments converted during string formatting", "%");
        return text.ToString();
    }

    /// <summary>str.format: <c>{}</c>, <c>{0}</c>, <c>{name}</c>, conversions !s !r, specs like <c>:d</c>, <c>:.2f</c>, <c>:&gt;8</c>.</summary>
    public static string Format(string format, Arguments arguments, RenderContext context)
    {
        var text = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '}' && i + 1 < format.Length && format[i + 1] == '}')
            {
                text.Append('}');
                i++;
                continue;
            }
            if (c != '{')
            {
                text.Append(c);
                continue;
            }
            if (i + 1 < format.Length && format[i + 1] == '{')
            {
                text.Append('{');
                i++;
                continue;
            }
            int close = format.IndexOf('}', i);
            if (close < 0)
                throw new TemplateRuntimeException("Single '{' encountered in format string", "format");
            string field = format[(i + 1)..close];
            i = close;
            string spec = "";
            int colon = field.IndexOf(':');
            if (colon >= 0)
            {
                spec = field[(colon + 1)..];
                field = field[..colon];
            }
            char conversion = 's';
            int bang = field.IndexOf('!');
            if (bang >= 0)
            {
                conversion = field.Length > bang + 1 ? field[bang + 1] : 's';
                field = field[..bang];
            }
            object? value = field.Length == 0 ? Positional(arguments, auto++)
                : int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int index) ? Positional(arguments, index)
                : arguments.Keywords.FirstOrDefault(k => k.Key == field) is { Key: not null } kw ? kw.Value
                : throw new TemplateRuntimeException($"format field '{field}' is not an argument", "format");
            if (conversion == 'r')
                value = PyString.Repr(value);
            text.Append(ApplySpec(value, spec));
            context.CheckSize(text.Length, "format");
        }
        return text.ToString();
    }

    private static object? Positional(Arguments arguments, int index) =>
        index < arguments.Positional.Count ? arguments.Positional[index]
            : throw new TemplateRuntimeException($"Replacement index {index} out of range for positional args tuple", "format");

    private readonly record struct Spec(bool Left, bool Zero, int Width, int Precision, char Type);

    private static Spec ReadSpec(string format, ref int i)
    {
        bool left = false, zero = false;
        while (i < format.Length && format[i] is '-' or '0' or ' ' or '+' or '#')
        {
            left |= format[i] == '-';
            zero |= format[i] == '0';
            i++;
        }
        int width = ReadNumber(format, ref i);
        int precision = -1;
        if (i < format.Length && format[i] == '.')
        {
            i++;
            precision = Math.Max(0, ReadNumber(format, ref i));
        }
        if (i >= format.Length)
            throw new TemplateRuntimeException("incomplete format", "%");
        return new Spec(left, zero, Math.Max(0, width), precision, format[i]);
    }

    private static int ReadNumber(string s, ref int i)
    {
        int start = i;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
            i++;
        return i == start ? -1 : Math.Min(10_000, int.Parse(s.AsSpan(start, i - start), CultureInfo.InvariantCulture));
    }

    private static string Convert(object? value, Spec spec, string construct)
    {
        string body = spec.Type switch
        {
            's' => PyString.Str(value),
            'r' => PyString.Repr(value),
            'd' or 'i' => value is double d ? ((long)Math.Truncate(d)).ToString(CultureInfo.InvariantCulture) : PyOps.ToLong(value).ToString(CultureInfo.InvariantCulture),
            'f' or 'F' => PyOps.ToDouble(value).ToString("F" + (spec.Precision < 0 ? 6 : spec.Precision), CultureInfo.InvariantCulture),
            _ => throw new TemplateRuntimeException($"the format character '{spec.Type}' is not supported by this engine", construct) { IsUnsupported = true },
        };
        if (spec.Type is 's' or 'r' && spec.Precision >= 0 && body.Length > spec.Precision)
            body = body[..spec.Precision];
        if (body.Length >= spec.Width)
            return body;
        return spec.Left ? body.PadRight(spec.Width)
            : spec.Zero && spec.Type is not ('s' or 'r') ? (body.StartsWith('-') ? "-" + body[1..].PadLeft(spec.Width - 1, '0') : body.PadLeft(spec.Width, '0'))
            : body.PadLeft(spec.Width);
    }

    private static string ApplySpec(object? value, string spec)
    {
        if (spec.Length == 0)
            return PyString.Str(value);
        char align = '\0';
        char fill = ' ';
        int i = 0;
        if (spec.Length >= 2 && spec[1] is '<' or '>' or '^')
        {
            fill = spec[0];
            align = spec[1];
            i = 2;
        }
        else if (spec[0] is '<' or '>' or '^')
        {
            align = spec[0];
            i = 1;
        }
        string rest = spec[i..];
        char type = rest.Length > 0 && char.IsAsciiLetter(rest[^1]) ? rest[^1] : (value is string ? 's' : 'g');
        if (type != 'g' && rest.Length > 0)
            rest = rest[..^1];
        int precision = -1;
        int dot = rest.IndexOf('.');
        if (dot >= 0)
        {
            precision = int.Parse(rest.AsSpan(dot + 1), CultureInfo.InvariantCulture);
            rest = rest[..dot];
        }
        int width = rest.Length == 0 ? 0 : int.Parse(rest, CultureInfo.InvariantCulture);
        string body = type switch
        {
            'g' => PyString.Str(value),
            's' => precision >= 0 ? PyString.Str(value)[..Math.Min(precision, PyString.Str(value).Length)] : PyString.Str(value),
            'd' => PyOps.ToLong(value).ToString(CultureInfo.InvariantCulture),
            'f' => PyOps.ToDouble(value).ToString("F" + (precision < 0 ? 6 : precision), CultureInfo.InvariantCulture),
            _ => throw new TemplateRuntimeException($"the format spec '{spec}' is not supported by this engine", "format") { IsUnsupported = true },
        };
        if (body.Length >= width)
            return body;
        if (align == '\0')
            align = value is string ? '<' : '>';
        int pad = width - body.Length;
        return align switch
        {
            '<' => body + new string(fill, pad),
            '>' => new string(fill, pad) + body,
            _ => new string(fill, pad / 2) + body + new string(fill, pad - pad / 2),
        };
    }
}
