namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>The <c>loop</c> variable inside a for loop: index, index0, first, last, length, revindex, previtem, nextitem, cycle(), depth.</summary>
internal sealed class LoopInfo(IReadOnlyList<object?> items, int depth0)
{
    public int Index0 { get; set; }

    public object? Attribute(string name) => name switch
    {
        "index0" => (long)Index0,
        "index" => (long)Index0 + 1,
        "revindex0" => (long)(items.Count - Index0 - 1),
        "revindex" => (long)(items.Count - Index0),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth0" => (long)depth0,
        "depth" => (long)depth0 + 1,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Named("previtem"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : Undefined.Named("nextitem"),
        "cycle" => new BuiltinFunction("loop.cycle", (_, args) => args.Count == 0
            ? throw new TemplateRuntimeException("no items for cycling given", "loop.cycle")
            : args.Positional[Index0 % args.Count]),
        _ => Undefined.Missing(this, name),
    };
}
