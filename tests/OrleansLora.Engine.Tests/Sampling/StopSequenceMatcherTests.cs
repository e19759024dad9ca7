using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Tests.Sampling;

public sealed class StopSequenceMatcherTests
{
    [Fact]
    public void NoStops_EmitsEverythingImmediately()
    {
        var m = new StopSequenceMatcher([]);
        Assert.Equal(new StopMatch("Hello", null), m.Append("Hello"));
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void TextThatCannotStartAStop_IsEmittedAtOnce()
    {
        var m = new StopSequenceMatcher(["###"]);
        StopMatch r = m.Append("Hello world");
        Assert.Equal("Hello world", r.Text);
        Assert.False(r.Stopped);
    }

    [Fact]
    public void StopSpanningTwoDeltas_IsMatched_AndNeverEmitted()
    {
        var m = new StopSequenceMatcher(["</s>"]);
        StopMatch first = m.Append("The answer is 42</");
        Assert.Equal(new StopMatch("The answer is 42", null), first);

        StopMatch second = m.Append("s> trailing");
        Assert.True(second.Stopped);
        Assert.Equal("</s>", second.StopSequence);
        Assert.Equal("", second.Text);
        Assert.True(m.Stopped);
        Assert.Equal("</s>", m.MatchedStop);
        Assert.Equal("", m.Flush());
        Assert.Throws<InvalidOperationException>(() => m.Append("more"));
    }

    [Fact]
    public void PartialPrefix_IsHeldBack_ThenReleasedWhenItDiverges()
    {
        var m = new StopSequenceMatcher(["END"]);
        Assert.Equal(new StopMatch("abc ", null), m.Append("abc E"));
        Assert.Equal(new StopMatch("", null), m.Append("N"));
        Assert.Equal(new StopMatch("ENx", null), m.Append("x"));
        Assert.False(m.Stopped);
    }

    [Fact]
    public void DivergingPrefix_CanReleaseOnlyPart_WhenALaterSuffixStillMatches()
    {
        // "EEN": the first E cannot start "END" any more, but "EN" still can.
        var m = new StopSequenceMatcher(["END"]);
        Assert.Equal("", m.Append("E").Text);
        Assert.Equal("E", m.Append("EN").Text);
        StopMatch r = m.Append("D!");
        Assert.Equal(new StopMatch("", "END"), r);
    }

    [Fact]
    public void MultipleStops_TheFirstToCompleteWins()
    {
        var m = new StopSequenceMatcher(["\n\n", "User:", "Assistant:"]);
        Assert.Equal("Sure.", m.Append("Sure.\n").Text);
        StopMatch r = m.Append("Use");
        Assert.Equal(new StopMatch("\n", null), r); // "\n" cannot start "\n\n" once followed by "U"
        r = m.Append("r: hi");
        Assert.Equal(new StopMatch("", "User:"), r);

        // Within one delta the stop that completes first wins even if another stop starts earlier.
        var m2 = new StopSequenceMatcher(["abcd", "bc"]);
        Assert.Equal(new StopMatch("xa", "bc"), m2.Append("xabcd"));
    }

    [Fact]
    public void StopAtTheVeryStart_EmitsNothing()
    {
        var m = new StopSequenceMatcher(["<|im_end|>"]);
        Assert.Equal(new StopMatch("", "<|im_end|>"), m.Append("<|im_end|>more text"));
    }

    [Fact]
    public void StopAtTheVeryStart_AcrossManyDeltas()
    {
        var m = new StopSequenceMatcher(["<|im_end|>"]);
        foreach (string piece in new[] { "<|", "im", "_", "end" })
            Assert.Equal(new StopMatch("", null), m.Append(piece));
        Assert.Equal(new StopMatch("", "<|im_end|>"), m.Append("|>"));
    }

    [Fact]
    public void Flush_ReturnsHeldBackText_WhenGenerationEndsOtherwise()
    {
        var m = new StopSequenceMatcher(["STOP"]);
        Assert.Equal("done ", m.Append("done ST").Text);
        Assert.Equal("ST", m.Flush());
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void EmptyOrNullStop_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new StopSequenceMatcher(["a", ""]));
        Assert.Throws<ArgumentException>(() => new StopSequenceMatcher(["a", null!]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Output_DoesNotDependOnHowTheTextIsSplit(int seed)
    {
        string[] stops = ["aab", "ba", "abab", "xyz"];
        var rng = new Random(seed);
        string text = new(Enumerable.Range(0, 60).Select(_ => "abxyz"[rng.Next(5)]).ToArray());

        (string Emitted, string? Stop) Run(IEnumerable<string> pieces)
        {
            var m = new StopSequenceMatcher(stops);
            var emitted = new System.Text.StringBuilder();
            foreach (string piece in pieces)
            {
                StopMatch r = m.Append(piece);
                emitted.Append(r.Text);
                if (r.Stopped)
                    return (emitted.ToString(), r.StopSequence);
            }

            return (emitted.Append(m.Flush()).ToString(), null);
        }

        var whole = Run([text]);
        var perChar = Run(text.Select(c => c.ToString()));
        var chunks = new List<string>();
        for (int i = 0; i < text.Length;)
        {
            int len = Math.Min(rng.Next(0, 5), text.Length - i);
            chunks.Add(text.Substring(i, len));
            i += len;
        }

        Assert.Equal(whole, perChar);
        Assert.Equal(whole, Run(chunks));

        // Reference: cut before the stop that ends first (ties: starts first) in the whole text.
        var first = stops.Select(s => (Stop: s, Start: text.IndexOf(s, StringComparison.Ordinal)))
            .Where(x => x.Start >= 0)
            .OrderBy(x => x.Start + x.Stop.Length).ThenBy(x => x.Start)
            .FirstOrDefault();
        Assert.Equal(first.Stop is null ? (text, null) : (text[..first.Start], first.Stop), whole);
    }
}
