using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OrleansLora.Server.Tests.Support;

/// <summary>A device as <c>/info</c> shows it, with its two memory samples from <c>/metrics</c> (null when absent).</summary>
public sealed partial record DeviceReport(string Key, string Kind, string Name, long Total, long Used, Dictionary<string, string>? TotalLabels, double? TotalMetric, double? UsedMetric)
{
    /// <summary>
    /// Reads /info, /metrics, /info until both /info answers agree on every device's memory and /metrics, read in
    /// between, shows the same figures: other tests sharing the server load adapters (the adapter tables appear once)
    /// and the two endpoints may see a publish apart. A disagreement that lasts 30 s is returned as it is, for the
    /// caller's assertions to name.
    /// </summary>
    public static async Task<IReadOnlyList<DeviceReport>> ReadAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var before = Devices(await Api.GetOkAsync(http, "info"));
            string metrics = await http.GetStringAsync("metrics");
            var after = Devices(await Api.GetOkAsync(http, "info"));
            bool late = DateTime.UtcNow >= deadline;
            if (before.SequenceEqual(after) || late)
            {
                var totals = Samples(metrics, "olora_device_memory_total_bytes");
                var used = Samples(metrics, "olora_device_memory_used_bytes");
                List<DeviceReport> reports = [.. after.Select(d =>
                {
                    var total = totals.Where(s => s.Labels["device"] == d.Key).ToList();
                    var use = used.Where(s => s.Labels["device"] == d.Key).ToList();
                    Assert.True(total.Count <= 1 && use.Count <= 1, $"device {d.Key} has {total.Count} memory_total and {use.Count} memory_used samples");
                    return new DeviceReport(d.Key, d.Kind, d.Name, d.Total, d.Used, total.FirstOrDefault().Labels, total.FirstOrDefault().Value, use.FirstOrDefault().Value);
                })];
                if (late || reports.All(r => (r.TotalMetric is null || r.TotalMetric == r.Total) && (r.UsedMetric is null || r.UsedMetric == r.Used)))
                    return reports;
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The one device /v1/adapters lists the adapter on, and its name; polled (the load is published once a second).</summary>
    public static async Task<(string Device, string Name)> ListedDeviceAsync(HttpClient http, string adapter)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var entry = Api.Parse(await http.GetStringAsync($"v1/adapters/{adapter}"));
            var devices = entry["devices"]!.AsArray().Select(Api.Text).ToList();
            var names = entry["device_names"]!.AsArray().Select(Api.Text).ToList();
            Assert.Equal(devices.Count, names.Count);
            if (devices.Count == 1)
                return (devices[0], names[0]);
            Assert.True(DateTime.UtcNow < deadline, $"{adapter} is not listed on one device: {entry.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    private static List<(string Key, string Kind, string Name, long Total, long Used)> Devices(JsonObject info) =>
        [.. info["devices"]!.AsArray().Select(d => (Api.Text(d!["key"]), Api.Text(d["kind"]), Api.Text(d["name"]),
            d["memory_total_bytes"]!.GetValue<long>(), d["memory_used_bytes"]!.GetValue<long>()))];

    /// <summary>Every sample of <paramref name="metric"/> in a Prometheus text exposition, with its labels unescaped.</summary>
    public static List<(Dictionary<string, string> Labels, double? Value)> Samples(string exposition, string metric) =>
        [.. exposition.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal)).Select(line =>
        {
            int close = line.LastIndexOf('}');
            var labels = Label().Matches(line[(metric.Length + 1)..close])
                .ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value), StringComparer.Ordinal);
            return (labels, (double?)double.Parse(line[(close + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
        })];

    [GeneratedRegex(@"(\w+)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
