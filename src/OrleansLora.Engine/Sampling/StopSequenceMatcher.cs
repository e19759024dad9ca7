namespace OrleansLora.Engine.Sampling;

/// <summary>
/// Streams generated text past a set of stop sequences with OpenAI semantics: output ends just before the
/// first stop sequence, which is never returned. Text is fed in as it is detokenized; any suffix that is
/// still a prefix of some stop sequence is held back until the next piece decides it. One per sequence;
/// not thread-safe.
/// </summary>
/// <remarks>
/// "First" means the stop that completes earliest in the text (ties: the one starting earliest). That is
/// what character-by-character streaming would see, so the output does not depend on how the text happens
/// to be split into deltas. Matching is ordinal.
/// </remarks>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private readonly int _longestStop;
    private string _held = string.Empty;

    public StopSequenceMatcher(IEnumerable<string> stopSequences)
    {
        ArgumentNullException.ThrowIfNull(stopSequences);
        _stops = [.. stopSequences];
        if (_stops.Any(string.IsNullOrEmpty))
            throw new ArgumentException("stop sequences must not be null or empty.", nameof(stopSequences));
        _longestStop = _stops.Length == 0 ? 0 : _stops.Max(s => s.Length);
    }

    /// <summary>The stop sequence that ended generation, or null.</summary>
    public string? MatchedStop { get; private set; }

    public bool Stopped => MatchedStop is not null;

    /// <summary>Appends newly generated text and returns what may be emitted now.</summary>
    /// <exception cref="InvalidOperationException">A stop sequence already matched; nothing more may follow.</exception>
    public StopMatch Append(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (Stopped)
            throw new InvalidOperationException($"a stop sequence already matched ('{MatchedStop}'); generation has ended.");
        if (_stops.Length == 0)
            return new StopMatch(delta, null);

        // Held text is shorter than the longest stop and everything before it was ruled out, so a stop can
        // only occur within held + delta.
        string text = _held + delta;

        int bestStart = -1, bestEnd = int.MaxValue;
        string? bestStop = null;
        foreach (string stop in _stops)
        {
            int start = text.IndexOf(stop, StringComparison.Ordinal);
            if (start < 0)
                continue;
            int end = start + stop.Length;
            if (end < bestEnd || (end == bestEnd && start < bestStart))
                (bestStart, bestEnd, bestStop) = (start, end, stop);
        }

        if (bestStop is not null)
        {
            MatchedStop = bestStop;
            _held = string.Empty;
            return new StopMatch(text[..bestStart], bestStop);
        }

        int holdFrom = HoldBackStart(text);
        _held = text[holdFrom..];
        return new StopMatch(text[..holdFrom], null);
    }

    /// <summary>
    /// Returns (and forgets) the held-back text, for when generation ends for another reason (EOS, length):
    /// it turned out not to be a stop sequence. Empty after a stop matched.
    /// </summary>
    public string Flush()
    {
        string held = _held;
        _held = string.Empty;
        return held;
    }

    /// <summary>
    /// Earliest position whose suffix is a proper prefix of some stop sequence (text.Length if none).
    /// Any earlier position can never begin a stop, however the text continues, so it is safe to emit.
    /// </summary>
    private int HoldBackStart(string text)
    {
        for (int i = Math.Max(0, text.Length - _longestStop + 1); i < text.Length; i++)
        {
            ReadOnlySpan<char> suffix = text.AsSpan(i);
            foreach (string stop in _stops)
            {
                if (stop.Length > suffix.Length && stop.AsSpan().StartsWith(suffix, StringComparison.Ordinal))
                    return i;
            }
        }

        return text.Length;
    }
}
