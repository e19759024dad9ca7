using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Devices;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// The CUDA backend behind <see cref="IModelRunner"/>: a <see cref="CudaContext"/> on one device, KV sequence slots,
/// adapter inspection. INCOMPLETE: libolora_cuda has the layer kernels but no whole-model forward yet, so
/// <see cref="PrepareAdapter"/>, <see cref="LoadAdapter"/>, <see cref="EvictAdapter"/> and <see cref="Forward"/>
/// throw <see cref="NotSupportedException"/> (and the worker refuses CUDA devices at start-up, docs/GPU.md). What
/// it does do: every argument is validated against the kernels' limits before the library is touched, and
/// without a GPU <see cref="Create"/> fails with a <see cref="CudaException"/> naming the CUDA runtime's reason.
/// </summary>
public sealed class CudaModelRunner : IModelRunner
{
    /// <summary>Largest LoRA rank (the SGMV kernels' tested range, 1-128).</summary>
    public const int MaxLoraRank = 128;

    /// <summary>Largest head dimension of the attention kernels.</summary>
    public const int MaxHeadDim = 256;

    public const string NotImplemented = "the CUDA runner has no whole-model forward yet (docs/GPU.md)";

    private readonly CudaContext _context;
    private readonly ModelRunnerOptions _options;
    private readonly bool[] _sequenceUsed;
    private int _freeSequences;

    private CudaModelRunner(CudaContext context, CudaDeviceInfo device, ModelConfig config, ModelRunnerOptions options)
    {
        _context = context;
        _options = options;
        Device = device;
        Config = config;
        MaxSequenceLength = options.MaxSequenceLength > 0 ? options.MaxSequenceLength : config.MaxPositionEmbeddings;
        _sequenceUsed = new bool[options.MaxSequences];
        _freeSequences = options.MaxSequences;
    }

    /// <summary>Validates the arguments, then opens a context on <c>cuda:<paramref name="device"/></c>.</summary>
    public static CudaModelRunner Create(int device, ModelConfig config, ModelRunnerOptions options)
    {
        Validate(device, config, options);
        var cuda = CudaLibrary.Probe();
        if (!cuda.Available)
            throw new CudaException(CudaStatus.NoDevice, $"cuda:{device}: {cuda.Reason}");
        if (device >= cuda.Devices.Count)
            throw new ArgumentOutOfRangeException(nameof(device), device, $"this machine has {cuda.Devices.Count} CUDA device(s)");
        var context = CudaContext.Create(device);
        return new CudaModelRunner(context, cuda.Devices[device], config, options);
    }

    /// <summary>What the kernels cannot serve, as an <see cref="ArgumentException"/> naming the value.</summary>
    public static void Validate(int device, ModelConfig config, ModelRunnerOptions options)
    {
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
        if (options.MaxSequenceLength < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxSequenceLength, "MaxSequenceLength must be >= 0 (0: the model's context).");
        if (options.AdapterDtype is not "bfloat16")
            throw new ArgumentException($"AdapterDtype '{options.AdapterDtype}': the CUDA SGMV kernels take bfloat16 tables.", nameof(options));
    }

    public CudaDeviceInfo Device { get; }

    public ModelConfig Config { get; }

    public string Description => $"CUDA runner on cuda:{Device.Index} {Device.Name} (sm {Device.ComputeCapability}): kernels only, {NotImplemented}";

    public int MaxSequenceLength { get; }

    public int SequenceSlots => _sequenceUsed.Length;

    public int FreeSequenceSlots => _freeSequences;

    public int AdapterSlots => _options.MaxLoras;

    public int MaxAdapterRank => _options.MaxLoraRank;

    /// <summary>Device memory this runner holds, and the device's free and total memory now.</summary>
    public (long ContextBytes, long FreeBytes, long TotalBytes) Memory() => _context.Memory();

    /// <summary>
    /// The device's name and memory; used = total − free from <c>cudaMemGetInfo</c>, the whole device's (other
    /// processes included), as <c>nvidia-smi</c> shows it. Never run on a GPU (docs/GPU.md).
    /// </summary>
    public DeviceDescription DescribeDevice()
    {
        var (_, free, total) = _context.Memory();
        return new DeviceDescription(DeviceDescription.Cuda, Device.Name, total, total - free);
    }

    public bool TryAllocateSequence(out int slot)
    {
        slot = Array.IndexOf(_sequenceUsed, false);
        if (slot < 0)
            return false;
        _sequenceUsed[slot] = true;
        _freeSequences--;
        return true;
    }

    public void FreeSequence(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, _sequenceUsed.Length);
        if (!_sequenceUsed[slot])
            throw new InvalidOperationException($"sequence slot {slot} is not allocated.");
        _sequenceUsed[slot] = false;
        _freeSequences++;
    }

    public PeftAdapterInfo InspectAdapter(string directory, AdapterLoadOptions options) =>
        PeftAdapter.Inspect(directory, Config, options);

    public HostAdapter PrepareAdapter(string directory, AdapterLoadOptions options) => throw new NotSupportedException(NotImplemented);

    public void LoadAdapter(int slot, HostAdapter adapter) => throw new NotSupportedException(NotImplemented);

    public void EvictAdapter(int slot) => throw new NotSupportedException(NotImplemented);

    public ModelLogits Forward(ModelBatch batch) => throw new NotSupportedException(NotImplemented);

    public void Dispose() => _context.Dispose();
}
