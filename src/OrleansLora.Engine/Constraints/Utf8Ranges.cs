namespace OrleansLora.Engine.Constraints;

/// <summary>
/// Turns code point ranges into alternatives of UTF-8 byte-range sequences (the split regex engines
/// use: cut at encoding-length boundaries, then at continuation-byte boundaries, until every byte
/// position is an independent range). Exact: no overlong forms, no surrogates.
/// </summary>
internal static class Utf8Ranges
{
    public static RegexNode ToRegex(CharSet set)
    {
        var sequences = new List<RegexNode>();
        foreach (var (lo, hi) in set.Ranges)
            Split(lo, hi, sequences);
        return RegexNode.Alt(sequences);
    }

    private static void Split(int lo, int hi, List<RegexNode> output)
    {
        if (lo > hi)
            return;
        foreach (int max in (ReadOnlySpan<int>)[0x7F, 0x7FF, 0xFFFF])
        {
            if (lo <= max && max < hi)
            {
                Split(lo, max, output);
                Split(max + 1, hi, output);
                return;
            }
        }
        if (hi < 0x80)
        {
            output.Add(RegexNode.Bytes((byte)lo, (byte)hi));
            return;
        }
        for (int i = 1; i < 4; i++)
        {
            int m = (1 << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m))
            {
                if ((lo & m) != 0)
                {
                    Split(lo, lo | m, output);
                    Split((lo | m) + 1, hi, output);
                    return;
                }
                if ((hi & m) != m)
                {
                    Split(lo, (hi & ~m) - 1, output);
                    Split(hi & ~m, hi, output);
                    return;
                }
            }
        }
        Span<byte> a = stackalloc byte[4];
        Span<byte> b = stackalloc byte[4];
        int n = Encode(lo, a);
        Encode(hi, b);
        var items = new List<RegexNode>(n);
        for (int i = 0; i < n; i++)
            items.Add(RegexNode.Bytes(a[i], b[i]));
        output.Add(RegexNode.Seq(items));
    }

    private static int Encode(int c, Span<byte> output) =>
        new System.Text.Rune(c).EncodeToUtf8(output);
}
