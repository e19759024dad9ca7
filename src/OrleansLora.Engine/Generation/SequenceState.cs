using System.Threading.Channels;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Generation;

/// <summary>One request inside the engine: its tokens, KV slot, sampler and output channel. Engine thread only.</summary>
internal sealed class SequenceState
{
    public SequenceState(GenerationRequest request, IReadOnlyList<int> promptTokens, ITextTokenizer tokenizer, ChannelWriter<GenerationChunk> output, CancellationToken cancellation)
    {
        Request = request;
        PromptLength = promptTokens.Count;
        Tokens = [.. promptTokens];
        Sampler = new SequenceSampler(request.Sampling, promptTokens, request.LogitsProcessor);
        Detokenizer = new IncrementalDetokenizer(tokenizer, promptTokens);
        Stops = new StopSequenceMatcher(request.Sampling.StopSequences);
        Output = output;
        Cancellation = cancellation;
        if (request.Sampling.PromptLogprobs is not null && promptTokens.Count > 0)
            PromptLogprobs = [new SampleLogprobs(new TokenLogprob(promptTokens[0], float.NaN), [])];
    }

    public GenerationRequest Request { get; }
    public int PromptLength { get; }
    /// <summary>Prompt followed by generated tokens.</summary>
    public List<int> Tokens { get; }
    /// <summary>How many of <see cref="Tokens"/> have keys/values in the cache.</summary>
    public int Processed { get; set; }
    public int Slot { get; set; } = -1;
    /// <summary>With a paged KV cache: the blocks holding this sequence's positions while it runs.</summary>
    public Caching.KvSequenceBlocks? Blocks { get; set; }
    /// <summary>Times this sequence gave its KV blocks up to older sequences and was computed again.</summary>
    public int Preemptions { get; set; }
    /// <summary>Adapter slot while running, -1 for the base model or before admission.</summary>
    public int AdapterSlot { get; set; } = -1;
    public SequenceSampler Sampler { get; }
    public IncrementalDetokenizer Detokenizer { get; }
    public StopSequenceMatcher Stops { get; }
    public ChannelWriter<GenerationChunk> Output { get; }
    public CancellationToken Cancellation { get; }
    /// <summary>The request's <c>engine.generate</c> span, which step spans link to; default when not traced.</summary>
    public System.Diagnostics.ActivityContext TraceContext { get; set; }
    public int Generated => Tokens.Count - PromptLength;

    /// <summary>With prompt log-probabilities asked for: entry k is prompt token k's (the first has none: NaN); null otherwise.</summary>
    public List<SampleLogprobs>? PromptLogprobs { get; }

    /// <summary>Whether some prompt token's log-probability is still to be computed: every position runs, none is reused.</summary>
    public bool WantsPromptLogits => PromptLogprobs is { } l && l.Count < PromptLength;

    private bool _promptLogprobsSent;

    /// <summary>The prompt log-probabilities, once: for the first chunk written.</summary>
    public IReadOnlyList<SampleLogprobs>? TakePromptLogprobs()
    {
        if (PromptLogprobs is null || _promptLogprobsSent)
            return null;
        _promptLogprobsSent = true;
        return PromptLogprobs;
    }
    public int Pending => Tokens.Count - Processed;
}
