using System.Globalization;

namespace OrleansLora.Engine.Constraints;

/// <summary>
/// Decimal integers within bounds as a regex (digit-by-digit split of the range, as schema-to-regex
/// compilers do), in JSON form: no leading zeros, "-" for negatives. Bounds are clamped to
/// ±<see cref="Limit"/> so the number fits a double exactly.
/// </summary>
internal static class IntegerRanges
{
    public const long Limit = 999_999_999_999_999;

    public static RegexNode Between(long? min, long? max)
    {
        long lo = Math.Max(min ?? -Limit, -Limit);
        long hi = Math.Min(max ?? Limit, Limit);
        if (lo > hi)
            return RegexNode.Never;
        var parts = new List<RegexNode>();
        if (lo < 0)
        {
            // -1 .. lo, written as "-" followed by 1 .. -lo.
            long negHi = Math.Min(hi, -1);
            parts.Add(RegexNode.Seq(RegexNode.Literal("-"), NonNegative(-negHi, -lo)));
        }
        if (hi >= 0)
            parts.Add(NonNegative(Math.Max(lo, 0), hi));
        return RegexNode.Alt(parts);
    }

    private static RegexNode NonNegative(long a, long b)
    {
        var parts = new List<RegexNode>();
        int la = Digits(a), lb = Digits(b);
        for (int length = la; length <= lb; length++)
        {
            long lowest = length == 1 ? 0 : Pow10(length - 1);
            long highest = Pow10(length) - 1;
            long lo = Math.Max(a, lowest), hi = Math.Min(b, highest);
            if (lo <= hi)
                parts.Add(SameLength(lo.ToString(CultureInfo.InvariantCulture), hi.ToString(CultureInfo.InvariantCulture)));
        }
        return RegexNode.Alt(parts);
    }

    private static RegexNode SameLength(string lo, string hi)
    {
        if (lo.Length == 0)
            return RegexNode.Empty;
        if (lo[0] == hi[0])
            return RegexNode.Seq(RegexNode.Literal(lo[..1]), SameLength(lo[1..], hi[1..]));
        string restLo = lo[1..], restHi = hi[1..];
        bool lowFull = restLo.All(c => c == '0');
        bool highFull = restHi.All(c => c == '9');
        var parts = new List<RegexNode>();
        char firstFull = lowFull ? lo[0] : (char)(lo[0] + 1);
        char lastFull = highFull ? hi[0] : (char)(hi[0] - 1);
        if (!lowFull)
            parts.Add(RegexNode.Seq(RegexNode.Literal(lo[..1]), SameLength(restLo, new string('9', restLo.Length))));
        if (firstFull <= lastFull)
            parts.Add(RegexNode.Seq(RegexNode.Bytes((byte)firstFull, (byte)lastFull), RegexNode.Repeat(JsonGrammar.Digit(), restLo.Length, restLo.Length)));
        if (!highFull)
            parts.Add(RegexNode.Seq(RegexNode.Literal(hi[..1]), SameLength(new string('0', restHi.Length), restHi)));
        return RegexNode.Alt(parts);
    }

    private static int Digits(long value) => value.ToString(CultureInfo.InvariantCulture).Length;

    private static long Pow10(int exponent)
    {
        long result = 1;
        for (int i = 0; i < exponent; i++)
            result *= 10;
        return result;
    }
}
