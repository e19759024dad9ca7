using Microsoft.ML.Tokenizers;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Loads the tokenizer of a Hugging Face model directory: tokenizer.json (BPE) if present, else
/// tokenizer.model (SentencePiece), else vocab.json + merges.txt (GPT-2); special tokens and the
/// chat template come from tokenizer_config.json, EOS ids also from config.json and
/// generation_config.json.
/// </summary>
public static class TokenizerLoader
{
    public const string TokenizerJsonFileName = "tokenizer.json";
    public const string SentencePieceFileName = "tokenizer.model";
    public const string VocabFileName = "vocab.json";
    public const string MergesFileName = "merges.txt";

    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">None of the tokenizer files is present.</exception>
    /// <exception cref="ModelFormatException">A file is malformed or unsupported; the message names it.</exception>
    public static ITextTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
            throw new DirectoryNotFoundException($"Model directory '{modelDirectory}' does not exist.");

        var config = TokenizerConfigFile.Read(modelDirectory);
        string tokenizerJson = Path.Combine(modelDirectory, TokenizerJsonFileName);
        string sentencePiece = Path.Combine(modelDirectory, SentencePieceFileName);
        string vocab = Path.Combine(modelDirectory, VocabFileName);
        string merges = Path.Combine(modelDirectory, MergesFileName);

        if (File.Exists(tokenizerJson))
        {
            var parts = TokenizerJsonReader.Read(tokenizerJson);
            return CreateBpe(parts, config, modelDirectory, defaultAddBos: parts.PostProcessorBos is not null);
        }
        if (File.Exists(sentencePiece))
            return CreateSentencePiece(sentencePiece, config, modelDirectory);
        if (File.Exists(vocab) && File.Exists(merges))
        {
            var parts = VocabMergesReader.Read(vocab, merges, config.AddPrefixSpace);
            return CreateBpe(parts, config, modelDirectory, defaultAddBos: false);
        }
        throw new FileNotFoundException(
            $"No tokenizer in '{modelDirectory}': expected {TokenizerJsonFileName}, {SentencePieceFileName}, or {VocabFileName} with {MergesFileName}.",
            tokenizerJson);
    }

    private static HuggingFaceBpeTokenizer CreateBpe(BpeTokenizerParts parts, TokenizerConfigFile config, string directory, bool defaultAddBos)
    {
        // tokenizer_config.json may declare tokens tokenizer.json lacks (and vocab.json never has).
        var added = parts.AddedTokens.ToDictionary(t => t.Id);
        foreach (var token in config.AddedTokens)
            added.TryAdd(token.Id, token);
        foreach (string content in SpecialTokenStrings(config))
        {
            if (!added.Values.Any(t => t.Content == content) && parts.Model.TryGetId(content, out int id))
                added.TryAdd(id, new AddedToken(id, content, Special: true));
        }
        parts = parts with { AddedTokens = added.Values.ToList() };

        string? bosToken = config.BosToken ?? parts.PostProcessorBos;
        var specials = ResolveSpecials(config, bosToken, parts.TokenToId, config.AddBosToken ?? defaultAddBos, directory);
        return new HuggingFaceBpeTokenizer(parts, specials);
    }

    private static SentencePieceModelTokenizer CreateSentencePiece(string path, TokenizerConfigFile config, string directory)
    {
        LlamaTokenizer inner;
        using (var stream = File.OpenRead(path))
        {
            try
            {
                inner = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
            }
            catch (Exception e)
            {
                // Protobuf parse errors are IOExceptions too; all of them mean a bad file here.
                throw new ModelFormatException(path, $"is not a SentencePiece BPE model ({e.GetType().Name}: {e.Message})", e);
            }
        }
        if (inner.Vocabulary.Count == 0)
            throw new ModelFormatException(path, "has no pieces.");

        var added = config.AddedTokens.ToList();
        foreach (string content in SpecialTokenStrings(config).Append(inner.BeginningOfSentenceToken).Append(inner.EndOfSentenceToken).Append(inner.UnknownToken))
        {
            if (!added.Any(t => t.Content == content) && inner.Vocabulary.TryGetValue(content, out int id))
                added.Add(new AddedToken(id, content, Special: true));
        }

        string bosToken = config.BosToken ?? inner.BeginningOfSentenceToken;
        var specials = ResolveSpecials(
            config with { EosToken = config.EosToken ?? inner.EndOfSentenceToken },
            bosToken,
            token => SentencePieceModelTokenizer.TokenToId(inner, added, token),
            config.AddBosToken ?? true,
            directory);
        return new SentencePieceModelTokenizer(inner, added, specials);
    }

    private static IEnumerable<string> SpecialTokenStrings(TokenizerConfigFile config) =>
        new[] { config.BosToken, config.EosToken, config.UnkToken, config.PadToken }
            .Concat(config.AdditionalSpecialTokens)
            .OfType<string>()
            .Where(s => s.Length > 0);

    private static TokenizerSpecials ResolveSpecials(
        TokenizerConfigFile config, string? bosToken, Func<string, int?> tokenToId, bool addBos, string directory)
    {
        int? bosId = bosToken is null ? config.ModelBosTokenId : tokenToId(bosToken) ?? config.ModelBosTokenId;
        if (addBos && bosId is null)
            throw new ModelFormatException(Path.Combine(directory, TokenizerConfigFile.FileName),
                $"add_bos_token is set but the BOS token {(bosToken is null ? "is not named" : $"\"{bosToken}\" is not in the vocabulary")} and config.json has no bos_token_id.");

        var eos = new List<int>();
        if (config.EosToken is string eosToken)
        {
            int id = tokenToId(eosToken)
                ?? throw new ModelFormatException(Path.Combine(directory, TokenizerConfigFile.FileName), $"eos_token \"{eosToken}\" is not in the vocabulary.");
            eos.Add(id);
        }
        foreach (int id in config.ModelEosTokenIds)
        {
            if (!eos.Contains(id))
                eos.Add(id);
        }
        if (eos.Count == 0)
        {
            throw new ModelFormatException(directory,
                "no end-of-sequence token: tokenizer_config.json has no eos_token and config.json / generation_config.json have no eos_token_id.");
        }

        var tokens = new ChatTemplateTokens(bosToken, config.EosToken, config.UnkToken, config.PadToken) { AdditionalSpecialTokens = config.AdditionalSpecialTokens };
        var template = ChatTemplateLoader.Load(config.ChatTemplates, tokens, Path.Combine(directory, TokenizerConfigFile.FileName));
        return new TokenizerSpecials(addBos ? bosId : null, eos, template);
    }
}
