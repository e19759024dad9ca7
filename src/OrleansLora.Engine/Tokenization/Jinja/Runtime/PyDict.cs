namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>A Python dict: insertion-ordered, keys compared as Python compares them (1 == 1.0 == True).</summary>
internal sealed class PyDict : OrderedDictionary<object, object?>
{
    public PyDict()
        : base(PyKeyComparer.Instance)
    {
    }

    public PyDict(int capacity)
        : base(capacity, PyKeyComparer.Instance)
    {
    }

    /// <summary>The value under <paramref name="key"/>; None (null) is not a valid key here.</summary>
    public bool TryGet(object? key, out object? value)
    {
        if (key is null || key is Undefined)
        {
            value = null;
            return false;
        }
        return TryGetValue(key, out value);
    }

    private sealed class PyKeyComparer : IEqualityComparer<object>
    {
        public static PyKeyComparer Instance { get; } = new();

        public new bool Equals(object? x, object? y) => PyOps.Equal(x, y);

        public int GetHashCode(object obj) => obj switch
        {
            string s => s.GetHashCode(StringComparison.Ordinal),
            bool b => b ? 1 : 0,
            long l => l.GetHashCode(),
            double d when d == Math.Floor(d) && Math.Abs(d) < 9.2e18 => ((long)d).GetHashCode(),
            double d => d.GetHashCode(),
            _ => 0,
        };
    }
}
