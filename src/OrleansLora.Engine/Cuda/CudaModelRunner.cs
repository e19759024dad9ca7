using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Devices;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Quantization;
using OrleansLora.Engine.Runners;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// The CUDA backend behind <see cref="IModelRunner"/>: a Llama/Mistral checkpoint in a libolora_cuda model (weights
/// bf16, NF4 or int8; paged bf16 KV pools; bf16 adapter slot tables applied by SGMV) on one <see cref="CudaContext"/>,
/// one forward per engine step. On <c>cuda:N</c> the kernels run on the GPU: compiled in CI, NOT VERIFIED ON A GPU
/// from here (scripts/gpu-check.sh checks the kernels where one exists). On <see cref="CudaContext.HostDevice"/> the
/// same model and orchestration run in host memory on the CPU kernels (host emulation): that is how this runner is
/// tested without a GPU. The KV cache is paged only; the engine owns the blocks (<see cref="KvBlocks"/>), a sequence
/// slot is only a handle. Every argument is validated before the library is touched, and every native failure is a
/// <see cref="CudaException"/> with the library's message, never a crash.
/// </summary>
public sealed unsafe class CudaModelRunner : IModelRunner
{
    /// <summary>Largest LoRA rank (the SGMV kernels' tested range, 1-128).</summary>
    public const int MaxLoraRank = 128;

    /// <summary>Largest head dimension of the attention kernels.</summary>
    public const int MaxHeadDim = 256;

    private readonly CudaContext _context;
    private readonly CudaModel _model;
    private readonly ModelRunnerOptions _options;
    private readonly Stack<int> _handles;
    private readonly bool[] _handleUsed;
    private float[] _logits = [];
    private CudaLogits? _lastLogits;
    private volatile CudaModelMemory _memory;
    private bool _disposed;

    private CudaModelRunner(CudaContext context, CudaModel model, CudaDeviceInfo device, string directory, ModelConfig config,
        ModelLoadOptions loadOptions, ModelRunnerOptions options, int maxSequenceLength, int blockCount)
    {
        _context = context;
        _model = model;
        _options = options;
        Device = device;
        Config = config;
        MaxSequenceLength = maxSequenceLength;
        KvBlocks = new KvBlockLayout(options.KvBlockSize, blockCount);
        _handles = new Stack<int>(Enumerable.Range(0, options.MaxSequences).Reverse());
        _handleUsed = new bool[options.MaxSequences];
        _memory = model.Memory();
        string formats = loadOptions.Quantization switch
        {
            QuantizationMode.None => "weights bf16",
            var q => $"weights {q.ToString().ToLowerInvariant()}, lm_head {(loadOptions.QuantizeLmHead ? q.ToString().ToLowerInvariant() : "bf16")}, embedding and norms bf16",
        };
        string what = $"model {directory}, {formats}, KV bf16 paged ({blockCount} blocks of {options.KvBlockSize}), adapters bf16 SGMV ({options.MaxLoras} slots, rank <= {options.MaxLoraRank})";
        Description = IsHostEmulation
            ? $"CUDA runner host emulation: {what}, run on the CPU with the kernels' CPU contracts (kernels {NativeKernels.Isa}), device cpu"
            : $"CUDA runner on cuda:{device.Index} {device.Name} (sm {device.ComputeCapability}): {what}; not verified on a GPU";
    }

    /// <summary>
    /// Loads the checkpoint in <paramref name="directory"/> onto <c>cuda:<paramref name="device"/></c>, or in host
    /// emulation for <see cref="CudaContext.HostDevice"/>. Arguments are validated first (<see cref="Validate"/>); a
    /// real device without a GPU, a driver or the library is a <see cref="CudaException"/> with the reason.
    /// </summary>
    public static CudaModelRunner Load(string directory, ModelLoadOptions loadOptions, ModelRunnerOptions options, int device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(loadOptions);
        ArgumentNullException.ThrowIfNull(options);
        var config = ModelConfig.Load(directory);
        Validate(device, config, options, loadOptions);
        CudaDeviceInfo info;
        if (device == CudaContext.HostDevice)
        {
            info = new CudaDeviceInfo(CudaContext.HostDevice, $"CUDA runner host emulation on {CpuDevice.Name}", "host", CpuDevice.MemoryTotalBytes, 0);
        }
        else
        {
            var cuda = CudaLibrary.Probe();
            if (!cuda.Available)
                throw new CudaException(CudaStatus.NoDevice, $"cuda:{device}: {cuda.Reason}");
            if (device >= cuda.Devices.Count)
                throw new ArgumentOutOfRangeException(nameof(device), device, $"this machine has {cuda.Devices.Count} CUDA device(s)");
            info = cuda.Devices[device];
        }
        int maxLength = MaxLength(config, loadOptions, options);
        var context = CudaContext.Create(device);
        CudaModel? model = null;
        try
        {
            long blockBytes = CudaNative.ModelKvBlockBytes(config.NumHiddenLayers, config.NumKeyValueHeads, config.HeadDim, options.KvBlockSize);
            if (blockBytes <= 0)
                throw new CudaException(CudaStatus.Argument, $"olora_cuda_model_kv_block_bytes returned {blockBytes} for {config.NumHiddenLayers} layers, {config.NumKeyValueHeads} KV heads, head_dim {config.HeadDim}, blocks of {options.KvBlockSize}: {CudaNative.LastError()}");
            int blocks = BlockCount(options, maxLength, blockBytes);
            var native = CudaModelConfig.From(config);
            native.MaxPositions = maxLength;
            native.BlockSize = options.KvBlockSize;
            native.NumBlocks = blocks;
            native.NumSlots = options.MaxLoras;
            native.MaxRank = options.MaxLoraRank;
            // A device too small for a full step fails here, at load, not on the first long prompt.
            native.MaxBatchTokens = options.MaxBatchTokens;
            native.WeightFormat = CudaWeightLoader.FormatOf(loadOptions.Quantization);
            native.LmHeadFormat = CudaWeightLoader.LmHeadFormatOf(loadOptions);
            model = CudaModel.Create(context, native);
            CudaWeightLoader.Load(model, directory, config, loadOptions);
            return new CudaModelRunner(context, model, info, directory, config, loadOptions, options, maxLength, blocks);
        }
        catch
        {
            model?.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <summary>What the kernels cannot serve, as an <see cref="ArgumentException"/> naming the value.</summary>
    public static void Validate(int device, ModelConfig config, ModelRunnerOptions options, ModelLoadOptions? loadOptions = null)
    {
        if (device != CudaContext.HostDevice)
            ArgumentOutOfRangeException.ThrowIfNegative(device);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        config.Validate("config.json"); // positive sizes, even head_dim, GQA grouping, rope kinds (default, linear, llama3: the kernels' three)
        if (config.HeadDim > MaxHeadDim)
            throw new ArgumentException($"head_dim {config.HeadDim}: the CUDA attention kernels take head_dim <= {MaxHeadDim}.", nameof(config));
        if (options.MaxLoraRank < 1 || options.MaxLoraRank > MaxLoraRank)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxLoraRank, $"MaxLoraRank must be in [1, {MaxLoraRank}] on CUDA.");
        if (options.MaxLoras < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxLoras, "MaxLoras must be >= 0.");
        if (options.MaxSequences < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxSequences, "MaxSequences must be >= 1.");
        if (options.KvCacheBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.KvCacheBytes, "KvCacheBytes must be positive.");
        if (options.KvBlockSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.KvBlockSize, "KvBlockSize must be >= 1: the CUDA runner's KV cache is paged only (0, fixed slots, is the CPU runner's).");
        if (options.MaxSequenceLength < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxSequenceLength, "MaxSequenceLength must be >= 0 (0: the model's context).");
        if (options.AdapterDtype is not "bfloat16")
            throw new ArgumentException($"AdapterDtype '{options.AdapterDtype}': the CUDA SGMV kernels take bfloat16 tables.", nameof(options));
        if (loadOptions is not null)
        {
            if (loadOptions.MaxSequenceLength < 0)
                throw new ArgumentOutOfRangeException(nameof(loadOptions), loadOptions.MaxSequenceLength, "ModelLoadOptions.MaxSequenceLength must be >= 0 (0: the model's context).");
            _ = CudaWeightLoader.FormatOf(loadOptions.Quantization); // none, nf4, int8; anything else is refused by name
        }
    }

    /// <summary>Positions per sequence: the model's context, lowered by either option (as the CPU runner).</summary>
    private static int MaxLength(ModelConfig config, ModelLoadOptions loadOptions, ModelRunnerOptions options)
    {
        int length = config.MaxPositionEmbeddings;
        if (loadOptions.MaxSequenceLength > 0)
            length = Math.Min(length, loadOptions.MaxSequenceLength);
        if (options.MaxSequenceLength > 0)
            length = Math.Min(length, options.MaxSequenceLength);
        return length;
    }

    /// <summary>Blocks the budget buys, never more than MaxSequences full-length sequences take (as the CPU runner).</summary>
    private static int BlockCount(ModelRunnerOptions options, int maxLength, long blockBytes)
    {
        int perSequence = (maxLength + options.KvBlockSize - 1) / options.KvBlockSize;
        long blocks = Math.Min(options.KvCacheBytes / blockBytes, (long)options.MaxSequences * perSequence);
        if (blocks < perSequence)
            throw new ArgumentException(
                $"KV cache budget of {options.KvCacheBytes} bytes holds {blocks} blocks of {options.KvBlockSize} positions ({blockBytes} bytes each); one sequence of {maxLength} positions needs {perSequence}. Raise the budget or lower MaxSequenceLength.",
                nameof(options));
        return (int)Math.Min(blocks, int.MaxValue);
    }

    /// <summary>The device (for host emulation: index <see cref="CudaContext.HostDevice"/>, the CPU's name).</summary>
    public CudaDeviceInfo Device { get; }

    /// <summary>Whether this runner runs in host emulation (<see cref="CudaContext.HostDevice"/>).</summary>
    public bool IsHostEmulation => Device.Index == CudaContext.HostDevice;

    /// <summary>
    /// Bytes the model holds on its device by use (olora_cuda_model_memory), as of the last forward. Read on the engine
    /// thread after loading and after each forward (activation buffers grow with the largest batch so far), and published
    /// here: <see cref="DescribeDevice"/> runs on other threads, and the model is not thread-safe.
    /// </summary>
    public CudaModelMemory ModelMemory => _memory;

    public ModelConfig Config { get; }

    public string Description { get; }

    public int MaxSequenceLength { get; }

    public int SequenceSlots => _handleUsed.Length;

    public int FreeSequenceSlots => _handles.Count;

    public KvBlockLayout KvBlocks { get; }

    public int AdapterSlots => _options.MaxLoras;

    public int MaxAdapterRank => _options.MaxLoraRank;

    public bool ReturnsTokenLogits => true;

    /// <summary>Device memory this runner's context holds, and the device's free and total memory now.</summary>
    public (long ContextBytes, long FreeBytes, long TotalBytes) Memory() => _context.Memory();

    /// <summary>
    /// A GPU: its name and memory, used = total − free from <c>cudaMemGetInfo</c> (the whole device's, other processes
    /// included, as <c>nvidia-smi</c> shows it; not run on a GPU from here). Host emulation: the CPU, with what the model holds.
    /// </summary>
    public DeviceDescription DescribeDevice()
    {
        if (IsHostEmulation)
            return new DeviceDescription(DeviceDescription.Cpu, Device.Name, CpuDevice.MemoryTotalBytes, ModelMemory.TotalBytes);
        var (_, free, total) = _context.Memory();
        return new DeviceDescription(DeviceDescription.Cuda, Device.Name, total, total - free);
    }

    public bool TryAllocateSequence(out int slot)
    {
        if (!_handles.TryPop(out slot))
            return false;
        _handleUsed[slot] = true;
        return true;
    }

    public void FreeSequence(int slot)
    {
        if ((uint)slot >= (uint)_handleUsed.Length || !_handleUsed[slot])
            throw new InvalidOperationException($"sequence handle {slot} is not in use.");
        _handleUsed[slot] = false;
        _handles.Push(slot);
    }

    public void CopyKvBlocks(int[] sourceDestinationPairs)
    {
        ArgumentNullException.ThrowIfNull(sourceDestinationPairs);
        if (sourceDestinationPairs.Length % 2 != 0)
            throw new ArgumentException("block copies come in (source, destination) pairs.", nameof(sourceDestinationPairs));
        if (sourceDestinationPairs.Length == 0)
            return;
        foreach (int block in sourceDestinationPairs)
        {
            if ((uint)block >= (uint)KvBlocks.BlockCount)
                throw new ArgumentOutOfRangeException(nameof(sourceDestinationPairs), block, $"KV block {block} is outside [0, {KvBlocks.BlockCount}).");
        }
        fixed (int* pairs = sourceDestinationPairs)
            _model.CopyBlocks(pairs, sourceDestinationPairs.Length / 2);
    }

    public PeftAdapterInfo InspectAdapter(string directory, AdapterLoadOptions options) =>
        PeftAdapter.Inspect(directory, Config, options);

    /// <summary>A PEFT adapter read into bf16 host tables (A [layers, r, in], Bᵀ [layers, r, out], scaling folded in).</summary>
    public HostAdapter PrepareAdapter(string directory, AdapterLoadOptions options) =>
        PreparedAdapter.Load(directory, Config, ScalarType.BFloat16, options);

    public void LoadAdapter(int slot, HostAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        CheckSlot(slot);
        if (adapter is not PreparedAdapter prepared)
            throw new ArgumentException($"adapter {adapter.Info.Name} was not prepared by this runner.", nameof(adapter));
        if (prepared.Rank > MaxAdapterRank)
            throw new ArgumentException($"adapter {adapter.Info.Name} has rank {prepared.Rank}; this runner's MaxLoraRank is {MaxAdapterRank}.", nameof(adapter));
        var modules = CudaAdapterTable.Of(prepared, Config);
        _model.ClearAdapter(slot);
        try
        {
            foreach (var m in modules)
            {
                for (int layer = 0; layer < Config.NumHiddenLayers; layer++)
                {
                    int rank = prepared.Ranks[layer, m.Module];
                    if (rank == 0)
                        continue;
                    _model.SetAdapter(slot, layer, m.Module, rank, m.A + (long)layer * m.Rank * m.InFeatures, m.Bt + (long)layer * m.Rank * m.OutFeatures);
                }
            }
            GC.KeepAlive(prepared);
        }
        catch
        {
            // A half-loaded slot must add nothing: the engine will not name it until the next successful load.
            try
            {
                _model.ClearAdapter(slot);
            }
            catch (CudaException)
            {
            }
            throw;
        }
    }

    public void EvictAdapter(int slot)
    {
        CheckSlot(slot);
        _model.ClearAdapter(slot);
    }

    private void CheckSlot(int slot)
    {
        if (AdapterSlots == 0)
            throw new InvalidOperationException("this runner has no adapter slots (MaxLoras = 0).");
        if ((uint)slot >= (uint)AdapterSlots)
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"adapter slot must be in [0, {AdapterSlots}).");
    }

    public ModelLogits Forward(ModelBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var packed = CudaForwardBatch.Pack(batch, KvBlocks.BlockSize, MaxSequenceLength);
        int vocab = Config.VocabSize;
        long floats = (long)packed.LogitRows.Length * vocab;
        if (floats > Array.MaxLength)
            throw new ArgumentException($"{packed.LogitRows.Length} logit rows of {vocab} do not fit one array; ask for fewer token logits per batch.", nameof(batch));
        // The array is reused step after step; a result still held undisposed keeps its own.
        if (_logits.Length < floats || _lastLogits is { Disposed: false })
            _logits = new float[floats];
        fixed (int* tokens = batch.TokenIds)
        fixed (int* starts = packed.Starts)
        fixed (int* counts = packed.Counts)
        fixed (int* slots = packed.AdapterSlots)
        fixed (int* tables = packed.BlockTables)
        fixed (int* rows = packed.LogitRows)
        fixed (float* logits = _logits)
        {
            _model.Forward(batch.TokenIds.Length, tokens, packed.Starts.Length, starts, counts, slots, tables, packed.BlockTableStride,
                packed.LogitRows.Length, rows, logits);
        }
        var memory = _model.Memory();
        if (memory != _memory)
            _memory = memory;
        _lastLogits = new CudaLogits(_logits, batch.Sequences.Count, vocab, packed.TokenRows);
        return _lastLogits;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _model.Dispose();
        _context.Dispose();
    }
}
