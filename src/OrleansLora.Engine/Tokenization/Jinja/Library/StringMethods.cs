using System.Globalization;
using System.Text;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>Python's str methods that chat templates call (startswith, split, strip, title, format, …).</summary>
internal static class StringMethods
{
    public static BuiltinFunction? Find(string s, string name) => name switch
    {
        "startswith" or "endswith" => new(name, (_, args) =>
        {
            args.Check(name, 1);
            var prefix = args.Get(0, "prefix");
            var candidates = prefix is object?[] tuple ? tuple : [prefix];
            foreach (var candidate in candidates)
            {
                if (candidate is not string c)
                    throw new TemplateRuntimeException($"{name} first arg must be str or a tuple of str, not {PyTypes.Name(candidate)}", name);
                if (name == "startswith" ? s.StartsWith(c, StringComparison.Ordinal) : s.EndsWith(c, StringComparison.Ordinal))
                    return true;
            }
            return false;
        }),
        "strip" or "lstrip" or "rstrip" => new(name, (_, args) =>
        {
            args.Check(name, 1, "chars");
            return PyString.Strip(s, OptionalString(args.Get(0, "chars"), name), name != "rstrip", name != "lstrip");
        }),
        "split" or "rsplit" => new(name, (_, args) =>
        {
            args.Check(name, 2, "sep", "maxsplit");
            return Split(s, OptionalString(args.Get(0, "sep"), name), (int)Math.Clamp(PyOps.ToLong(args.Get(1, "maxsplit", -1L)), -1, int.MaxValue), name == "rsplit");
        }),
        "splitlines" => new(name, (_, args) =>
        {
            args.Check(name, 1, "keepends");
            return SplitLines(s, PyOps.Truthy(args.Get(0, "keepends", false)));
        }),
        "upper" => NoArgs(name, () => s.ToUpperInvariant()),
        "lower" => NoArgs(name, () => s.ToLowerInvariant()),
        "casefold" => NoArgs(name, () => s.ToLowerInvariant()),
        "title" => NoArgs(name, () => Title(s)),
        "capitalize" => NoArgs(name, () => Capitalize(s)),
        "isdigit" or "isnumeric" or "isdecimal" => NoArgs(name, () => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => NoArgs(name, () => s.Length > 0 && s.All(char.IsLetter)),
        "isalnum" => NoArgs(name, () => s.Length > 0 && s.All(char.IsLetterOrDigit)),
        "isspace" => NoArgs(name, () => s.Length > 0 && s.All(PyString.IsSpace)),
        "islower" => NoArgs(name, () => s.Any(char.IsLetter) && !s.Any(char.IsUpper)),
        "isupper" => NoArgs(name, () => s.Any(char.IsLetter) && !s.Any(char.IsLower)),
        "replace" => new(name, (context, args) =>
        {
            args.Check(name, 3, "count");
            return Replace(s, RequireString(args.Get(0, "old"), name), RequireString(args.Get(1, "new"), name), PyOps.ToLong(args.Get(2, "count", -1L)), context);
        }),
        "find" or "rfind" or "index" or "rindex" => new(name, (_, args) =>
        {
            args.Check(name, 1);
            string sub = RequireString(args.Get(0, "sub"), name);
            int at = name.StartsWith('r') ? s.LastIndexOf(sub, StringComparison.Ordinal) : s.IndexOf(sub, StringComparison.Ordinal);
            if (at < 0 && name.EndsWith("index", StringComparison.Ordinal))
                throw new TemplateRuntimeException("substring not found", name);
            return (long)(at < 0 ? -1 : PyString.CodePointCount(s[..at]));
        }),
        "count" => new(name, (_, args) =>
        {
            args.Check(name, 1);
            string sub = RequireString(args.Get(0, "sub"), name);
            if (sub.Length == 0)
                return PyString.CodePointCount(s) + 1;
            long n = 0;
            for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal))
                n++;
            return n;
        }),
        "join" => new(name, (context, args) =>
        {
            args.Check(name, 1);
            var parts = PyTypes.Iterate(args.Get(0, "iterable")).Select(p => p as string ?? throw new TemplateRuntimeException($"sequence item: expected str instance, {PyTypes.Name(p)} found", "join"));
            string joined = string.Join(s, parts);
            context.CheckSize(joined.Length, "join");
            return joined;
        }),
        "format" => new(name, (context, args) => PyFormat.Format(s, args, context)),
        "removeprefix" => new(name, (_, args) =>
        {
            string prefix = RequireString(args.Get(0, "prefix"), name);
            return s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s;
        }),
        "removesuffix" => new(name, (_, args) =>
        {
            string suffix = RequireString(args.Get(0, "suffix"), name);
            return suffix.Length > 0 && s.EndsWith(suffix, StringComparison.Ordinal) ? s[..^suffix.Length] : s;
        }),
        _ => null,
    };

    /// <summary>Python's str.splitlines: \n, \r\n, \r and the other Unicode line breaks end a line.</summary>
    public static List<object?> SplitLines(string s, bool keepEnds)
    {
        var lines = new List<object?>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is not ('\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029'))
                continue;
            int end = i;
            if (s[i] == '\r' && i + 1 < s.Length && s[i + 1] == '\n')
                i++;
            lines.Add(keepEnds ? s[start..(i + 1)] : s[start..end]);
            start = i + 1;
        }
        if (start < s.Length)
            lines.Add(s[start..]);
        return lines;
    }

    public static List<object?> Split(string s, string? separator, int maxSplit, bool fromRight)
    {
        var parts = new List<object?>();
        if (separator is null)
        {
            // Runs of whitespace separate; leading and trailing whitespace give no empty parts.
            var words = new List<(int Start, int End)>();
            int i = 0;
            while (i < s.Length)
            {
                while (i < s.Length && PyString.IsSpace(s[i]))
                    i++;
                int start = i;
                while (i < s.Length && !PyString.IsSpace(s[i]))
                    i++;
                if (i > start)
                    words.Add((start, i));
            }
            if (maxSplit < 0 || words.Count <= maxSplit + 1)
                return words.Select(w => (object?)s[w.Start..w.End]).ToList();
            if (fromRight)
            {
                int keep = words.Count - maxSplit;
                parts.Add(PyString.Strip(s[..words[keep - 1].End], null, true, false));
                parts.AddRange(words.Skip(keep).Select(w => (object?)s[w.Start..w.End]));
            }
            else
            {
                parts.AddRange(words.Take(maxSplit).Select(w => (object?)s[w.Start..w.End]));
                parts.Add(PyString.Strip(s[words[maxSplit].Start..], null, false, true));
            }
            return parts;
        }
        if (separator.Length == 0)
            throw new TemplateRuntimeException("empty separator", "split");
        var pieces = s.Split(separator);
        if (maxSplit < 0 || pieces.Length <= maxSplit + 1)
            return pieces.Select(p => (object?)p).ToList();
        if (fromRight)
        {
            int keep = pieces.Length - maxSplit;
            parts.Add(string.Join(separator, pieces.Take(keep)));
            parts.AddRange(pieces.Skip(keep));
        }
        else
        {
            parts.AddRange(pieces.Take(maxSplit));
            parts.Add(string.Join(separator, pieces.Skip(maxSplit)));
        }
        return parts;
    }

    public static string Replace(string s, string old, string replacement, long count, RenderContext context)
    {
        if (count < 0)
        {
            if (old.Length == 0)
                return Replace(s, old, replacement, long.MaxValue, context);
            long occurrences = s.Length / Math.Max(1, old.Length);
            context.CheckSize(s.Length + occurrences * Math.Max(0, replacement.Length - old.Length), "replace");
            return s.Replace(old, replacement, StringComparison.Ordinal);
        }
        var text = new StringBuilder();
        int at = 0;
        long done = 0;
        if (old.Length == 0)
        {
            // Python inserts the replacement between every character (and at both ends).
            foreach (var c in PyString.Characters(s))
            {
                if (done++ < count)
                    text.Append(replacement);
                text.Append((string)c!);
                context.CheckSize(text.Length, "replace");
            }
            if (done < count)
                text.Append(replacement);
            return text.ToString();
        }
        while (done < count)
        {
            int next = s.IndexOf(old, at, StringComparison.Ordinal);
            if (next < 0)
                break;
            text.Append(s, at, next - at).Append(replacement);
            context.CheckSize(text.Length, "replace");
            at = next + old.Length;
            done++;
        }
        return text.Append(s, at, s.Length - at).ToString();
    }

    /// <summary>Python's str.title: the first cased letter after an uncased character upper, the rest lower.</summary>
    public static string Title(string s)
    {
        var text = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (char c in s)
        {
            text.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c) && (char.IsUpper(c) || char.IsLower(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.TitlecaseLetter);
        }
        return text.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static BuiltinFunction NoArgs(string name, Func<object?> body) => new(name, (_, args) =>
    {
        args.Check(name, 0);
        return body();
    });

    private static string? OptionalString(object? value, string method) => value switch
    {
        null or Undefined => null,
        string s => s,
        _ => throw new TemplateRuntimeException($"{method} arg must be None or str, not {PyTypes.Name(value)}", method),
    };

    private static string RequireString(object? value, string method) =>
        value as string ?? throw new TemplateRuntimeException($"{method}() argument must be str, not {PyTypes.Name(value)}", method);
}
