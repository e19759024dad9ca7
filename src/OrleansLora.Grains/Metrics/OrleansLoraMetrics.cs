using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OrleansLora.Devices;

namespace OrleansLora.Grains.Metrics;

/// <summary>
/// The <c>OrleansLora</c> meter: per adapter (requests, tokens, time to first token, queue time, errors;
/// the adapter tag bounded by <see cref="AdapterTagLimiter"/>) and per device (batch size, queue depth,
/// slots, loads, evictions, step time, tokens/s; tagged by device key).
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
        Gauge("olora.device.adapter_slots", "{slot}", "Pinnable adapter slots on the device.", d => d.AdapterSlots);
        Gauge("olora.device.adapter_slots_used", "{slot}", "Adapter slots pinned on the device.", d => d.PinnedAdapters);
        Gauge("olora.device.step_time", "ms", "Duration of the device's last batch step.", d => d.StepMilliseconds);
        Gauge("olora.device.tokens_per_second", "{token}/s", "Tokens generated per second over the last seconds.", d => d.TokensPerSecond);
        _meter.CreateObservableCounter("olora.device.adapter_loads", () => _devices.Values.Select(d => new Measurement<long>(d.AdapterLoads, Device(d))), "{load}", "Adapter loads into device slots.");
        _meter.CreateObservableCounter("olora.device.adapter_evictions", () => _devices.Values.Select(d => new Measurement<long>(d.AdapterEvictions, Device(d))), "{eviction}", "Adapters evicted from device slots.");
    }

    public string AdapterTag(string adapterId) => _tags.Tag(adapterId);

    /// <summary>Called by a GPU grain each time it publishes its load.</summary>
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

    private void Gauge(string name, string unit, string description, Func<DeviceLoad, double> read) =>
        _meter.CreateObservableGauge(name, () => _devices.Values.Select(d => new Measurement<double>(read(d), Device(d))), unit, description);

    public void Dispose() => _meter.Dispose();
}
