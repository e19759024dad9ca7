using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLora.Engine.Cuda;
using OrleansLora.Engine.Generation;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// The silo's inference engines, one per device (<see cref="LocalDevices.Targets"/>), each on its own thread (a DI
/// singleton created at start-up so the first request does not pay for loading the model). GPU grains are their
/// handles. A CPU target runs the CPU runner; a <c>cuda:N</c> target a <see cref="CudaModelRunner"/> on
/// that device (compiled, not run on a GPU), or on a host emulation context of its own under
/// <see cref="WorkerOptions.CudaHostEmulation"/>.
/// </summary>
public sealed class DeviceEngines : IAsyncDisposable
{
    private readonly InferenceEngine[] _engines;

    public DeviceEngines(IOptions<WorkerOptions> worker, IOptions<InferenceEngineOptions> engine, AdapterStore store, LocalDevices devices, ILoggerFactory loggers)
    {
        // The engines read adapter files only inside the adapter store (every file checked at open).
        var options = engine.Value with { AdapterRoot = store.Root };
        options.Validate();
        worker.Value.Validate(options.MaxLoras);
        _engines = new InferenceEngine[devices.Count];
        try
        {
            for (int i = 0; i < _engines.Length; i++)
                _engines[i] = Create(devices.Targets[i], options, loggers.CreateLogger<InferenceEngine>());
        }
        catch
        {
            foreach (var e in _engines)
                e?.Dispose();
            throw;
        }
        Options = options;
        PinnableSlots = Math.Max(0, options.MaxLoras - worker.Value.SwapSlots);
    }

    public int Count => _engines.Length;

    public InferenceEngineOptions Options { get; }

    /// <summary>Slots per device that adapter grains may pin.</summary>
    public int PinnableSlots { get; }

    /// <summary>The base model's name: its directory's name.</summary>
    public string BaseModelName => Path.GetFileName(Path.TrimEndingDirectorySeparator(Options.ModelPath));

    public InferenceEngine this[int device] => _engines[device];

    private static InferenceEngine Create(DeviceTarget target, InferenceEngineOptions options, ILogger<InferenceEngine> logger)
    {
        if (!target.IsCuda)
            return InferenceEngine.Create(options, logger);
        int device = target.HostEmulated ? CudaContext.HostDevice : target.Index;
        return InferenceEngine.Create(options, (path, load, runner) => CudaModelRunner.Load(path, load, runner, device), logger);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var e in _engines)
            await e.DisposeAsync();
    }
}
