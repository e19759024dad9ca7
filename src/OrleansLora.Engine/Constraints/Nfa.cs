namespace OrleansLora.Engine.Constraints;

/// <summary>
/// Thompson NFA over bytes, built from a <see cref="RegexNode"/>: each state has epsilon edges and
/// byte-range edges. Only an intermediate of <see cref="ByteDfa.Compile"/>.
/// </summary>
internal sealed class Nfa
{
    public const int MaxStates = 400_000;

    private readonly List<List<int>> _epsilon = [];
    private readonly List<List<(byte Lo, byte Hi, int Target)>> _edges = [];

    public int Start { get; private set; }

    public int Accept { get; private set; }

    public int Count => _epsilon.Count;

    public IReadOnlyList<int> Epsilon(int state) => _epsilon[state];

    public IReadOnlyList<(byte Lo, byte Hi, int Target)> Edges(int state) => _edges[state];

    public static Nfa Build(RegexNode root)
    {
        var nfa = new Nfa();
        var (start, end) = nfa.Fragment(root);
        nfa.Start = start;
        nfa.Accept = end;
        return nfa;
    }

    private int NewState()
    {
        if (_epsilon.Count >= MaxStates)
            throw new GrammarException($"the grammar is too large (more than {MaxStates} automaton states); simplify the schema or pattern.");
        _epsilon.Add([]);
        _edges.Add([]);
        return _epsilon.Count - 1;
    }

    private void Link(int from, int to) => _epsilon[from].Add(to);

    private (int Start, int End) Fragment(RegexNode node)
    {
        switch (node)
        {
            case ByteRangeNode range:
            {
                int s = NewState(), e = NewState();
                _edges[s].Add((range.Lo, range.Hi, e));
                return (s, e);
            }
            case SeqNode seq:
            {
                int s = NewState();
                int last = s;
                foreach (var item in seq.Items)
                {
                    var (fs, fe) = Fragment(item);
                    Link(last, fs);
                    last = fe;
                }
                return (s, last);
            }
            case AltNode alt:
            {
                int s = NewState(), e = NewState();
                foreach (var item in alt.Items)
                {
                    var (fs, fe) = Fragment(item);
                    Link(s, fs);
                    Link(fe, e);
                }
                return (s, e);
            }
            case RepeatNode repeat:
                return Repeat(repeat.Item, null, repeat.Min, repeat.Max);
            case ListNode list:
                return Repeat(list.Item, list.Separator, list.Min, list.Max);
            case OptionalSequenceNode sequence:
                return OptionalSequence(sequence);
            default:
                throw new InvalidOperationException($"unknown regex node {node.GetType().Name}");
        }
    }

    /// <summary>
    /// item{min,max}, with <paramref name="separator"/> between items when given. Optional copies nest
    /// (<c>x(x(x)?)?</c>) so each copy has one exit; unbounded tails loop over a single copy.
    /// </summary>
    private (int Start, int End) Repeat(RegexNode item, RegexNode? separator, int min, int max)
    {
        int s = NewState(), e = NewState();
        int last = s;
        // Unbounded: min - 1 plain copies, then one copy that loops back (through the separator).
        int plain = max < 0 ? Math.Max(min, 1) - 1 : min;
        int copies = 0;
        for (; copies < plain; copies++)
        {
            if (copies > 0 && separator is not null)
                last = Chain(last, separator);
            last = Chain(last, item);
        }
        if (max < 0)
        {
            if (copies > 0 && separator is not null)
                last = Chain(last, separator);
            var (fs, fe) = Fragment(item);
            Link(last, fs);
            Link(fe, e);
            Link(separator is null ? fe : Chain(fe, separator), fs);
            if (min == 0)
                Link(s, e);
            return (s, e);
        }
        for (; copies < max; copies++)
        {
            Link(last, e);
            if (copies > 0 && separator is not null)
                last = Chain(last, separator);
            last = Chain(last, item);
        }
        Link(last, e);
        return (s, e);
    }

    private int Chain(int from, RegexNode node)
    {
        var (fs, fe) = Fragment(node);
        Link(from, fs);
        return fe;
    }

    /// <summary>
    /// States S(i, first) mean "before item i, nothing emitted yet (first) or something emitted".
    /// Item i is compiled once; entered directly from S(i, true) and after a separator from S(i, false).
    /// </summary>
    private (int Start, int End) OptionalSequence(OptionalSequenceNode node)
    {
        int n = node.Items.Count;
        var first = new int[n + 1];
        var rest = new int[n + 1];
        for (int i = 0; i <= n; i++)
        {
            first[i] = NewState();
            rest[i] = NewState();
        }
        int e = NewState();
        Link(first[n], e);
        Link(rest[n], e);
        for (int i = 0; i < n; i++)
        {
            var (item, required) = node.Items[i];
            if (!required)
            {
                Link(first[i], first[i + 1]);
                Link(rest[i], rest[i + 1]);
            }
            var (fs, fe) = Fragment(item);
            Link(first[i], fs);
            int afterSeparator = Chain(rest[i], node.Separator);
            Link(afterSeparator, fs);
            Link(fe, rest[i + 1]);
        }
        return (first[0], e);
    }
}
