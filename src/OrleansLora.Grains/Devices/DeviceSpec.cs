using System.Globalization;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// The value of <c>OrleansLora:Worker:Devices</c>: <c>cpu</c> (one CPU engine), <c>cuda:0,cuda:1,...</c> (one
/// engine per listed CUDA device), <c>auto</c> (every CUDA device, or the CPU when there is none), or a count
/// <c>N</c> of CPU engines (<c>0</c>: a gateway-only silo; the form older configurations use).
/// </summary>
public sealed record DeviceSpec(bool Auto, IReadOnlyList<DeviceTarget> Targets)
{
    public const string Key = WorkerOptions.SectionName + ":" + nameof(WorkerOptions.Devices);

    /// <summary>The devices, unless <see cref="Auto"/> (then decided at start-up by <see cref="DeviceResolver"/>).</summary>
    public bool HasCuda => Targets.Any(t => t.IsCuda);

    /// <summary>Parses a value; an <see cref="ArgumentException"/> naming the option and the accepted forms otherwise.</summary>
    public static DeviceSpec Parse(string? value)
    {
        string v = (value ?? "").Trim().ToLowerInvariant();
        if (v == "auto")
            return new DeviceSpec(true, []);
        if (v == "cpu")
            return new DeviceSpec(false, [DeviceTarget.Cpu(0)]);
        if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            return count <= 64
                ? new DeviceSpec(false, [.. Enumerable.Range(0, count).Select(DeviceTarget.Cpu)])
                : throw Bad(value, "at most 64 CPU engines");
        var targets = new List<DeviceTarget>();
        foreach (string part in v.Split(','))
        {
            string p = part.Trim();
            if (!p.StartsWith("cuda:", StringComparison.Ordinal)
                || !int.TryParse(p.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                throw Bad(value, $"'{part.Trim()}' is not cuda:N");
            if (targets.Contains(DeviceTarget.Cuda(index)))
                throw Bad(value, $"cuda:{index} is listed twice");
            targets.Add(DeviceTarget.Cuda(index));
        }
        return new DeviceSpec(false, targets);
    }

    private static ArgumentException Bad(string? value, string why) =>
        new($"{Key} = '{value}' is invalid ({why}): use cpu, auto, cuda:0[,cuda:1,...], or a count of CPU engines.", nameof(WorkerOptions.Devices));
}
