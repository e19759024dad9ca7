using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Support;

/// <summary>Token id n is the text "&lt;n&gt;"; EOS is the id given. Enough for engines over a <see cref="FakeModelRunner"/>.</summary>
public sealed class FakeTokenizer(int vocab = 64, int eos = 0) : ITextTokenizer
{
    public int VocabularySize => vocab;
    public int? BosTokenId => null;
    public IReadOnlyList<int> EosTokenIds { get; } = [eos];
    public ChatTemplate ChatTemplate => ChatTemplate.None;

    public IReadOnlyList<int> Encode(string text, bool addBos) =>
        text.Split('>', StringSplitOptions.RemoveEmptyEntries).Select(t => int.Parse(t.TrimStart('<'), System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true) =>
        string.Concat(ids.Where(id => !skipSpecialTokens || id != eos).Select(id => $"<{id}>"));
}
