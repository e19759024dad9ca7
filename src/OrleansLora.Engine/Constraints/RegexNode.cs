namespace OrleansLora.Engine.Constraints;

/// <summary>
/// A regular language over bytes, the intermediate form every grammar (JSON, JSON Schema, regex,
/// choice list) compiles to before it becomes a <see cref="ByteDfa"/>. Unicode text is spelled as
/// UTF-8 byte sequences (<see cref="Utf8Ranges"/>), so the automaton walks token bytes directly.
/// </summary>
internal abstract record RegexNode
{
    /// <summary>The empty string.</summary>
    public static RegexNode Empty { get; } = new SeqNode([]);

    /// <summary>The empty language: nothing matches (a pattern char the JSON string cannot hold, recursion past its limit).</summary>
    public static RegexNode Never { get; } = new AltNode([]);

    public bool IsNever => this is AltNode { Items.Count: 0 };

    public static RegexNode Bytes(byte lo, byte hi) => new ByteRangeNode(lo, hi);

    public static RegexNode Literal(string text) => Literal(System.Text.Encoding.UTF8.GetBytes(text));

    public static RegexNode Literal(ReadOnlySpan<byte> bytes)
    {
        var items = new List<RegexNode>(bytes.Length);
        foreach (byte b in bytes)
            items.Add(new ByteRangeNode(b, b));
        return items.Count == 1 ? items[0] : new SeqNode(items);
    }

    public static RegexNode Seq(params IEnumerable<RegexNode> items)
    {
        var list = new List<RegexNode>();
        foreach (var item in items)
        {
            if (item.IsNever)
                return Never;
            if (item is SeqNode seq)
                list.AddRange(seq.Items);
            else
                list.Add(item);
        }
        return list.Count == 1 ? list[0] : new SeqNode(list);
    }

    public static RegexNode Alt(params IEnumerable<RegexNode> items)
    {
        var list = new List<RegexNode>();
        foreach (var item in items)
        {
            if (item is AltNode alt)
                list.AddRange(alt.Items);
            else
                list.Add(item);
        }
        return list.Count == 1 ? list[0] : new AltNode(list);
    }

    public static RegexNode Optional(RegexNode item) => Repeat(item, 0, 1);

    /// <param name="max">-1 for unbounded.</param>
    public static RegexNode Repeat(RegexNode item, int min, int max)
    {
        if (max == 0)
            return Empty;
        if (item.IsNever)
            return min == 0 ? Empty : Never;
        return new RepeatNode(item, min, max);
    }

    /// <summary>
    /// <c>item (separator item)*</c> with <paramref name="min"/>..<paramref name="max"/> items (max -1:
    /// unbounded), built with one copy of the item when unbounded, so nested JSON does not double in size
    /// at every level.
    /// </summary>
    public static RegexNode SeparatedList(RegexNode item, RegexNode separator, int min, int max)
    {
        if (max == 0)
            return Empty;
        if (item.IsNever)
            return min == 0 ? Empty : Never;
        return new ListNode(item, separator, min, max);
    }

    /// <summary>
    /// Items in order, each present or (when not required) absent, with <paramref name="separator"/>
    /// between those present: a JSON object's properties. Each item is compiled once.
    /// </summary>
    public static RegexNode OptionalSequence(IReadOnlyList<(RegexNode Item, bool Required)> items, RegexNode separator)
    {
        var kept = items.Where(i => !(i.Item.IsNever && !i.Required)).ToList();
        if (kept.Any(i => i.Item.IsNever))
            return Never;
        return kept.All(i => i.Required) && kept.Count > 0
            ? Seq(Interleave(kept.Select(i => i.Item).ToList(), separator))
            : new OptionalSequenceNode(kept, separator);
    }

    private static IEnumerable<RegexNode> Interleave(List<RegexNode> items, RegexNode separator)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0)
                yield return separator;
            yield return items[i];
        }
    }
}

internal sealed record ByteRangeNode(byte Lo, byte Hi) : RegexNode;

internal sealed record SeqNode(IReadOnlyList<RegexNode> Items) : RegexNode;

internal sealed record AltNode(IReadOnlyList<RegexNode> Items) : RegexNode;

internal sealed record RepeatNode(RegexNode Item, int Min, int Max) : RegexNode;

internal sealed record ListNode(RegexNode Item, RegexNode Separator, int Min, int Max) : RegexNode;

internal sealed record OptionalSequenceNode(IReadOnlyList<(RegexNode Item, bool Required)> Items, RegexNode Separator) : RegexNode;
