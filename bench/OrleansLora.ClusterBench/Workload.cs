using OrleansLora.Engine.Tokenization;

namespace OrleansLora.ClusterBench;

/// <summary>One request of a round: its prompt text, the adapter it runs on and how many tokens it generates.</summary>
internal sealed record WorkItem(int Index, string AdapterId, string Prompt, int MaxTokens);

/// <summary>
/// The requests every path sends: <see cref="ClusterBenchOptions.Concurrency"/> text prompts of exactly
/// <see cref="ClusterBenchOptions.PromptTokens"/> tokens (BOS included), request i on adapter i mod N, greedy,
/// <see cref="ClusterBenchOptions.NewTokens"/> new tokens. Text (not token ids) because HTTP takes text, and
/// EOS is not ignored because HTTP cannot ask for that: prompts whose greedy continuation hits EOS early are
/// replaced (see <see cref="Replace"/>) so every request generates the full count on every path.
/// </summary>
internal sealed class Workload
{
    // Common words that GPT-2 encodes as one token each after a space, so prompt length is exact.
    private static readonly string[] Words =
    [
        "the", "cat", "house", "river", "light", "green", "table", "music", "quiet", "storm", "bread", "paper", "stone", "north",
        "window", "garden", "winter", "summer", "market", "letter", "silver", "forest", "yellow", "morning", "engine", "planet",
        "city", "road", "fire", "water", "cloud", "bird", "king", "ship", "horse", "field", "glass", "night", "school", "friend",
    ];

    private readonly ITextTokenizer _tokenizer;
    private readonly ClusterBenchOptions _options;
    private readonly WorkItem[] _items;
    private int _seed;

    public Workload(ITextTokenizer tokenizer, ClusterBenchOptions options, IReadOnlyList<string> adapterIds)
    {
        _tokenizer = tokenizer;
        _options = options;
        _items = new WorkItem[options.Concurrency];
        for (int i = 0; i < _items.Length; i++)
            _items[i] = new WorkItem(i, adapterIds[i % adapterIds.Count], NewPrompt(), options.NewTokens);
    }

    public IReadOnlyList<WorkItem> Items => _items;

    public const float Temperature = 0f; // greedy: every path must produce the same text
    public const ulong Seed = 7;

    /// <summary>Gives request <paramref name="index"/> a fresh prompt (its greedy continuation ended early).</summary>
    public void Replace(int index) => _items[index] = _items[index] with { Prompt = NewPrompt() };

    private string NewPrompt()
    {
        var rng = new Random(unchecked(1234 + _seed++));
        var words = new List<string>();
        while (true)
        {
            string text = string.Join(' ', words);
            int count = words.Count == 0 ? 1 : _tokenizer.Encode(text, addBos: true).Count;
            if (count == _options.PromptTokens)
                return text;
            if (count > _options.PromptTokens)
                words.RemoveAt(words.Count - 1); // a word of several tokens overshot: try another
            words.Add(Words[rng.Next(Words.Length)]);
        }
    }
}
