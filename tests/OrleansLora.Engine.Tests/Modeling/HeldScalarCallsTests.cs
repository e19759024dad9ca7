using OrleansLora.Engine.Tests.Tokenization;

namespace OrleansLora.Engine.Tests.Modeling;

/// <summary>
/// The engine's TorchSharp calls must not make temporary Scalars (HeldScalars says why: a collection during the
/// native call frees what libtorch reads, and a step fails at random under load). The two call shapes that make
/// them silently are a one-argument <c>add_</c> (its alpha of 1) and <c>arange</c> without an explicit step. A race
/// that needs a collection inside a microsecond-long call cannot be reproduced on demand, so the rule is checked on
/// the source.
/// </summary>
public sealed class HeldScalarCallsTests
{
    [Fact]
    public void NoCallInTheEngineConvertsANumberToATemporaryScalar()
    {
        var engine = Path.Combine(RepositoryFiles.Root, "src", "OrleansLora.Engine");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(engine, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                continue;
            string text = File.ReadAllText(file);
            foreach (var (call, minArguments) in new[] { (".add_(", 2), ("arange(", 3) })
            {
                for (int at = text.IndexOf(call, StringComparison.Ordinal); at >= 0; at = text.IndexOf(call, at + 1, StringComparison.Ordinal))
                {
                    if (IsComment(text, at))
                        continue;
                    int arguments = TopLevelArguments(text, at + call.Length);
                    if (arguments < minArguments)
                        offenders.Add($"{Path.GetRelativePath(RepositoryFiles.Root, file)}:{Line(text, at)} {call}...) with {arguments} argument(s)");
                }
            }
        }
        Assert.True(offenders.Count == 0, "calls that make a temporary Scalar (pass a HeldScalars value or a held Scalar): " + string.Join("; ", offenders));
    }

    [Theory]
    [InlineData("x.add_(y)", ".add_(", 1)]
    [InlineData("x.add_(f(a, b), HeldScalars.One)", ".add_(", 2)]
    [InlineData("arange(first, end, HeldScalars.One, dtype: ScalarType.Int64)", "arange(", 4)]
    [InlineData("arange(len, dtype: t)", "arange(", 2)]
    public void ArgumentsAreCountedAtTheTopLevelOnly(string code, string call, int expected) =>
        Assert.Equal(expected, TopLevelArguments(code, code.IndexOf(call, StringComparison.Ordinal) + call.Length));

    /// <summary>Arguments of the call whose '(' ends just before <paramref name="start"/>: commas outside nested brackets, plus one.</summary>
    private static int TopLevelArguments(string text, int start)
    {
        int depth = 0, commas = 0;
        bool any = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (c is '(' or '[' or '{')
                depth++;
            else if (c is ')' or ']' or '}')
            {
                if (depth == 0)
                    return any ? commas + 1 : 0;
                depth--;
            }
            else if (c == ',' && depth == 0)
                commas++;
            if (!char.IsWhiteSpace(c))
                any = true;
        }
        return commas + 1;
    }

    private static bool IsComment(string text, int at)
    {
        int lineStart = text.LastIndexOf('\n', at) + 1;
        return text.AsSpan(lineStart, at - lineStart).TrimStart().StartsWith("//", StringComparison.Ordinal);
    }

    private static int Line(string text, int at) => text.AsSpan(0, at).Count('\n') + 1;
}
