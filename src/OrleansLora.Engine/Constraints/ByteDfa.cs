namespace OrleansLora.Engine.Constraints;

/// <summary>
/// A deterministic automaton over bytes with only live states: every state can still reach an
/// accepting one, and <see cref="Distance"/> says in how many bytes at least. Built once per grammar
/// (subset construction over byte classes), immutable and shared by every sequence that uses it.
/// </summary>
internal sealed class ByteDfa
{
    public const int MaxStates = 60_000;

    private readonly int[] _next;
    private readonly bool[] _accepting;
    private readonly int[] _distance;

    private ByteDfa(int[] next, bool[] accepting, int[] distance)
    {
        _next = next;
        _accepting = accepting;
        _distance = distance;
    }

    public int StateCount => _accepting.Length;

    public static int Start => 0;

    /// <summary>Transition table, <c>state * 256 + byte</c> → next state or -1 (dead).</summary>
    public ReadOnlySpan<int> Transitions => _next;

    public int Next(int state, byte value) => _next[state * 256 + value];

    public bool IsAccepting(int state) => _accepting[state];

    /// <summary>The fewest bytes from <paramref name="state"/> to an accepting state.</summary>
    public int Distance(int state) => _distance[state];

    /// <summary>Walks <paramref name="bytes"/> from <paramref name="state"/>; -1 if any byte is refused.</summary>
    public int Walk(int state, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            state = _next[state * 256 + b];
            if (state < 0)
                return -1;
        }
        return state;
    }

    /// <summary>Whether the whole of <paramref name="bytes"/> is in the language.</summary>
    public bool Matches(ReadOnlySpan<byte> bytes) => Walk(Start, bytes) is int s and >= 0 && _accepting[s];

    /// <exception cref="GrammarException">The language is empty, or needs too many states.</exception>
    public static ByteDfa Compile(RegexNode root)
    {
        if (root.IsNever)
            throw new GrammarException("the grammar matches nothing (a pattern, enum or recursion leaves no valid output).");
        var nfa = Nfa.Build(root);
        var (classOf, representatives) = ByteClasses(nfa);

        var ids = new Dictionary<StateSet, int>();
        var sets = new List<int[]>();
        var rows = new List<int[]>();
        var accepting = new List<bool>();
        var marks = new int[nfa.Count];
        int epoch = 0;
        var stack = new Stack<int>();

        // Many classes of a state lead to the same NFA targets (every byte of a string's body, say):
        // the closure of a seed set is computed once.
        var bySeeds = new Dictionary<StateSet, int>();

        int Intern(List<int> seeds)
        {
            seeds.Sort();
            int distinct = 0;
            for (int i = 0; i < seeds.Count; i++)
            {
                if (i == 0 || seeds[i] != seeds[i - 1])
                    seeds[distinct++] = seeds[i];
            }
            seeds.RemoveRange(distinct, seeds.Count - distinct);
            var seedKey = new StateSet(seeds.ToArray());
            if (bySeeds.TryGetValue(seedKey, out int known))
                return known;
            int interned = Closure(seeds);
            bySeeds[seedKey] = interned;
            return interned;
        }

        int Closure(List<int> seeds)
        {
            epoch++;
            var members = new List<int>();
            foreach (int s in seeds)
            {
                if (marks[s] != epoch)
                {
                    marks[s] = epoch;
                    stack.Push(s);
                }
            }
            while (stack.Count > 0)
            {
                int s = stack.Pop();
                members.Add(s);
                foreach (int t in nfa.Epsilon(s))
                {
                    if (marks[t] != epoch)
                    {
                        marks[t] = epoch;
                        stack.Push(t);
                    }
                }
            }
            // Only states with byte edges or the accept state tell sets apart.
            members.RemoveAll(s => nfa.Edges(s).Count == 0 && s != nfa.Accept);
            members.Sort();
            var key = new StateSet(members.ToArray());
            if (ids.TryGetValue(key, out int id))
                return id;
            if (sets.Count >= MaxStates)
                throw new GrammarException($"the grammar is too large (more than {MaxStates} automaton states); simplify the schema or pattern.");
            id = sets.Count;
            ids[key] = id;
            sets.Add(key.States);
            rows.Add(new int[representatives.Length]);
            accepting.Add(members.BinarySearch(nfa.Accept) >= 0);
            return id;
        }

        if (Intern([nfa.Start]) != Start)
            throw new InvalidOperationException("start state must be 0");
        // Targets per byte class, filled from each member's edges once (not one scan per class).
        var buckets = new List<int>[representatives.Length];
        for (int c = 0; c < buckets.Length; c++)
            buckets[c] = [];
        for (int d = 0; d < sets.Count; d++)
        {
            foreach (var bucket in buckets)
                bucket.Clear();
            foreach (int s in sets[d])
            {
                foreach (var (lo, hi, target) in nfa.Edges(s))
                {
                    for (int c = classOf[lo], last = classOf[hi]; c <= last; c++)
                        buckets[c].Add(target);
                }
            }
            for (int c = 0; c < buckets.Length; c++)
                rows[d][c] = buckets[c].Count == 0 ? -1 : Intern(buckets[c]);
        }
        return Prune(rows, accepting, classOf);
    }

    /// <summary>Drops states that cannot reach acceptance and computes byte distances (reverse BFS).</summary>
    private static ByteDfa Prune(List<int[]> rows, List<bool> accepting, byte[] classOf)
    {
        int n = rows.Count;
        var reverse = new List<int>[n];
        for (int i = 0; i < n; i++)
            reverse[i] = [];
        for (int s = 0; s < n; s++)
        {
            foreach (int t in rows[s].Distinct())
            {
                if (t >= 0)
                    reverse[t].Add(s);
            }
        }
        var distance = new int[n];
        Array.Fill(distance, int.MaxValue);
        var queue = new Queue<int>();
        for (int s = 0; s < n; s++)
        {
            if (accepting[s])
            {
                distance[s] = 0;
                queue.Enqueue(s);
            }
        }
        while (queue.Count > 0)
        {
            int t = queue.Dequeue();
            foreach (int s in reverse[t])
            {
                if (distance[s] == int.MaxValue)
                {
                    distance[s] = distance[t] + 1;
                    queue.Enqueue(s);
                }
            }
        }
        if (distance[Start] == int.MaxValue)
            throw new GrammarException("the grammar matches nothing (a pattern, enum or recursion leaves no valid output).");

        // Renumber live states, keeping the start at 0.
        var map = new int[n];
        int live = 0;
        for (int s = 0; s < n; s++)
            map[s] = distance[s] == int.MaxValue ? -1 : live++;
        var next = new int[live * 256];
        var acc = new bool[live];
        var dist = new int[live];
        for (int s = 0; s < n; s++)
        {
            int m = map[s];
            if (m < 0)
                continue;
            acc[m] = accepting[s];
            dist[m] = distance[s];
            for (int b = 0; b < 256; b++)
            {
                int t = rows[s][classOf[b]];
                next[m * 256 + b] = t < 0 ? -1 : map[t];
            }
        }
        return new ByteDfa(next, acc, dist);
    }

    /// <summary>The coarsest partition of 0..255 that no NFA edge splits, and one byte per class.</summary>
    private static (byte[] ClassOf, byte[] Representatives) ByteClasses(Nfa nfa)
    {
        var boundary = new bool[257];
        boundary[0] = true;
        for (int s = 0; s < nfa.Count; s++)
        {
            foreach (var (lo, hi, _) in nfa.Edges(s))
            {
                boundary[lo] = true;
                boundary[hi + 1] = true;
            }
        }
        var classOf = new byte[256];
        var representatives = new List<byte>();
        for (int b = 0; b < 256; b++)
        {
            if (boundary[b])
                representatives.Add((byte)b);
            classOf[b] = (byte)(representatives.Count - 1);
        }
        return (classOf, representatives.ToArray());
    }

    private readonly struct StateSet(int[] states) : IEquatable<StateSet>
    {
        public int[] States { get; } = states;

        public bool Equals(StateSet other) => States.AsSpan().SequenceEqual(other.States);

        public override bool Equals(object? obj) => obj is StateSet other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(States.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
