namespace OrleansLora.Engine.Constraints;

/// <summary>
/// A set of Unicode scalar values as sorted, disjoint, non-adjacent ranges (surrogates never included).
/// Immutable.
/// </summary>
internal sealed class CharSet
{
    public const int MaxCodePoint = 0x10FFFF;

    private CharSet(List<(int Lo, int Hi)> ranges) => Ranges = ranges;

    public IReadOnlyList<(int Lo, int Hi)> Ranges { get; }

    public bool IsEmpty => Ranges.Count == 0;

    public static CharSet Empty { get; } = new([]);

    public static CharSet Any { get; } = Of((0, MaxCodePoint));

    public static CharSet Single(int c) => Of((c, c));

    public static CharSet Of(params IEnumerable<(int Lo, int Hi)> ranges)
    {
        var sorted = ranges.Where(r => r.Lo <= r.Hi).OrderBy(r => r.Lo).ToList();
        var merged = new List<(int Lo, int Hi)>();
        foreach (var (lo, hi) in sorted)
        {
            if (merged.Count > 0 && lo <= merged[^1].Hi + 1)
                merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, hi));
            else
                merged.Add((lo, hi));
        }
        return new CharSet(RemoveSurrogates(merged));
    }

    public CharSet Union(CharSet other) => Of(Ranges.Concat(other.Ranges));

    public CharSet Complement()
    {
        var result = new List<(int, int)>();
        int next = 0;
        foreach (var (lo, hi) in Ranges)
        {
            if (lo > next)
                result.Add((next, lo - 1));
            next = hi + 1;
        }
        if (next <= MaxCodePoint)
            result.Add((next, MaxCodePoint));
        return Of(result);
    }

    public CharSet Except(CharSet other) => Complement().Union(other).Complement();

    public CharSet Intersect(CharSet other) => Complement().Union(other.Complement()).Complement();

    public bool Contains(int c) => Ranges.Any(r => r.Lo <= c && c <= r.Hi);

    /// <summary>The UTF-8 encodings of the set's characters as a byte-level regex.</summary>
    public RegexNode ToUtf8() => Utf8Ranges.ToRegex(this);

    private static List<(int Lo, int Hi)> RemoveSurrogates(List<(int Lo, int Hi)> ranges)
    {
        var result = new List<(int, int)>(ranges.Count);
        foreach (var (lo, hi) in ranges)
        {
            if (hi < 0xD800 || lo > 0xDFFF)
            {
                result.Add((lo, hi));
                continue;
            }
            if (lo < 0xD800)
                result.Add((lo, 0xD7FF));
            if (hi > 0xDFFF)
                result.Add((0xE000, hi));
        }
        return result;
    }
}
