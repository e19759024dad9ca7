using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// The disk → host half of the adapter tiers: reads and prepares adapters in the background
/// (<see cref="IModelRunner.PrepareAdapter"/>, at most <c>maxConcurrentLoads</c> at once, so a burst of cold
/// adapters does not take every core from the running batch), hands finished reads to the engine
/// thread, and keeps the prepared ones waiting for a device slot. The host cache and the device
/// slots are <see cref="AdapterResidency"/>'s. Engine thread, except <see cref="ReadOnArrival"/>.
/// </summary>
internal sealed partial class AdapterLoader(IModelRunner runner, AdapterResidency residency, Func<string, AdapterLoadOptions> loadOptions, Action wake, int maxConcurrentLoads, ILogger logger) : IDisposable
{
    // Disk reads in flight: started by the engine thread, or by GenerateAsync's caller for a request on a cold adapter.
    private readonly ConcurrentDictionary<string, AdapterRegistration> _loading = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReadyAdapter> _ready = new(StringComparer.Ordinal); // engine thread: prepared, waiting for a slot
    private readonly ConcurrentQueue<AdapterLoadResult> _loaded = new();
    private readonly ConcurrentDictionary<Task, byte> _loadTasks = new();
    private readonly SemaphoreSlim _loadGate = new(maxConcurrentLoads);
    private volatile IReadOnlySet<string> _warm = new HashSet<string>(); // published: in a slot, the host cache or ready
    private int _readyCount;                                              // published: _ready.Count
    private volatile bool _stopped;

    /// <summary>Slot loads whose weights came from disk for that demand: read + copy time.</summary>
    public LatencySamples ColdLoads { get; } = new();

    /// <summary>Slot loads served by the host cache: copy time.</summary>
    public LatencySamples WarmLoads { get; } = new();

    /// <summary>Prepared and waiting for a slot.</summary>
    public bool IsReady(string id) => _ready.ContainsKey(id);

    /// <summary>Prepared, in the host cache, or being read: a slot for it can be filled soon.</summary>
    public bool IsOnTheWay(string id) => _ready.ContainsKey(id) || _loading.ContainsKey(id) || residency.HostCache.Contains(id);

    /// <summary>
    /// Engine thread: starts reading <paramref name="id"/> from disk unless it is resident, prepared,
    /// cached on the host or already loading. At most <paramref name="prefetchLimit"/> adapters are
    /// loading or prepared-and-waiting at once, so a crowd of cold adapters does not fill host memory.
    /// </summary>
    public void EnsureLoading(string id, int prefetchLimit)
    {
        if (residency.SlotOf(id) >= 0 || IsOnTheWay(id))
            return;
        if (_loading.Count + _ready.Count >= prefetchLimit || !residency.TryGet(id, out var registration))
            return;
        StartRead(registration);
    }

    /// <summary>
    /// Caller's thread, for a request just queued: when its adapter is neither in a slot, nor in
    /// host memory, nor already being read (as the engine thread last published), the disk read
    /// starts now. Otherwise it would start only when the step in flight ends, and the request
    /// would join the batch a step later than the read needs. The published set may be a step old;
    /// a read it starts needlessly is dropped or cached, never wrong.
    /// </summary>
    public void ReadOnArrival(string id, int prefetchLimit)
    {
        if (_stopped || _warm.Contains(id) || _loading.ContainsKey(id))
            return;
        if (_loading.Count + Volatile.Read(ref _readyCount) >= prefetchLimit || !residency.TryGet(id, out var registration))
            return;
        StartRead(registration);
    }

    /// <summary>Any thread: reads and prepares <paramref name="registration"/> in the background unless a read of it is in flight.</summary>
    private void StartRead(AdapterRegistration registration)
    {
        if (!_loading.TryAdd(registration.Id, registration))
            return;
        residency.HostCache.RecordMiss();
        var options = loadOptions(registration.Id);
        var task = Task.Run(async () =>
        {
            await _loadGate.WaitAsync().ConfigureAwait(false);
            try
            {
                var started = Stopwatch.GetTimestamp();
                // The weights are validated again: the files may have changed since registration.
                var prepared = runner.PrepareAdapter(registration.Info.Directory, options);
                _loaded.Enqueue(new AdapterLoadResult(registration, prepared, null, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            }
            catch (Exception ex)
            {
                _loaded.Enqueue(new AdapterLoadResult(registration, null, ex, 0));
            }
            finally
            {
                _loadGate.Release();
            }
            wake();
        });
        _loadTasks[task] = 0;
        task.ContinueWith(t => _loadTasks.TryRemove(t, out _), TaskScheduler.Default);
    }

    /// <summary>
    /// Engine thread: takes finished reads into the host cache and the ready set; a failed read is
    /// logged and handed to <paramref name="failed"/> (which fails whoever waited for it).
    /// </summary>
    public void DrainLoaded(Action<AdapterRegistration, Exception> failed)
    {
        while (_loaded.TryDequeue(out var result))
        {
            var registration = result.Registration;
            _loading.TryRemove(KeyValuePair.Create(registration.Id, registration));
            if (!residency.IsCurrent(registration))
            {
                result.Adapter?.Release(); // unregistered while it loaded
                continue;
            }
            if (result.Adapter is not { } prepared)
            {
                LogAdapterLoadFailed(logger, result.Error, registration.Id, registration.Info.Directory);
                failed(registration, new InvalidOperationException($"adapter \"{registration.Id}\" could not be loaded from {registration.Info.Directory}: {result.Error?.Message}", result.Error));
                continue;
            }
            residency.HostCache.Add(registration.Id, prepared);
            if (_ready.Remove(registration.Id, out var stale))
                stale.Adapter.Release();
            _ready[registration.Id] = new ReadyAdapter(prepared, result.ReadMilliseconds);
            LogAdapterRead(logger, registration.Id, result.ReadMilliseconds);
        }
    }

    /// <summary>
    /// Engine thread: copies <paramref name="id"/>'s prepared weights (read for it, or from the host
    /// cache) into device slot <paramref name="slot"/>; false, with the disk read started, when they
    /// are not in host memory yet.
    /// </summary>
    public bool TryInstall(string id, int slot, int prefetchLimit, long step)
    {
        ReadyAdapter? ready = null;
        if (_ready.Remove(id, out var prepared))
            ready = prepared;
        else if (residency.HostCache.TryTake(id, out var cached))
            ready = new ReadyAdapter(cached, null);
        if (ready is null)
        {
            EnsureLoading(id, prefetchLimit);
            return false;
        }
        try
        {
            var started = Stopwatch.GetTimestamp();
            residency.Install(slot, id, ready.Adapter, step);
            double copyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (ready.ReadMilliseconds is { } readMs)
                ColdLoads.Add(readMs + copyMs);
            else
                WarmLoads.Add(copyMs);
        }
        finally
        {
            ready.Adapter.Release();
        }
        return true;
    }

    /// <summary>Engine thread: lets go of prepared adapters nobody waits for (the host cache may still hold them).</summary>
    public void DropUnwanted(Func<string, bool> isWanted)
    {
        foreach (var (id, ready) in _ready.ToArray())
        {
            if (!isWanted(id))
            {
                _ready.Remove(id);
                ready.Adapter.Release();
            }
        }
    }

    /// <summary>Engine thread, at unregistration: the prepared copy goes; a read in flight is dropped as stale when it arrives.</summary>
    public void Forget(string id)
    {
        if (_ready.Remove(id, out var ready))
            ready.Adapter.Release();
        _loading.TryRemove(id, out _);
    }

    /// <summary>Engine thread: publishes what <see cref="ReadOnArrival"/> reads.</summary>
    public void Publish()
    {
        _warm = residency.WarmIds.Concat(_ready.Keys).ToHashSet(StringComparer.Ordinal);
        Volatile.Write(ref _readyCount, _ready.Count);
    }

    /// <summary>After the engine thread has ended: waits for reads in flight (they only read files) and frees every prepared copy.</summary>
    public void Dispose()
    {
        _stopped = true;
        Task.WaitAll([.. _loadTasks.Keys]);
        foreach (var ready in _ready.Values)
            ready.Adapter.Release();
        _ready.Clear();
        while (_loaded.TryDequeue(out var result))
            result.Adapter?.Release();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adapter {AdapterId} could not be loaded from {Directory}; its waiting requests fail")]
    private static partial void LogAdapterLoadFailed(ILogger logger, Exception? exception, string adapterId, string directory);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Adapter {AdapterId} read from disk and prepared in {Milliseconds} ms")]
    private static partial void LogAdapterRead(ILogger logger, string adapterId, double milliseconds);
}
