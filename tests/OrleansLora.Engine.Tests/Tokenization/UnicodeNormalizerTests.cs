using System.Globalization;
using System.Text;
using OrleansLora.Engine.Tokenization.Unicode;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// The engine's own NFC/NFD/NFKC/NFKD against the Unicode Consortium's conformance test
/// (NormalizationTest.txt of the same Unicode version, from Debian's unicode-data via
/// scripts/ensure-deps.sh), in a process running with InvariantGlobalization.
/// </summary>
public sealed class UnicodeNormalizerTests
{
    [Fact]
    public void Passes_the_unicode_conformance_test()
    {
        int lines = 0;
        var failures = new List<string>();
        string? version = null;
        foreach (string line in File.ReadLines(RepositoryFiles.NormalizationTest))
        {
            if (line.StartsWith("# NormalizationTest-", StringComparison.Ordinal))
                version = line["# NormalizationTest-".Length..line.IndexOf(".txt", StringComparison.Ordinal)];
            if (line.Length == 0 || line[0] is '#' or '@')
                continue;
            var c = line.Split(';').Take(5).Select(Decode).ToArray();
            lines++;
            // The invariants of the file's header: c2 = NFC(c1..c3), c4 = NFC(c4, c5); c3 = NFD(c1..c3), c5 = NFD(c4, c5);
            // c4 = NFKC(c1..c5); c5 = NFKD(c1..c5).
            Check(failures, line, c[1], NormalizationForm.FormC, c[0], c[1], c[2]);
            Check(failures, line, c[3], NormalizationForm.FormC, c[3], c[4]);
            Check(failures, line, c[2], NormalizationForm.FormD, c[0], c[1], c[2]);
            Check(failures, line, c[4], NormalizationForm.FormD, c[3], c[4]);
            Check(failures, line, c[3], NormalizationForm.FormKC, c);
            Check(failures, line, c[4], NormalizationForm.FormKD, c);
        }
        Assert.Equal(UnicodeNormalizer.UnicodeVersion, version);
        Assert.True(lines > 18_000, $"only {lines} test lines read");
        Assert.True(failures.Count == 0, $"{failures.Count} failures, first: {string.Join("\n", failures.Take(10))}");
    }

    [Theory]
    [InlineData("cafe\u0301", "café", NormalizationForm.FormC)]
    [InlineData("\u212b", "\u00c5", NormalizationForm.FormC)]
    [InlineData("\u00c5", "A\u030a", NormalizationForm.FormD)]
    [InlineData("\ufb01", "fi", NormalizationForm.FormKC)]
    [InlineData("\u1112\u1161\u11ab", "한", NormalizationForm.FormC)]
    [InlineData("한", "\u1112\u1161\u11ab", NormalizationForm.FormD)]
    [InlineData("👨‍👩‍👧", "👨‍👩‍👧", NormalizationForm.FormKC)]
    [InlineData("plain ASCII", "plain ASCII", NormalizationForm.FormKD)]
    public void Normalizes_examples(string input, string expected, NormalizationForm form) =>
        Assert.Equal(expected, UnicodeNormalizer.Normalize(input, form));

    [Fact]
    public void Runs_where_string_normalize_cannot()
    {
        // The reason for the engine's tables: under InvariantGlobalization .NET leaves this text as it is.
        Assert.True(AppContext.TryGetSwitch("System.Globalization.Invariant", out bool invariant) && invariant);
        Assert.Equal("café", UnicodeNormalizer.Normalize("cafe\u0301", NormalizationForm.FormC));
    }

    private static void Check(List<string> failures, string line, string expected, NormalizationForm form, params string[] inputs)
    {
        foreach (string input in inputs)
        {
            string actual = UnicodeNormalizer.Normalize(input, form);
            if (actual != expected)
                failures.Add($"{form}({Hex(input)}) = {Hex(actual)}, expected {Hex(expected)} [{line}]");
        }
    }

    private static string Decode(string field)
    {
        var text = new StringBuilder();
        foreach (string hex in field.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            text.Append(char.ConvertFromUtf32(int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
        return text.ToString();
    }

    private static string Hex(string s) => string.Join(' ', s.EnumerateRunes().Select(r => r.Value.ToString("X4", CultureInfo.InvariantCulture)));
}
