using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Devices;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Runners;

/// <summary>
/// The TorchSharp runner: a <see cref="LlamaModel"/> on the CPU with its KV cache (blocks of a
/// <see cref="PagedKvCache"/>, or <see cref="KvCache"/> slots when <see cref="ModelRunnerOptions.KvBlockSize"/> is 0)
/// and an <see cref="AdapterSlotTable"/> (made on the first adapter load, so a base-model-only
/// engine pays nothing). Logits are returned in place, read straight from the output tensor.
/// </summary>
public sealed class CpuModelRunner : IModelRunner
{
    private readonly KvCache? _slots;
    private readonly PagedKvCache? _paged;
    // With a paged cache a sequence slot is only a handle (the blocks are the engine's): these are free.
    private readonly Stack<int>? _handles;
    private readonly bool[]? _handleUsed;
    private readonly ModelRunnerOptions _options;
    private readonly ScalarType _adapterDtype;
    private AdapterSlotTable? _adapters;

    /// <summary>Takes ownership of <paramref name="model"/> (disposed with the runner) and allocates the KV cache.</summary>
    public CpuModelRunner(LlamaModel model, ModelRunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        _adapterDtype = options.AdapterDtype switch
        {
            "float32" => ScalarType.Float32,
            "bfloat16" => ScalarType.BFloat16,
            _ => throw new ArgumentException($"adapter tables support float32 and bfloat16, not \"{options.AdapterDtype}\".", nameof(options)),
        };
        Model = model;
        _options = options;
        if (options.Threads > 0)
            set_num_threads(options.Threads);
        if (options.KvBlockSize > 0)
        {
            int maxLength = options.MaxSequenceLength > 0 ? Math.Min(options.MaxSequenceLength, model.MaxSequenceLength) : model.MaxSequenceLength;
            // Never more memory than the slots would have taken: MaxSequences full-length sequences.
            long maxBlocks = (long)options.MaxSequences * ((maxLength + options.KvBlockSize - 1) / options.KvBlockSize);
            _paged = model.CreatePagedKvCache(options.KvCacheBytes, options.KvBlockSize, maxLength, maxBlocks);
            _handles = new Stack<int>(Enumerable.Range(0, options.MaxSequences).Reverse());
            _handleUsed = new bool[options.MaxSequences];
        }
        else
        {
            _slots = model.CreateKvCache(new KvCacheOptions { BudgetBytes = options.KvCacheBytes, MaxSequenceLength = options.MaxSequenceLength, MaxSlots = options.MaxSequences });
        }
    }

    /// <summary>Loads the checkpoint in <paramref name="directory"/> and allocates the runner around it.</summary>
    public static CpuModelRunner Load(string directory, ModelLoadOptions loadOptions, ModelRunnerOptions options)
    {
        NativeRuntime.EnsureInitialized();
        var model = LlamaModel.Load(directory, loadOptions);
        try
        {
            return new CpuModelRunner(model, options);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The model itself, for tests and tools that look below the boundary.</summary>
    public LlamaModel Model { get; }

    public ModelConfig Config => Model.Config;

    public string Description => $"model {Model.Directory}, dtype {Model.Dtype}, quantization {Model.Quantization}, kernels {NativeKernels.Isa}, device cpu";

    public int MaxSequenceLength => _paged?.MaxSequenceLength ?? _slots!.MaxSequenceLength;
    public int SequenceSlots => _paged is not null ? _handleUsed!.Length : _slots!.SlotCount;
    public int FreeSequenceSlots => _paged is not null ? _handles!.Count : _slots!.FreeSlots;

    public KvBlockLayout? KvBlocks => _paged?.Layout;

    /// <summary>The paged cache, when there is one (tests look below the boundary).</summary>
    public PagedKvCache? PagedCache => _paged;

    public bool TryAllocateSequence(out int slot)
    {
        if (_slots is not null)
            return _slots.TryAllocate(out slot);
        if (!_handles!.TryPop(out slot))
            return false;
        _handleUsed![slot] = true;
        return true;
    }

    public void FreeSequence(int slot)
    {
        if (_slots is not null)
        {
            _slots.Free(slot);
            return;
        }
        if ((uint)slot >= (uint)_handleUsed!.Length || !_handleUsed[slot])
            throw new InvalidOperationException($"sequence handle {slot} is not in use.");
        _handleUsed[slot] = false;
        _handles!.Push(slot);
    }

    // A paged cache shares a prompt's full blocks through the prefix cache instead: no copy.
    public bool CanCopySequences => _slots is not null;

    public void CopySequence(int source, int destination, int positions)
    {
        if (_slots is null)
            throw new NotSupportedException("a paged KV cache shares prefixes through its blocks; sequences are not copied.");
        _slots.Copy(source, destination, positions);
    }

    public void CopyKvBlocks(int[] sourceDestinationPairs)
    {
        if (_paged is null)
            throw new NotSupportedException("this runner's KV cache has fixed slots, not blocks.");
        _paged.CopyBlocks(sourceDestinationPairs);
    }

    public int AdapterSlots => _options.MaxLoras;
    public int MaxAdapterRank => _options.MaxLoraRank;

    public PeftAdapterInfo InspectAdapter(string directory, AdapterLoadOptions options) =>
        PeftAdapter.Inspect(directory, Model.Config, options);

    public DeviceDescription DescribeDevice() => CpuDevice.Describe(CpuDevice.HeldBytes(Model, KvCacheBytes, _adapters?.Bytes ?? 0));

    /// <summary>Bytes of the KV cache as allocated: every block of the pools, or every slot.</summary>
    private long KvCacheBytes => _paged is not null ? _paged.BlockCount * _paged.BytesPerBlock : _slots!.SlotCount * _slots.BytesPerSlot;

    public HostAdapter PrepareAdapter(string directory, AdapterLoadOptions options) =>
        PreparedAdapter.Load(directory, Model.Config, _adapterDtype, options);

    public void LoadAdapter(int slot, HostAdapter adapter)
    {
        if (adapter is not PreparedAdapter prepared)
            throw new ArgumentException($"adapter {adapter.Info.Name} was not prepared by this runner.", nameof(adapter));
        Slots().Load(slot, prepared);
    }

    public void EvictAdapter(int slot) => _adapters?.Clear(slot);

    private AdapterSlotTable Slots()
    {
        if (_adapters is null)
        {
            if (_options.MaxLoras < 1)
                throw new InvalidOperationException("this runner has no adapter slots (MaxLoras = 0).");
            _adapters = new AdapterSlotTable(Model.Config, _options.MaxLoras, _options.MaxLoraRank, _adapterDtype);
            Model.Adapters = _adapters;
        }
        return _adapters;
    }

    public bool ReturnsTokenLogits => true;

    public ModelLogits Forward(ModelBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // Every sequence's last row goes through the head, needed or not: the head's kernels pick
        // their path by row count, and the numbers must not depend on which rows are read.
        using var forward = new ForwardBatch(batch.Sequences, batch.TokenIds, MaxSequenceLength);
        // Prompt log-probabilities: the flagged sequences' token rows follow the last-token rows.
        var layout = batch.TokenRowLayout();
        long[]? extraRows = layout is { } l ? Array.ConvertAll(l.Rows, r => (long)r) : null;
        var logits = _paged is not null ? Model.Forward(forward, _paged, extraRows: extraRows) : Model.Forward(forward, _slots!, extraRows: extraRows); // [sequences (+ token rows), vocab] float32
        return new TensorLogits(logits, batch.Sequences.Count, Model.Config.VocabSize, layout);
    }

    public void Dispose()
    {
        _slots?.Dispose();
        _paged?.Dispose();
        Model.Adapters = null;
        _adapters?.Dispose();
        Model.Dispose();
    }
}
