using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>
/// Attribute, item and slice access as jinja2's ImmutableSandboxedEnvironment allows them: the
/// documented methods of str, dict, list and tuple (never one that mutates, never a name starting
/// with "_"), dict items, list and string indices, namespace and loop attributes. Anything else
/// is undefined, as in jinja2; using an undefined value raises.
/// </summary>
internal static class Access
{
    public static object? GetAttribute(object? value, string name)
    {
        switch (value)
        {
            case Undefined u:
                throw u.Error();
            case PyDict dict:
                if (Methods.Find(dict, name) is { } method)
                    return method;
                if (Methods.IsMutating(dict, name))
                    return Undefined.Forbidden(dict, name);
                if (dict.TryGet(name, out var item))
                    return item;
                return Methods.IsUnimplemented(dict, name) ? Undefined.Unsupported(dict, name) : Undefined.Missing(dict, name);
            case JinjaNamespace ns:
                return ns.Attributes.TryGetValue(name, out var attribute) ? attribute : Undefined.Missing(ns, name);
            case LoopInfo loop:
                return loop.Attribute(name);
            default:
                if (Methods.Find(value, name) is { } bound)
                    return bound;
                if (name.StartsWith('_') || Methods.IsMutating(value, name))
                    return Undefined.Forbidden(value, name);
                return Methods.IsUnimplemented(value, name) ? Undefined.Unsupported(value, name) : Undefined.Missing(value, name);
        }
    }

    public static object? GetItem(object? value, object? key)
    {
        switch (value)
        {
            case Undefined u:
                throw u.Error();
            case PyDict dict:
                if (dict.TryGet(key, out var item))
                    return item;
                break;
            case List<object?> or object?[] when key is long or bool:
                var items = (IReadOnlyList<object?>)value;
                long index = PyOps.ToLong(key);
                if (index < 0)
                    index += items.Count;
                return index >= 0 && index < items.Count ? items[(int)index] : Undefined.Missing(value, key);
            case string s when key is long or bool:
                var characters = PyString.HasSurrogates(s) ? PyString.Characters(s) : null;
                long count = characters?.Count ?? s.Length;
                long at = PyOps.ToLong(key);
                if (at < 0)
                    at += count;
                if (at < 0 || at >= count)
                    return Undefined.Missing(value, key);
                return characters is null ? s[(int)at].ToString() : characters[(int)at];
        }
        return key is string name ? GetAttribute(value, name) : Undefined.Missing(value, key);
    }

    public static object? Slice(object? value, object? start, object? stop, object? step)
    {
        if (value is Undefined u)
            throw u.Error();
        long by = step is null or Undefined ? 1 : PyOps.ToLong(step);
        if (by == 0)
            throw new TemplateRuntimeException("slice step cannot be zero", "slice");
        switch (value)
        {
            case List<object?> list:
                return new List<object?>(Pick(list, start, stop, by));
            case object?[] tuple:
                return Pick(tuple, start, stop, by).ToArray();
            case string s:
                if (!PyString.HasSurrogates(s) && by == 1)
                {
                    var (from, to) = Bounds(s.Length, start, stop, 1);
                    return to > from ? s[(int)from..(int)to] : "";
                }
                return string.Concat(Pick(PyString.Characters(s), start, stop, by).Cast<string>());
            default:
                return Undefined.Missing(value, "slice");
        }
    }

    private static IEnumerable<object?> Pick(IReadOnlyList<object?> items, object? start, object? stop, long step)
    {
        var (from, to) = Bounds(items.Count, start, stop, step);
        if (step > 0)
        {
            for (long i = from; i < to; i += step)
                yield return items[(int)i];
        }
        else
        {
            for (long i = from; i > to; i += step)
                yield return items[(int)i];
        }
    }

    /// <summary>Python's slice.indices: clamped start and stop for a sequence of <paramref name="length"/>.</summary>
    private static (long Start, long Stop) Bounds(long length, object? start, object? stop, long step)
    {
        long lower = step > 0 ? 0 : -1, upper = step > 0 ? length : length - 1;
        long from = Clamp(start, step > 0 ? lower : upper);
        long to = Clamp(stop, step > 0 ? upper : lower);
        return (from, to);

        long Clamp(object? bound, long fallback)
        {
            if (bound is null or Undefined)
                return fallback;
            long b = PyOps.ToLong(bound);
            if (b < 0)
                b = Math.Max(b + length, lower);
            else
                b = Math.Min(b, upper);
            return b;
        }
    }
}
