namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Splits text into plain segments and added tokens, leftmost match first and the longest token
/// on ties (the Hugging Face order), so "&lt;|im_start|&gt;user" yields the token then "user".
/// </summary>
internal sealed class AddedTokenMatcher
{
    // Candidates by first character, longest first; added token lists are short (tens to hundreds).
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>A piece of the input: plain text (<see cref="Token"/> null) or one added token.</summary>
    public readonly record struct Segment(int Start, int Length, AddedToken? Token);

    public List<Segment> Split(string text)
    {
        var segments = new List<Segment>();
        if (_byFirstChar.Count == 0)
        {
            if (text.Length > 0)
                segments.Add(new Segment(0, text.Length, null));
            return segments;
        }

        int plainStart = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (!_byFirstChar.TryGetValue(text[i], out var candidates))
                continue;
            AddedToken? match = null;
            foreach (var candidate in candidates)
            {
                if (string.CompareOrdinal(text, i, candidate.Content, 0, candidate.Content.Length) == 0
                    && (!candidate.SingleWord || IsWordBoundary(text, i, i + candidate.Content.Length)))
                {
                    match = candidate;
                    break;
                }
            }
            if (match is null)
                continue;

            int start = i;
            int end = i + match.Content.Length;
            if (match.LStrip)
            {
                while (start > plainStart && char.IsWhiteSpace(text[start - 1]))
                    start--;
            }
            if (match.RStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                    end++;
            }
            if (start > plainStart)
                segments.Add(new Segment(plainStart, start - plainStart, null));
            segments.Add(new Segment(start, end - start, match));
            plainStart = end;
            i = end - 1;
        }
        if (plainStart < text.Length)
            segments.Add(new Segment(plainStart, text.Length - plainStart, null));
        return segments;
    }

    private static bool IsWordBoundary(string text, int start, int end)
    {
        bool before = start == 0 || !char.IsLetterOrDigit(text[start - 1]);
        bool after = end == text.Length || !char.IsLetterOrDigit(text[end]);
        return before && after;
    }
}
