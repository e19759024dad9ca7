using System.Text;

namespace OrleansLora.Engine.Tokenization.Unicode;

/// <summary>
/// Unicode normalization (NFC, NFD, NFKC, NFKD, UAX #15) from tables generated out of the Unicode
/// Character Database (normalization.bin, see generate_normalization_data.py), so that it does not
/// depend on ICU or on the process's globalization mode: with InvariantGlobalization=true
/// <see cref="string.Normalize()"/> leaves non-ASCII text as it is, and a tokenizer whose
/// tokenizer.json normalizer is NFC (Qwen) would then produce the wrong ids. Thread-safe.
/// </summary>
public static class UnicodeNormalizer
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<NormalizationTables> Tables = new(NormalizationTables.Load);

    /// <summary>The Unicode version the tables were generated from.</summary>
    public static string UnicodeVersion => Tables.Value.Version;

    public static string Normalize(string text, NormalizationForm form)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Nothing below U+00A0 decomposes, composes or has a combining class.
        if (!text.AsSpan().ContainsAnyExceptInRange('\0', '\u009F'))
            return text;
        bool compatibility = form is NormalizationForm.FormKC or NormalizationForm.FormKD;
        bool compose = form is NormalizationForm.FormC or NormalizationForm.FormKC;
        var tables = Tables.Value;
        var codePoints = new List<int>(text.Length + 8);
        Decompose(text, compatibility, tables, codePoints);
        if (compose)
            Compose(codePoints, tables);
        var result = new StringBuilder(codePoints.Count + 8);
        foreach (int cp in codePoints)
        {
            if (cp < 0x10000)
                result.Append((char)cp);
            else
                result.Append(char.ConvertFromUtf32(cp));
        }
        string normalized = result.ToString();
        return normalized == text ? text : normalized;
    }

    private static void Decompose(string text, bool compatibility, NormalizationTables tables, List<int> output)
    {
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                cp = char.ConvertToUtf32(text[i], text[++i]);
            if (cp is >= SBase and < SBase + SCount)
            {
                int index = cp - SBase;
                output.Add(LBase + index / NCount);
                output.Add(VBase + index % NCount / TCount);
                if (index % TCount != 0)
                    output.Add(TBase + index % TCount);
                continue;
            }
            if (tables.Decomposition(cp, compatibility) is { } mapping)
            {
                foreach (int m in mapping)
                    AddOrdered(output, m, tables);
            }
            else
            {
                AddOrdered(output, cp, tables);
            }
        }
    }

    /// <summary>Appends keeping the canonical order: a combining mark moves before marks of a higher class.</summary>
    private static void AddOrdered(List<int> output, int cp, NormalizationTables tables)
    {
        int ccc = tables.CombiningClass(cp);
        int at = output.Count;
        if (ccc != 0)
        {
            while (at > 0 && tables.CombiningClass(output[at - 1]) > ccc)
                at--;
        }
        output.Insert(at, cp);
    }

    private static void Compose(List<int> codePoints, NormalizationTables tables)
    {
        int starter = -1, lastClass = 0, length = 0;
        for (int i = 0; i < codePoints.Count; i++)
        {
            int cp = codePoints[i];
            int ccc = tables.CombiningClass(cp);
            if (starter >= 0 && (length - 1 == starter || (lastClass != 0 && lastClass < ccc))
                && TryCompose(codePoints[starter], cp, tables, out int composite))
            {
                codePoints[starter] = composite;
                continue;
            }
            if (ccc == 0)
                starter = length;
            lastClass = ccc;
            codePoints[length++] = cp;
        }
        codePoints.RemoveRange(length, codePoints.Count - length);
    }

    private static bool TryCompose(int first, int second, NormalizationTables tables, out int composite)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
        {
            composite = SBase + ((first - LBase) * VCount + (second - VBase)) * TCount;
            return true;
        }
        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0 && second is > TBase and < TBase + TCount)
        {
            composite = first + (second - TBase);
            return true;
        }
        return tables.TryCompose(first, second, out composite);
    }
}
