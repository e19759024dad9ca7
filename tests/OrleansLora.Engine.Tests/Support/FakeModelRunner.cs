using System.Collections.Concurrent;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Tests.Support;

/// <summary>
/// A model runner without a model, for testing scheduling: the next token is a pure function of
/// the sequence's last token and its adapter (<see cref="NextToken"/>), one-hot in the logits, so
/// greedy decoding gives a known sequence. Records every forward and every adapter load.
/// </summary>
public sealed class FakeModelRunner(int vocab = 64, int sequenceSlots = 4, int maxSequenceLength = 64, int adapterSlots = 2) : IModelRunner
{
    private readonly Stack<int> _free = new(Enumerable.Range(0, sequenceSlots).Reverse());
    private readonly string?[] _adapterInSlot = new string?[adapterSlots];

    public ModelConfig Config { get; } = new()
    {
        Architectures = ["LlamaForCausalLM"],
        VocabSize = vocab,
        HiddenSize = 8,
        IntermediateSize = 16,
        NumHiddenLayers = 2,
        NumAttentionHeads = 2,
        MaxPositionEmbeddings = maxSequenceLength,
    };

    public string Description => "fake runner";
    public int MaxSequenceLength => maxSequenceLength;
    public int SequenceSlots => sequenceSlots;
    public int FreeSequenceSlots => _free.Count;
    public int AdapterSlots => adapterSlots;
    public int MaxAdapterRank => 64;

    /// <summary>Every forward's sequences, in order (engine thread writes; read after the engine is quiet).</summary>
    public ConcurrentQueue<IReadOnlyList<BatchSequence>> Forwards { get; } = new();

    /// <summary>Adapter ids in the order they were copied into a slot.</summary>
    public ConcurrentQueue<string> Loads { get; } = new();

    /// <summary>Adapter reads started (PrepareAdapter calls).</summary>
    public ConcurrentQueue<string> Prepares { get; } = new();

    /// <summary>When set, PrepareAdapter waits on it: a disk read that takes as long as the test wants.</summary>
    public ManualResetEventSlim? ReadGate { get; set; }

    /// <summary>Called at the start of every forward with the number of forwards before it (the engine thread waits on it).</summary>
    public Action<int>? BeforeForward { get; set; }

    /// <summary>Adapter directories whose read fails.</summary>
    public ConcurrentDictionary<string, bool> FailingReads { get; } = new();

    /// <summary>Live host adapters (prepared and not yet freed).</summary>
    public int LiveHostAdapters => Volatile.Read(ref _live);
    private int _live;

    /// <summary>The greedy continuation of <paramref name="last"/> under adapter slot content <paramref name="adapterId"/>.</summary>
    public int NextToken(int last, string? adapterId) =>
        (last * 7 + 3 + (adapterId is null ? 0 : 1 + Math.Abs(StableHash(adapterId)) % 5)) % vocab;

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (char c in s)
            h = unchecked(h * 31 + c);
        return h;
    }

    public bool TryAllocateSequence(out int slot) => _free.TryPop(out slot);

    public void FreeSequence(int slot)
    {
        if (_free.Contains(slot))
            throw new InvalidOperationException($"KV slot {slot} freed twice.");
        _free.Push(slot);
    }

    public PeftAdapterInfo InspectAdapter(string directory, AdapterLoadOptions options) =>
        new(options.Name ?? directory, directory, new PeftAdapterConfig { Rank = 8, LoraAlpha = 16 }, ["q_proj"], Config.NumHiddenLayers, 1024);

    public HostAdapter PrepareAdapter(string directory, AdapterLoadOptions options)
    {
        Prepares.Enqueue(options.Name ?? directory);
        ReadGate?.Wait(TimeSpan.FromSeconds(30));
        if (FailingReads.ContainsKey(directory))
            throw new IOException($"cannot read {directory}");
        Interlocked.Increment(ref _live);
        return new FakeHostAdapter(InspectAdapter(directory, options), () => Interlocked.Decrement(ref _live));
    }

    public void LoadAdapter(int slot, HostAdapter adapter)
    {
        _adapterInSlot[slot] = adapter.Info.Name;
        Loads.Enqueue(adapter.Info.Name);
    }

    public void EvictAdapter(int slot) => _adapterInSlot[slot] = null;

    public ModelLogits Forward(ModelBatch batch)
    {
        var sequences = batch.Sequences;
        BeforeForward?.Invoke(Forwards.Count);
        Forwards.Enqueue(sequences.ToArray());
        var values = new float[sequences.Count * vocab];
        int row = 0;
        for (int i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            if ((uint)s.Slot >= (uint)sequenceSlots || _free.Contains(s.Slot))
                throw new InvalidOperationException($"forward names KV slot {s.Slot}, which is not allocated.");
            if (s.StartPosition + s.TokenCount > maxSequenceLength)
                throw new InvalidOperationException($"sequence in slot {s.Slot} runs past {maxSequenceLength} positions.");
            string? adapter = null;
            if (s.AdapterSlot >= 0)
                adapter = _adapterInSlot[s.AdapterSlot] ?? throw new InvalidOperationException($"forward names empty adapter slot {s.AdapterSlot}.");
            row += s.TokenCount;
            values[i * vocab + NextToken(batch.TokenIds[row - 1], adapter)] = 1f;
        }
        return new ArrayLogits(values, sequences.Count, vocab);
    }

    public void Dispose()
    {
    }

    private sealed class FakeHostAdapter(PeftAdapterInfo info, Action freed) : HostAdapter(info, 1024)
    {
        protected override void Free() => freed();
    }
}
