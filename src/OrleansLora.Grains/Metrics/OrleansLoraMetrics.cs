using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OrleansLora.Devices;

namespace OrleansLora.Grains.Metrics;

/// <summary>
/// The <c>OrleansLora</c> meter: per adapter (requests, tokens, time to first token, queue time, errors;
/// the adapter tag bounded by <see cref="AdapterTagLimiter"/>) and per device (batch size, queue depth,
/// slots, loads, evictions, step time, tokens/s; tagged by device key; memory also by the device's name and kind).
/// </summary>
public sealed class OrleansLoraMetrics : IDisposable
{
    public const string MeterName = "OrleansLora";

    private readonly Meter _meter;
    private readonly AdapterTagLimiter _tags;
    private readonly ConcurrentDictionary<string, DeviceLoad> _devices = new(StringComparer.Ordinal);
    private readonly Counter<long> _requests, _promptTokens, _generatedTokens, _errors;
    private readonly Histogram<double> _ttft, _queueTime, _duration;

    public OrleansLoraMetrics(IMeterFactory meters, IOptions<MetricsOptions> options)
    {
        options.Value.Validate();
        _tags = new AdapterTagLimiter(options.Value.MaxAdapterTags);
        _meter = meters.Create(MeterName);
        _requests = _meter.CreateCounter<long>("olora.adapter.requests", "{request}", "Generation requests finished, by adapter and outcome (ok, error, cancelled).");
        _promptTokens = _meter.CreateCounter<long>("olora.adapter.prompt_tokens", "{token}", "Prompt tokens processed, by adapter.");
        _generatedTokens = _meter.CreateCounter<long>("olora.adapter.generated_tokens", "{token}", "Tokens generated, by adapter.");
        _errors = _meter.CreateCounter<long>("olora.adapter.errors", "{error}", "Failed generations, by adapter and error type.");
        _ttft = _meter.CreateHistogram<double>("olora.adapter.time_to_first_token", "ms", "From the adapter grain receiving the request to the first generated token.");
        _queueTime = _meter.CreateHistogram<double>("olora.adapter.queue_time", "ms", "From the adapter grain receiving the request to the device accepting it (activation, pinning, adapter load).");
        _duration = _meter.CreateHistogram<double>("olora.adapter.request_duration", "ms", "Whole generation, by adapter.");
        Gauge("olora.device.batch_size", "{sequence}", "Sequences in the device's running batch.", d => d.RunningSequences);
        Gauge("olora.device.queue_depth", "{request}", "Requests waiting for admission on the device.", d => d.WaitingRequests);
        // Memory carries the device's name and kind as labels too, so a dashboard shows which CPU or GPU it is.
        _meter.CreateObservableGauge("olora.device.memory_total", () => _devices.Values.Select(d => new Measurement<long>(d.MemoryTotalBytes, Named(d))), "By",
            "The device's memory (the CPU: what this process may use).");
        _meter.CreateObservableGauge("olora.device.memory_used", () => _devices.Values.Select(d => new Measurement<long>(d.MemoryUsedBytes, Named(d))), "By",
            "Memory in use: on the CPU what the engine holds (weights, KV cache, adapter slot tables); on a GPU the device's.");
        // Slots: max_loras = pinnable (adapter_slots) + swap; of them, used = holding an adapter now (pinned or
        // swapped in by traffic) and pinned = held by a pin.
        Gauge("olora.device.max_loras", "{slot}", "All adapter slots of the device (the engine's MaxLoras): pinnable plus swap.", d => d.MaxLoras);
        Gauge("olora.device.adapter_slots", "{slot}", "Pinnable adapter slots on the device (MaxLoras - SwapSlots).", d => d.AdapterSlots);
        Gauge("olora.device.adapter_slots_swap", "{slot}", "Adapter slots kept out of pinning, for adapters swapped in by traffic.", d => d.SwapSlots);
        Gauge("olora.device.adapter_slots_used", "{slot}", "Adapter slots holding an adapter now, pinned or swapped in (occupied).", d => d.OccupiedSlots);
        Gauge("olora.device.adapter_slots_pinned", "{slot}", "Adapter slots held by a pin.", d => d.PinnedAdapters);
        Gauge("olora.device.requests_per_second", "{request}/s", "Generation requests per second of the device's adapters (measured load that placement evens out).", d => d.RequestsPerSecond);
        Gauge("olora.device.step_time", "ms", "Duration of the device's last batch step.", d => d.StepMilliseconds);
        Gauge("olora.device.tokens_per_second", "{token}/s", "Tokens generated per second over the last seconds.", d => d.TokensPerSecond);
        Gauge("olora.device.kv_blocks", "{block}", "KV blocks of the device's paged cache (0: fixed sequence slots).", d => d.KvBlocks);
        Gauge("olora.device.kv_blocks_used", "{block}", "KV blocks referenced by running sequences.", d => d.KvBlocksUsed);
        Gauge("olora.device.kv_blocks_cached", "{block}", "Full KV blocks kept by the prefix cache (reusable by a request with the same adapter and leading tokens).", d => d.KvBlocksCached);
        Gauge("olora.device.prefix_hit_rate", "1", "Prompt tokens served from the prefix cache ÷ prompt tokens admitted, since start.", d => d.PrefixHitRate);
        _meter.CreateObservableCounter("olora.device.preemptions", () => _devices.Values.Select(d => new Measurement<long>(d.Preemptions, Device(d))), "{sequence}", "Running sequences preempted (computed again later) because KV blocks ran out.");
        _meter.CreateObservableCounter("olora.device.adapter_loads", () => _devices.Values.Select(d => new Measurement<long>(d.AdapterLoads, Device(d))), "{load}", "Adapter loads into device slots.");
        _meter.CreateObservableCounter("olora.device.adapter_evictions", () => _devices.Values.Select(d => new Measurement<long>(d.AdapterEvictions, Device(d))), "{eviction}", "Adapters evicted from device slots.");
    }

    public string AdapterTag(string adapterId) => _tags.Tag(adapterId);

    /// <summary>Called by the silo's load publisher each time it publishes a device's load.</summary>
    public void ReportDevice(DeviceLoad load) => _devices[load.Key] = load;

    public void RemoveDevice(string key) => _devices.TryRemove(key, out _);

    public void RequestQueued(string tag, double queueMs) => _queueTime.Record(queueMs, Adapter(tag));

    public void FirstToken(string tag, double ttftMs) => _ttft.Record(ttftMs, Adapter(tag));

    public void RequestFinished(string tag, string outcome, int promptTokens, int generatedTokens, double durationMs, string? errorType = null)
    {
        var adapter = Adapter(tag);
        _requests.Add(1, adapter, new("outcome", outcome));
        if (promptTokens > 0)
            _promptTokens.Add(promptTokens, adapter);
        if (generatedTokens > 0)
            _generatedTokens.Add(generatedTokens, adapter);
        _duration.Record(durationMs, adapter);
        if (errorType is not null)
            _errors.Add(1, adapter, new("error.type", errorType));
    }

    private static KeyValuePair<string, object?> Adapter(string tag) => new("adapter", tag);

    private static KeyValuePair<string, object?> Device(DeviceLoad d) => new("device", d.Key);

    private static KeyValuePair<string, object?>[] Named(DeviceLoad d) => [Device(d), new("name", d.DeviceName), new("kind", d.DeviceKind)];

    private void Gauge(string name, string unit, string description, Func<DeviceLoad, double> read) =>
        _meter.CreateObservableGauge(name, () => _devices.Values.Select(d => new Measurement<double>(read(d), Device(d))), unit, description);

    public void Dispose() => _meter.Dispose();
}
