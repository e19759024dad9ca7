using OrleansLora.Generation;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>The cluster's per-token log-probabilities in OpenAI's chat and legacy completion shapes.</summary>
public static class OpenAiLogprobs
{
    /// <summary>Chat's <c>logprobs</c> for the tokens of one answer or one streamed chunk.</summary>
    public static ChatLogprobs Chat(IReadOnlyList<GeneratedLogprobs> tokens) =>
        new(tokens.Select(t => new ChatTokenLogprob(t.Chosen.Text, JsonLogprob.Clamp(t.Chosen.Logprob), Bytes(t.Chosen),
            t.Top.Select(a => new ChatTopLogprob(a.Text, JsonLogprob.Clamp(a.Logprob), Bytes(a))).ToArray())).ToArray());

    /// <summary>
    /// Legacy completion <c>logprobs</c> for the tokens of one answer or one streamed chunk; <paramref name="offset"/>
    /// is the completion text's length before them and is advanced past them.
    /// </summary>
    public static CompletionLogprobs Completion(IReadOnlyList<GeneratedLogprobs> tokens, ref int offset)
    {
        var offsets = new int[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            offsets[i] = offset;
            offset += tokens[i].Chosen.Text.Length;
        }
        // A prompt's first token (echo) has no log-probability: null, and null alternatives, as vLLM writes it.
        return new CompletionLogprobs(
            tokens.Select(t => t.Chosen.Text).ToArray(),
            tokens.Select(t => JsonLogprob.OrNull(t.Chosen.Logprob)).ToArray(),
            tokens.Select(t => float.IsNaN(t.Chosen.Logprob) ? null : TopMap(t)).ToArray(),
            offsets);
    }

    private static IReadOnlyDictionary<string, float> TopMap(GeneratedLogprobs t)
    {
        // Keyed by text, as OpenAI's shape is: of two tokens with the same text the more likely one is kept.
        var map = new Dictionary<string, float>(t.Top.Count + 1, StringComparer.Ordinal);
        foreach (var a in t.Top)
            map.TryAdd(a.Text, JsonLogprob.Clamp(a.Logprob));
        map.TryAdd(t.Chosen.Text, JsonLogprob.Clamp(t.Chosen.Logprob));
        return map;
    }

    private static int[] Bytes(LogprobToken token) => token.Bytes.Select(b => (int)b).ToArray();
}
