using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Tokenization;

/// <summary>Reads the GPT-2 layout: vocab.json (token to id) and merges.txt ("left right" per line).</summary>
internal static class VocabMergesReader
{
    public static BpeTokenizerParts Read(string vocabPath, string mergesPath, bool addPrefixSpace)
    {
        using var document = JsonFields.Parse(vocabPath);
        var root = JsonFields.RootObject(document, vocabPath);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in root.EnumerateObject())
            vocab[entry.Name] = JsonFields.Int(entry.Value, $"\"{entry.Name}\"", vocabPath);

        var merges = new List<(string, string)>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(mergesPath))
        {
            lineNumber++;
            // The first line is a "#version: 0.2" header; blank lines end some files.
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
                continue;
            string[] parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new ModelFormatException(mergesPath, $"line {lineNumber} \"{line}\" is not two tokens separated by one space.");
            merges.Add((parts[0], parts[1]));
        }

        var model = new BpeModel(vocab, merges, unkToken: null, fuseUnk: false, byteFallback: false, ignoreMerges: false, mergesPath);
        return new BpeTokenizerParts(
            model,
            Normalizer: null,
            new PreTokenizerStep.ByteLevel(addPrefixSpace, useRegex: true),
            AddedTokens: [],
            BpeDecoding.ByteLevelDecoding,
            PostProcessorBos: null,
            vocabPath);
    }
}
