using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Diagnostics;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tokenization;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// Continuous batching on a dedicated thread: between steps sequences join (when a KV slot is
/// free) and leave (finished or cancelled); each step runs ONE forward over every running
/// sequence — a decode token for each, plus prompt chunks within <see cref="InferenceEngineOptions.MaxBatchTokens"/>.
/// Callers never block on compute: <see cref="GenerateAsync"/> streams chunks through a channel.
/// Requests wait in one queue per adapter; adapters move disk → host cache → device slot off the
/// step path (InferenceEngine.Adapters.cs, docs/ENGINE.md "Adapters").
/// </summary>
public sealed partial class InferenceEngine : IAsyncDisposable, IDisposable
{
    private readonly LlamaModel _model;
    private readonly KvCache _cache;
    private readonly InferenceEngineOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<SequenceState> _incoming = new();
    private readonly ConcurrentQueue<Action> _control = new(); // adapter pin/unpin/unregister, run between steps
    private readonly AdapterQueues _queues = new(); // waiting requests, one queue per adapter and one for the base model
    private readonly List<SequenceState> _running = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _thread;
    private int _queued;
    private long _steps, _generatedTokens, _prefillTokens;
    private double _lastStepMs;
    private int _runningCount, _freeSlots, _adapterSlotsUsed, _adapterSlotsPinned, _hostCached; // published by the engine thread for Statistics
    private IReadOnlyDictionary<string, int> _waitingByAdapter = new Dictionary<string, int>();
    private readonly TokenRate _tokenRate = new();
    private int _disposed;
    // Adapter tiers: created by the first RegisterAdapter, so an engine that serves no adapters pays nothing.
    private volatile AdapterResidency? _adapters;
    private readonly Lock _adapterGate = new();
    // Disk reads in flight: started by the engine thread, or by GenerateAsync's caller for a request on a cold adapter.
    private readonly ConcurrentDictionary<string, AdapterRegistration> _loading = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReadyAdapter> _ready = new(StringComparer.Ordinal);          // engine thread: prepared, waiting for a slot
    private volatile IReadOnlySet<string> _warmAdapters = new HashSet<string>();                     // published by the engine thread: in a slot, the host cache or ready
    private int _readyCount;                                                                          // published: _ready.Count
    private readonly List<PendingPin> _pendingPins = [];                                              // engine thread
    private readonly ConcurrentQueue<AdapterLoadResult> _loaded = new();
    private readonly ConcurrentDictionary<Task, byte> _loadTasks = new();
    private readonly SemaphoreSlim _loadGate = new(MaxConcurrentLoads);
    private readonly LatencySamples _coldLoads = new(), _warmLoads = new();

    public InferenceEngine(LlamaModel model, ITextTokenizer tokenizer, InferenceEngineOptions options, ILogger<InferenceEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _model = model;
        Tokenizer = tokenizer;
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        if (options.Threads > 0)
            set_num_threads(options.Threads);
        _cache = model.CreateKvCache(new KvCacheOptions { BudgetBytes = options.KvCacheBytes, MaxSequenceLength = options.MaxSequenceLength, MaxSlots = Math.Max(options.MaxBatchSize, 1) });
        _thread = new Thread(RunLoop) { IsBackground = true, Name = "olora-engine" };
        _thread.Start();
        LogStarted(_logger, model.Directory, model.Dtype.ToString(), model.Quantization.ToString(), NativeKernels.Isa, _cache.SlotCount, _cache.MaxSequenceLength);
    }

    /// <summary>Loads the model and tokenizer named by <paramref name="options"/> and starts the engine.</summary>
    public static InferenceEngine Create(InferenceEngineOptions options, ILogger<InferenceEngine>? logger = null)
    {
        options.Validate();
        NativeRuntime.EnsureInitialized();
        var model = LlamaModel.Load(options.ModelPath, new ModelLoadOptions { Dtype = options.Dtype, Quantization = options.Quantization, QuantizedCompute = options.QuantizedCompute, MaxSequenceLength = options.MaxSequenceLength });
        try
        {
            return new InferenceEngine(model, TokenizerLoader.Load(options.ModelPath), options, logger);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public ITextTokenizer Tokenizer { get; }
    public LlamaModel Model => _model;
    public int MaxSequenceLength => _cache.MaxSequenceLength;

    public EngineStatistics Statistics
    {
        get
        {
            var (loads, evictions, hits) = AdapterCounters;
            var host = _adapters?.HostCache;
            return new(
                Volatile.Read(ref _runningCount), Volatile.Read(ref _queued), Volatile.Read(ref _freeSlots), _cache.SlotCount,
                Interlocked.Read(ref _steps), Interlocked.Read(ref _generatedTokens), Interlocked.Read(ref _prefillTokens), Volatile.Read(ref _lastStepMs))
            {
                AdapterSlots = _options.MaxLoras,
                AdapterSlotsUsed = Volatile.Read(ref _adapterSlotsUsed),
                AdapterSlotsPinned = Volatile.Read(ref _adapterSlotsPinned),
                RegisteredAdapters = _adapters?.Registered ?? 0,
                AdapterLoads = loads,
                AdapterEvictions = evictions,
                AdapterHits = hits,
                HostCachedAdapters = Volatile.Read(ref _hostCached),
                HostCacheHits = host?.Hits ?? 0,
                HostCacheMisses = host?.Misses ?? 0,
                HostCacheEvictions = host?.Evictions ?? 0,
                ColdLoads = _coldLoads.Count,
                WarmLoads = _warmLoads.Count,
                ColdLoadMillisecondsP50 = _coldLoads.Percentile(50),
                ColdLoadMillisecondsP99 = _coldLoads.Percentile(99),
                WarmLoadMillisecondsP50 = _warmLoads.Percentile(50),
                WarmLoadMillisecondsP99 = _warmLoads.Percentile(99),
                WaitingByAdapter = Volatile.Read(ref _waitingByAdapter),
                TokensPerSecond = _tokenRate.PerSecond(Interlocked.Read(ref _generatedTokens)),
            };
        }
    }

    private Task OnEngineThread(Action action, CancellationToken cancellationToken) =>
        OnEngineThread<bool>(() =>
        {
            action();
            return true;
        }, cancellationToken);

    /// <summary>Runs <paramref name="func"/> on the engine thread between steps; its exception faults the task.</summary>
    private Task<T> OnEngineThread<T>(Func<T> func, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _control.Enqueue(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
                return;
            }
            try
            {
                done.TrySetResult(func());
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        });
        if (_shutdown.IsCancellationRequested)
            done.TrySetException(new ObjectDisposedException(nameof(InferenceEngine), "the engine was shut down."));
        else
            _wake.Release();
        return done.Task;
    }

    private void DrainControl()
    {
        while (_control.TryDequeue(out var action))
            action();
    }

    private void PublishState()
    {
        Volatile.Write(ref _runningCount, _running.Count);
        Volatile.Write(ref _freeSlots, _cache.FreeSlots);
        if (_adapters is { } residency)
        {
            Volatile.Write(ref _adapterSlotsUsed, residency.SlotsUsed);
            Volatile.Write(ref _adapterSlotsPinned, residency.SlotsPinned);
            Volatile.Write(ref _hostCached, residency.HostCache.Count);
            Volatile.Write(ref _waitingByAdapter, _queues.CountsByAdapter());
            _warmAdapters = residency.WarmIds.Concat(_ready.Keys).ToHashSet(StringComparer.Ordinal);
            Volatile.Write(ref _readyCount, _ready.Count);
        }
    }

    /// <summary>
    /// Queues a generation and streams its chunks; the last chunk carries the finish reason and
    /// usage. Bad requests throw <see cref="ArgumentException"/> here, before anything is queued.
    /// Cancelling <paramref name="cancellationToken"/> (or abandoning the enumeration) frees the
    /// sequence's KV slot at the next step.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        request.Sampling.Validate();
        if (request.AdapterId is { } adapterId && (_adapters is null || !_adapters.IsRegistered(adapterId)))
            throw new ArgumentException($"adapter \"{adapterId}\" is not registered with this engine.", nameof(request));
        var prompt = PreparePrompt(request);
        // Single writer is the engine thread, except the shutdown race below.
        var channel = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        SequenceState state;
        try
        {
            state = new SequenceState(request, prompt, Tokenizer, channel.Writer, linked.Token);
        }
        catch
        {
            linked.Dispose();
            throw;
        }
        if (Interlocked.Increment(ref _queued) > _options.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref _queued);
            linked.Dispose();
            throw new EngineOverloadedException($"the engine already has {_options.MaxQueuedRequests} requests waiting; retry later.");
        }
        var activity = EngineTelemetry.StartGenerate(request.AdapterId, prompt.Count);
        state.TraceContext = activity?.Context ?? default;
        _incoming.Enqueue(state);
        if (request.AdapterId is { } cold)
            ReadOnArrival(cold);
        if (_shutdown.IsCancellationRequested)
        {
            // Dispose may have drained the queues before this request arrived: end it here so the
            // caller is never left waiting (completing twice is harmless).
            channel.Writer.TryComplete(new ObjectDisposedException(nameof(InferenceEngine), "the engine was shut down."));
        }
        else
        {
            _wake.Release();
        }
        return Read(channel.Reader, linked, activity);
    }

    private static async IAsyncEnumerable<GenerationChunk> Read(ChannelReader<GenerationChunk> reader, CancellationTokenSource linked, Activity? activity, [EnumeratorCancellation] CancellationToken enumeratorToken = default)
    {
        var registration = enumeratorToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), linked);
        bool first = true;
        try
        {
            await foreach (var chunk in reader.ReadAllAsync(linked.Token).ConfigureAwait(false))
            {
                // The span is touched on the reading side only: the engine thread never sees it.
                if (activity is not null)
                {
                    if (first && chunk.TokenIds.Count > 0)
                    {
                        first = false;
                        activity.AddEvent(new ActivityEvent("first_token"));
                    }
                    if (chunk.Usage is { } usage)
                    {
                        activity.SetTag("olora.completion_tokens", usage.CompletionTokens);
                        activity.SetTag("olora.finish_reason", chunk.FinishReason?.ToString());
                    }
                }
                yield return chunk;
            }
        }
        finally
        {
            // Leaving early (break, dispose, cancellation) cancels the sequence in the engine.
            // The registration goes first so no callback can reach the disposed source.
            registration.Dispose();
            linked.Cancel();
            linked.Dispose();
            if (activity is not null)
            {
                if (reader.Completion is { IsFaulted: true } failed)
                    activity.SetStatus(ActivityStatusCode.Error, failed.Exception.InnerException?.Message);
                activity.Stop();
            }
        }
    }

    private IReadOnlyList<int> PreparePrompt(GenerationRequest request)
    {
        IReadOnlyList<int> tokens;
        if (request.PromptTokens is { } ids)
        {
            if (request.Prompt is not null)
                throw new ArgumentException("give either Prompt or PromptTokens, not both.", nameof(request));
            tokens = ids;
        }
        else if (request.Prompt is { } text)
        {
            tokens = Tokenizer.Encode(text, request.AddBos);
        }
        else
        {
            throw new ArgumentException("the request has no prompt.", nameof(request));
        }
        if (tokens.Count == 0)
            throw new ArgumentException("the prompt is empty.", nameof(request));
        // Checked for text prompts too: a tokenizer larger than the model's embedding must not
        // reach index_select with an out-of-range id.
        int vocab = _model.Config.VocabSize;
        foreach (int id in tokens)
        {
            if ((uint)id >= (uint)vocab)
                throw new ArgumentException($"prompt token id {id} is outside the model's vocabulary [0, {vocab}).", nameof(request));
        }
        if (tokens.Count >= _cache.MaxSequenceLength)
            throw new PromptTooLongException(tokens.Count, _cache.MaxSequenceLength);
        return tokens;
    }

    private void RunLoop()
    {
        var token = _shutdown.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                DrainControl();
                DrainLoaded();
                DrainIncoming();
                DropCancelled();
                Admit();
                PublishState();
                if (_running.Count == 0)
                {
                    _wake.Wait(token);
                    continue;
                }
                Step();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // A failed step fails the sequences in it, never the engine.
                LogStepFailed(_logger, ex, _running.Count);
                foreach (var s in _running.ToArray())
                    Finish(s, ex);
            }
        }
        foreach (var s in _running.Concat(_queues.All).Concat(_incoming).ToArray())
            s.Output.TryComplete(new ObjectDisposedException(nameof(InferenceEngine), "the engine was shut down."));
        foreach (var pin in _pendingPins)
            pin.Done.TrySetException(new ObjectDisposedException(nameof(InferenceEngine), "the engine was shut down."));
        DrainControl(); // OnEngineThread's shutdown check may have missed these; each completes its task
    }

    private void DrainIncoming()
    {
        while (_incoming.TryDequeue(out var s))
        {
            // Unregistered after GenerateAsync checked it: nothing would ever load it.
            if (s.Request.AdapterId is { } id && _adapters?.IsRegistered(id) != true)
            {
                Interlocked.Decrement(ref _queued);
                s.Output.TryComplete(new ArgumentException($"adapter \"{id}\" was unregistered before this request ran."));
                continue;
            }
            _queues.Enqueue(s);
        }
    }

    private void DropCancelled()
    {
        for (int i = _running.Count - 1; i >= 0; i--)
        {
            if (_running[i].Cancellation.IsCancellationRequested)
                Finish(_running[i], FinishReason.Cancelled);
        }
        _queues.RemoveWhere(s => s.Cancellation.IsCancellationRequested, s =>
        {
            Interlocked.Decrement(ref _queued);
            s.Output.TryComplete();
        });
    }

    /// <summary>
    /// Between steps, while KV slots and MaxBatchSize allow: pins first, then, again and again, the
    /// waiting request whose queue head has waited longest among those that can run now. A
    /// base-model request always can; an adapter's when the adapter is resident (and not draining)
    /// or can take a free or idle slot with its weights already in host memory. The others wait
    /// (their disk reads start in the background) while the rest go ahead; then busy slots are
    /// marked draining for adapters left outside.
    /// </summary>
    private void Admit()
    {
        var residency = _adapters;
        if (residency is not null)
            ServePendingPins();
        while (_running.Count < _options.MaxBatchSize && _cache.FreeSlots > 0 && _queues.Count > 0)
        {
            SequenceState? chosen = null;
            int adapterSlot = -1;
            foreach (var head in _queues.HeadsByWait())
            {
                if (head.Request.AdapterId is not { } id)
                {
                    chosen = head;
                    adapterSlot = -1;
                    break;
                }
                if (residency!.TryResident(id, out adapterSlot) || TryInstall(id, _options.MaxLoras, out adapterSlot))
                {
                    chosen = head;
                    break;
                }
            }
            if (chosen is null)
                break;
            _queues.DequeueHead(chosen);
            Interlocked.Decrement(ref _queued);
            if (adapterSlot >= 0)
            {
                residency!.Acquire(adapterSlot);
                chosen.AdapterSlot = adapterSlot;
            }
            _cache.TryAllocate(out int slot);
            chosen.Slot = slot;
            _running.Add(chosen);
        }
        if (residency is not null)
            ExchangeSlots();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _shutdown.Cancel();
        _thread.Join();
        // Loads in flight read files only; wait for them so none outlives the tensors' owner.
        Task.WaitAll([.. _loadTasks.Keys]);
        ReleaseAdapterBuffers();
        _cache.Dispose();
        _model.Adapters = null;
        _adapters?.Dispose();
        _model.Dispose();
        // _shutdown and _wake stay undisposed: a racing GenerateAsync may still read or release
        // them, and neither holds an OS handle here.
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine started: model {Model}, dtype {Dtype}, quantization {Quantization}, kernels {Isa}, {Slots} KV slots of {MaxLength} positions")]
    private static partial void LogStarted(ILogger logger, string model, string dtype, string quantization, string isa, int slots, int maxLength);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {RequestId} failed after its step")]
    private static partial void LogSequenceFailed(ILogger logger, Exception exception, string requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adapter {AdapterId} could not be loaded from {Directory}; its waiting requests fail")]
    private static partial void LogAdapterLoadFailed(ILogger logger, Exception? exception, string adapterId, string directory);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Adapter {AdapterId} read from disk and prepared in {Milliseconds} ms")]
    private static partial void LogAdapterRead(ILogger logger, string adapterId, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Engine step failed; failing its {Count} sequences")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, int count);
}
