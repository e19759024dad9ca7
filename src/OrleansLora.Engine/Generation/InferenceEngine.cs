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
using OrleansLora.Engine.Runners;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// Continuous batching on a dedicated thread, the thin loop that joins the parts: between steps
/// sequences join (<see cref="BatchScheduler"/>: when a KV slot is free) and leave (finished or
/// cancelled); each step runs ONE forward on the <see cref="IModelRunner"/> over every running
/// sequence — a decode token for each, plus prompt chunks within <see cref="InferenceEngineOptions.MaxBatchTokens"/> —
/// and samples the rows that are ready. Callers never block on compute: <see cref="GenerateAsync"/>
/// streams chunks through a channel. Adapters move disk → host cache → device slot off the step
/// path (<see cref="AdapterLoader"/>, <see cref="AdapterResidency"/>; pins in InferenceEngine.Adapters.cs).
/// Nothing here touches a tensor.
/// </summary>
public sealed partial class InferenceEngine : IAsyncDisposable, IDisposable
{
    private readonly IModelRunner _runner;
    private readonly InferenceEngineOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<SequenceState> _incoming = new();
    private readonly ConcurrentQueue<Action> _control = new(); // adapter pin/unpin/unregister, run between steps
    private readonly BatchScheduler _scheduler;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _thread;
    private long _steps, _generatedTokens, _prefillTokens;
    private double _lastStepMs;
    private int _runningCount, _freeSlots, _adapterSlotsUsed, _adapterSlotsPinned, _hostCached; // published by the engine thread for Statistics
    private IReadOnlyDictionary<string, int> _waitingByAdapter = new Dictionary<string, int>();
    private int _kvBlocksUsed, _kvBlocksFree, _kvBlocksCached; // published by the engine thread (paged cache)
    private long _prefixLookupTokens, _prefixHitTokens, _preemptions, _kvBlockEvictions;
    private readonly TokenRate _tokenRate = new();
    private int _disposed;
    // Adapter tiers: created by the first RegisterAdapter, so an engine that serves no adapters pays
    // nothing. _loader is set before _adapters, so a reader that sees _adapters sees the loader.
    private volatile AdapterResidency? _adapters;
    private volatile AdapterLoader? _loader;
    private readonly Lock _adapterGate = new();
    private readonly List<PendingPin> _pendingPins = []; // engine thread

    /// <summary>Runs the engine over <paramref name="runner"/>, which it owns from here on (disposed with the engine).</summary>
    public InferenceEngine(IModelRunner runner, ITextTokenizer tokenizer, InferenceEngineOptions options, ILogger<InferenceEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _runner = runner;
        Tokenizer = tokenizer;
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var blocks = runner.KvBlocks is { } layout ? new KvBlockAllocator(layout, options.PrefixCaching) : null;
        _scheduler = new BatchScheduler(options.MaxBatchSize, options.MaxBatchTokens, options.MaxQueuedRequests, blocks);
        _thread = new Thread(RunLoop) { IsBackground = true, Name = "olora-engine" };
        _thread.Start();
        if (blocks is not null)
            LogStartedPaged(_logger, runner.Description, blocks.BlockCount, blocks.BlockSize, runner.MaxSequenceLength, options.PrefixCaching);
        else
            LogStarted(_logger, runner.Description, runner.SequenceSlots, runner.MaxSequenceLength);
    }

    /// <summary>Runs the engine on <paramref name="model"/> on the CPU (a <see cref="CpuModelRunner"/>), owning it from here on.</summary>
    public InferenceEngine(LlamaModel model, ITextTokenizer tokenizer, InferenceEngineOptions options, ILogger<InferenceEngine>? logger = null)
        : this(CpuRunner(model, options), tokenizer, options, logger)
    {
    }

    private static CpuModelRunner CpuRunner(LlamaModel model, InferenceEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(); // before the KV cache is allocated
        return new CpuModelRunner(model, ModelRunnerOptions.From(options));
    }

    /// <summary>Loads the model and tokenizer named by <paramref name="options"/> and starts the engine.</summary>
    public static InferenceEngine Create(InferenceEngineOptions options, ILogger<InferenceEngine>? logger = null) =>
        Create(options, CpuModelRunner.Load, logger);

    /// <summary>
    /// Loads <see cref="InferenceEngineOptions.ModelPath"/> through <paramref name="load"/> (a runner on some device, e.g.
    /// <c>CudaModelRunner.Load</c> bound to a device) and wraps an engine around it.
    /// </summary>
    public static InferenceEngine Create(InferenceEngineOptions options, Func<string, ModelLoadOptions, ModelRunnerOptions, IModelRunner> load, ILogger<InferenceEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(load);
        options.Validate();
        var runner = load(
            options.ModelPath,
            new ModelLoadOptions { Dtype = options.Dtype, Quantization = options.Quantization, QuantizedCompute = options.QuantizedCompute, MaxSequenceLength = options.MaxSequenceLength },
            ModelRunnerOptions.From(options));
        try
        {
            return new InferenceEngine(runner, TokenizerLoader.Load(options.ModelPath), options, logger);
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    public ITextTokenizer Tokenizer { get; }
    /// <summary>What computes: the model, its KV cache and adapter slots on a device.</summary>
    public IModelRunner Runner => _runner;
    public int MaxSequenceLength => _runner.MaxSequenceLength;

    public EngineStatistics Statistics
    {
        get
        {
            var (loads, evictions, hits) = AdapterCounters;
            var host = _adapters?.HostCache;
            var loader = _loader;
            return new(
                Volatile.Read(ref _runningCount), _scheduler.Queued, Volatile.Read(ref _freeSlots), _runner.SequenceSlots,
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
                ColdLoads = loader?.ColdLoads.Count ?? 0,
                WarmLoads = loader?.WarmLoads.Count ?? 0,
                ColdLoadMillisecondsP50 = loader?.ColdLoads.Percentile(50) ?? 0,
                ColdLoadMillisecondsP99 = loader?.ColdLoads.Percentile(99) ?? 0,
                WarmLoadMillisecondsP50 = loader?.WarmLoads.Percentile(50) ?? 0,
                WarmLoadMillisecondsP99 = loader?.WarmLoads.Percentile(99) ?? 0,
                WaitingByAdapter = Volatile.Read(ref _waitingByAdapter),
                TokensPerSecond = _tokenRate.PerSecond(Interlocked.Read(ref _generatedTokens)),
                KvBlockSize = _scheduler.Blocks?.BlockSize ?? 0,
                KvBlocks = _scheduler.Blocks?.BlockCount ?? 0,
                KvBlocksUsed = Volatile.Read(ref _kvBlocksUsed),
                KvBlocksFree = Volatile.Read(ref _kvBlocksFree),
                KvBlocksCached = Volatile.Read(ref _kvBlocksCached),
                KvBlockEvictions = Interlocked.Read(ref _kvBlockEvictions),
                PrefixLookupTokens = Interlocked.Read(ref _prefixLookupTokens),
                PrefixHitTokens = Interlocked.Read(ref _prefixHitTokens),
                Preemptions = Interlocked.Read(ref _preemptions),
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
        Volatile.Write(ref _runningCount, _scheduler.Running.Count);
        Volatile.Write(ref _freeSlots, _runner.FreeSequenceSlots);
        if (_scheduler.Blocks is { } blocks)
        {
            Volatile.Write(ref _kvBlocksUsed, blocks.UsedBlocks);
            Volatile.Write(ref _kvBlocksFree, blocks.AvailableBlocks);
            Volatile.Write(ref _kvBlocksCached, blocks.CachedBlocks);
            Interlocked.Exchange(ref _kvBlockEvictions, blocks.Evictions);
            Interlocked.Exchange(ref _prefixLookupTokens, blocks.LookupTokens);
            Interlocked.Exchange(ref _prefixHitTokens, blocks.HitTokens);
            Interlocked.Exchange(ref _preemptions, _scheduler.Preemptions);
        }
        if (_adapters is { } residency)
        {
            Volatile.Write(ref _adapterSlotsUsed, residency.SlotsUsed);
            Volatile.Write(ref _adapterSlotsPinned, residency.SlotsPinned);
            Volatile.Write(ref _hostCached, residency.HostCache.Count);
            Volatile.Write(ref _waitingByAdapter, _scheduler.WaitingByAdapter());
            _loader!.Publish();
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
        if (request.Sampling.PromptLogprobs is not null && !_runner.ReturnsTokenLogits)
            throw new ArgumentException($"prompt log-probabilities are not available: {_runner.GetType().Name} returns each sequence's last-token logits only.", nameof(SamplingParams.PromptLogprobs));
        if (request.AdapterId is { } adapterId && (_adapters is null || !_adapters.IsRegistered(adapterId)))
            throw new ArgumentException($"adapter \"{adapterId}\" is not registered with this engine.", nameof(request));
        var prompt = PreparePrompt(request);
        request.LogitsProcessor?.Start(Math.Min(request.Sampling.MaxNewTokens, _runner.MaxSequenceLength - prompt.Count));
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
        if (!_scheduler.TryReserve())
        {
            linked.Dispose();
            throw new EngineOverloadedException($"the engine already has {_options.MaxQueuedRequests} requests waiting; retry later.");
        }
        var activity = EngineTelemetry.StartGenerate(request.AdapterId, prompt.Count);
        state.TraceContext = activity?.Context ?? default;
        _incoming.Enqueue(state);
        if (request.AdapterId is { } cold && !_shutdown.IsCancellationRequested)
            _loader?.ReadOnArrival(cold, _options.MaxLoras);
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
        {
            throw new ArgumentException(request.Prompt is { Length: 0 }
                ? "the prompt is empty and this model's tokenizer adds no BOS token to it: there is nothing to generate from."
                : "the prompt is empty.", nameof(request));
        }
        // Checked for text prompts too: a tokenizer larger than the model's embedding must not
        // reach index_select with an out-of-range id.
        int vocab = _runner.Config.VocabSize;
        foreach (int id in tokens)
        {
            if ((uint)id >= (uint)vocab)
                throw new ArgumentException($"prompt token id {id} is outside the model's vocabulary [0, {vocab}).", nameof(request));
        }
        if (tokens.Count >= _runner.MaxSequenceLength)
            throw new PromptTooLongException(tokens.Count, _runner.MaxSequenceLength);
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
                _loader?.DrainLoaded(FailLoad);
                DrainIncoming();
                DropCancelled();
                Admit();
                PublishState();
                if (_scheduler.Running.Count == 0)
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
                LogStepFailed(_logger, ex, _scheduler.Running.Count);
                foreach (var s in _scheduler.Running.ToArray())
                    Finish(s, ex);
            }
        }
        foreach (var s in _scheduler.Running.Concat(_scheduler.WaitingRequests).Concat(_incoming).ToArray())
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
                _scheduler.Unreserve();
                s.Output.TryComplete(new ArgumentException($"adapter \"{id}\" was unregistered before this request ran."));
                continue;
            }
            _scheduler.Enqueue(s);
        }
    }

    private void DropCancelled()
    {
        foreach (var s in _scheduler.Running.Where(s => s.Cancellation.IsCancellationRequested).ToArray())
            Finish(s, FinishReason.Cancelled);
        _scheduler.RemoveWaiting(s => s.Cancellation.IsCancellationRequested, s => s.Output.TryComplete());
    }

    /// <summary>
    /// Between steps: pins first, then the scheduler admits waiting requests; an adapter's request
    /// runs when the adapter is resident (and not draining) or can take a free or idle slot with its
    /// weights already in host memory. The others wait (their disk reads start in the background)
    /// while the rest go ahead; then busy slots are marked draining for adapters left outside.
    /// </summary>
    private void Admit()
    {
        var residency = _adapters;
        if (residency is not null)
            ServePendingPins();
        _scheduler.Admit(_runner, AdapterSlotForRequest);
        if (residency is not null)
            ExchangeSlots();
    }

    private bool AdapterSlotForRequest(string adapterId, out int slot)
    {
        var residency = _adapters!;
        if (!residency.TryResident(adapterId, out slot) && !TryInstall(adapterId, _options.MaxLoras, out slot))
            return false;
        residency.Acquire(slot);
        return true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _shutdown.Cancel();
        _thread.Join();
        // Loads in flight read files only; the loader waits for them so none outlives the runner.
        _loader?.Dispose();
        _adapters?.Dispose();
        _runner.Dispose();
        // _shutdown and _wake stay undisposed: a racing GenerateAsync may still read or release
        // them, and neither holds an OS handle here.
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine started: {Runner}, {Blocks} KV blocks of {BlockSize} positions (sequences up to {MaxLength}), prefix caching {PrefixCaching}")]
    private static partial void LogStartedPaged(ILogger logger, string runner, int blocks, int blockSize, int maxLength, bool prefixCaching);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sequence {RequestId} preempted at {Tokens} tokens: its KV blocks went to older sequences; it will be computed again")]
    private static partial void LogPreempted(ILogger logger, string requestId, int tokens);

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine started: {Runner}, {Slots} KV slots of {MaxLength} positions")]
    private static partial void LogStarted(ILogger logger, string runner, int slots, int maxLength);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {RequestId} failed after its step")]
    private static partial void LogSequenceFailed(ILogger logger, Exception exception, string requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Engine step failed; failing its {Count} sequences")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, int count);
}
