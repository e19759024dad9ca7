using System.Globalization;
using System.Text;
using OrleansLora.Engine.Generation;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Server.Observability;

/// <summary>
/// vLLM's <c>vllm:lora_requests_info</c> gauge for this silo's engines, which the Kubernetes Gateway API Inference
/// Extension reads to route LoRA traffic to a server that has the adapter: labels <c>running_lora_adapters</c>
/// (adapters in a device slot, comma-separated), <c>waiting_lora_adapters</c> (adapters with requests waiting for
/// admission) and <c>max_lora</c>; the value is the time of the snapshot in Unix seconds, as vLLM sets it.
/// An OpenTelemetry instrument cannot carry the name (':' is not allowed there), so the line is written as text.
/// </summary>
public sealed class LoraRequestsInfo(LocalDevices devices, IServiceProvider services, TimeProvider time)
{
    public const string MetricName = "vllm:lora_requests_info";

    /// <summary>How long a scrape waits for an engine's adapter list (served between steps) before using the last one.</summary>
    private static readonly TimeSpan ListWait = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private IReadOnlyList<string>[] _lastRunning = [];

    /// <summary>The metric's lines in Prometheus text format, or "" on a silo without devices.</summary>
    public async Task<string> RenderAsync(CancellationToken cancellationToken)
    {
        if (devices.Count == 0 || services.GetService<DeviceEngines>() is not { } engines)
            return "";
        var running = new SortedSet<string>(StringComparer.Ordinal);
        var waiting = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < engines.Count; i++)
        {
            var engine = engines[i];
            foreach (var (id, count) in engine.Statistics.WaitingByAdapter)
            {
                if (count > 0)
                    waiting.Add(id);
            }
            running.UnionWith(await RunningAsync(engine, i, engines.Count, cancellationToken));
        }
        double now = time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var text = new StringBuilder();
        text.Append("# HELP ").Append(MetricName).Append(" Running stats on lora requests.\n");
        text.Append("# TYPE ").Append(MetricName).Append(" gauge\n");
        text.Append(MetricName)
            .Append("{running_lora_adapters=\"").Append(Escape(string.Join(',', running)))
            .Append("\",waiting_lora_adapters=\"").Append(Escape(string.Join(',', waiting)))
            .Append("\",max_lora=\"").Append(engines.Options.MaxLoras.ToString(CultureInfo.InvariantCulture))
            .Append("\"} ").Append(now.ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    private async Task<IReadOnlyList<string>> RunningAsync(InferenceEngine engine, int device, int count, CancellationToken cancellationToken)
    {
        try
        {
            var adapters = await engine.GetAdaptersAsync(cancellationToken).WaitAsync(ListWait, cancellationToken);
            IReadOnlyList<string> running = adapters.Where(a => a.Residency == AdapterResidencyLevel.Device).Select(a => a.AdapterId).ToList();
            lock (_lock)
            {
                if (_lastRunning.Length != count)
                    _lastRunning = new IReadOnlyList<string>[count];
                _lastRunning[device] = running;
            }
            return running;
        }
        catch (TimeoutException)
        {
            // A long step holds the engine's control queue: the previous list is at most a scrape old.
            lock (_lock)
                return device < _lastRunning.Length && _lastRunning[device] is { } last ? last : [];
        }
    }

    /// <summary>Adapter ids are letters, digits, '.', '_' and '-'; escaped anyway, as the text format requires.</summary>
    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
