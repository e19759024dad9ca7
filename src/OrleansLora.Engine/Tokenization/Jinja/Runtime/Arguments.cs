namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>The evaluated arguments of a call, filter or test: positional values then keyword values.</summary>
internal sealed class Arguments
{
    public static Arguments None { get; } = new([], null);

    public Arguments(IReadOnlyList<object?> positional, IReadOnlyList<KeyValuePair<string, object?>>? keywords)
    {
        Positional = positional;
        Keywords = keywords ?? [];
    }

    public IReadOnlyList<object?> Positional { get; }

    public IReadOnlyList<KeyValuePair<string, object?>> Keywords { get; }

    public int Count => Positional.Count;

    /// <summary>
    /// The parameter at <paramref name="index"/> of a Python signature, given positionally or by
    /// <paramref name="name"/>; <paramref name="fallback"/> when absent.
    /// </summary>
    public object? Get(int index, string name, object? fallback = null)
    {
        if (index < Positional.Count)
            return Positional[index];
        foreach (var (key, value) in Keywords)
        {
            if (key == name)
                return value;
        }
        return fallback;
    }

    public bool Has(int index, string name)
    {
        if (index < Positional.Count)
            return true;
        foreach (var (key, _) in Keywords)
        {
            if (key == name)
                return true;
        }
        return false;
    }

    /// <summary>Refuses more positional arguments than <paramref name="max"/> or keywords outside <paramref name="names"/>.</summary>
    public void Check(string function, int max, params string[] names)
    {
        if (Positional.Count > max)
            throw new TemplateRuntimeException($"{function}() takes at most {max} positional argument{(max == 1 ? "" : "s")} ({Positional.Count} given)", function);
        foreach (var (key, _) in Keywords)
        {
            if (Array.IndexOf(names, key) < 0)
                throw new TemplateRuntimeException($"{function}() got an unexpected keyword argument '{key}'", function);
        }
    }
}
