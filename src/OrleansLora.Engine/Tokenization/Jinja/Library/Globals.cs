using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>
/// The functions every template sees: jinja2's range, namespace and dict, and the two transformers
/// adds, raise_exception and strftime_now.
/// </summary>
internal static class Globals
{
    public static IReadOnlyDictionary<string, object?> All { get; } = new Dictionary<string, object?>(StringComparer.Ordinal)
    {
        ["range"] = new BuiltinFunction("range", Range),
        ["namespace"] = new BuiltinFunction("namespace", Namespace),
        ["dict"] = new BuiltinFunction("dict", Dict),
        ["raise_exception"] = new BuiltinFunction("raise_exception", (_, args) =>
            throw new TemplateRaisedException(PyString.Str(args.Get(0, "message", "")))),
        ["strftime_now"] = new BuiltinFunction("strftime_now", (context, args) =>
        {
            args.Check("strftime_now", 1, "format");
            return Strftime.Format(context.Clock.GetLocalNow(), PyString.Str(args.Get(0, "format")));
        }),
    };

    private static object? Range(RenderContext context, Arguments args)
    {
        args.Check("range", 3);
        if (args.Count == 0)
            throw new TemplateRuntimeException("range expected at least 1 argument, got 0", "range");
        long start = 0, stop, step = 1;
        if (args.Count == 1)
        {
            stop = PyOps.ToLong(args.Positional[0]);
        }
        else
        {
            start = PyOps.ToLong(args.Positional[0]);
            stop = PyOps.ToLong(args.Positional[1]);
            if (args.Count == 3)
                step = PyOps.ToLong(args.Positional[2]);
        }
        if (step == 0)
            throw new TemplateRuntimeException("range() arg 3 must not be zero", "range");
        long count = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0) : (start > stop ? (start - stop - step - 1) / -step : 0);
        if (count > context.Limits.MaxRange)
            throw new TemplateRuntimeException($"range too big: {count} items (the sandbox allows {context.Limits.MaxRange})", "range");
        var items = new List<object?>((int)count);
        for (long i = 0; i < count; i++)
            items.Add(start + i * step);
        return items;
    }

    private static object? Namespace(RenderContext context, Arguments args)
    {
        var ns = new JinjaNamespace();
        foreach (var positional in args.Positional)
        {
            if (positional is not PyDict initial)
                throw new TemplateRuntimeException("namespace() takes a dict or keyword arguments", "namespace");
            foreach (var (key, value) in initial)
                ns.Attributes[PyString.Str(key)] = value;
        }
        foreach (var (key, value) in args.Keywords)
            ns.Attributes[key] = value;
        return ns;
    }

    private static object? Dict(RenderContext context, Arguments args)
    {
        var dict = new PyDict();
        foreach (var positional in args.Positional)
        {
            if (positional is PyDict source)
            {
                foreach (var (key, value) in source)
                    dict[key] = value;
            }
            else
            {
                foreach (var pair in PyTypes.Iterate(positional))
                {
                    var kv = PyTypes.Iterate(pair);
                    if (kv.Count != 2 || kv[0] is null or Undefined)
                        throw new TemplateRuntimeException("dict() items must be key/value pairs", "dict");
                    dict[kv[0]!] = kv[1];
                }
            }
        }
        foreach (var (key, value) in args.Keywords)
            dict[key] = value;
        return dict;
    }
}
