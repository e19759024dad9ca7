using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Constraints;

/// <summary>
/// Compiled grammars of one tokenizer, by spec hash, with their per-state mask caches. One per
/// tokenizer for the life of the tokenizer (<see cref="For"/>); bounded, cleared when full.
/// </summary>
public sealed class TokenGrammarCache
{
    private const int MaxGrammars = 256;

    private static readonly ConditionalWeakTable<ITextTokenizer, TokenGrammarCache> Caches = new();

    private readonly ConcurrentDictionary<string, TokenGrammar> _grammars = new(StringComparer.Ordinal);

    private TokenGrammarCache(TokenVocabulary vocabulary) => Vocabulary = vocabulary;

    public TokenVocabulary Vocabulary { get; }

    public static TokenGrammarCache For(ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Caches.GetValue(tokenizer, t => new TokenGrammarCache(TokenVocabulary.For(t)));
    }

    internal static TokenGrammarCache For(TokenVocabulary vocabulary) => new(vocabulary);

    /// <exception cref="GrammarException">The spec does not compile.</exception>
    public TokenGrammar Get(GrammarSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (_grammars.TryGetValue(spec.Key, out var grammar))
            return grammar;
        if (_grammars.Count >= MaxGrammars)
            _grammars.Clear();
        return _grammars.GetOrAdd(spec.Key, new TokenGrammar(spec.Compile(), Vocabulary, spec.Key));
    }

    /// <summary>A fresh per-sequence processor for <paramref name="spec"/>.</summary>
    public GrammarLogitsProcessor CreateProcessor(GrammarSpec spec, int maxNewTokens) => new(Get(spec), maxNewTokens);
}
