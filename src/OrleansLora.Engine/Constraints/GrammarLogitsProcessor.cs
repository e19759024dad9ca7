using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Constraints;

/// <summary>
/// One sequence's position in a <see cref="TokenGrammar"/>: masks its logits before sampling and
/// follows the tokens it continues with. Not thread-safe (one per sequence), as the engine's hook
/// requires.
/// </summary>
public sealed class GrammarLogitsProcessor : ILogitsProcessor
{
    private int _maxNewTokens;
    private int _state = TokenGrammar.StartState;
    private int _generated;

    public GrammarLogitsProcessor(TokenGrammar grammar, int maxNewTokens)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        Grammar = grammar;
        _maxNewTokens = maxNewTokens;
    }

    public TokenGrammar Grammar { get; }

    /// <summary>The output so far is a complete match (EOS is allowed now).</summary>
    public bool IsComplete => Grammar.IsAccepting(_state);

    /// <summary>An EOS token was accepted.</summary>
    public bool IsFinished { get; private set; }

    /// <summary>The engine's cap wins when the prompt leaves less context than the request's max tokens.</summary>
    public void Start(int maxNewTokens) => _maxNewTokens = Math.Clamp(maxNewTokens, 1, _maxNewTokens);

    public void Process(Span<float> logits)
    {
        if (IsFinished)
        {
            // Past the end (IgnoreEos): only EOS again.
            KeepEos(logits);
            return;
        }
        Grammar.Apply(_state, Math.Max(1, _maxNewTokens - _generated), logits);
    }

    /// <exception cref="InvalidOperationException">The token is one the grammar refused (the mask was not applied).</exception>
    public void Accept(int tokenId)
    {
        _generated++;
        if (Grammar.Vocabulary.IsEos(tokenId))
        {
            IsFinished = true;
            return;
        }
        if (IsFinished)
            return;
        int next = Grammar.Advance(_state, tokenId);
        if (next < 0)
            throw new InvalidOperationException($"token {tokenId} is not allowed by the grammar here; the logits were not masked.");
        _state = next;
    }

    private void KeepEos(Span<float> logits)
    {
        Span<float> saved = stackalloc float[Grammar.Vocabulary.EosTokenIds.Count];
        var eos = Grammar.Vocabulary.EosTokenIds;
        for (int i = 0; i < eos.Count; i++)
            saved[i] = eos[i] < logits.Length ? logits[eos[i]] : float.NegativeInfinity;
        logits.Fill(float.NegativeInfinity);
        for (int i = 0; i < eos.Count; i++)
        {
            if (eos[i] < logits.Length)
                logits[eos[i]] = saved[i];
        }
    }
}
