using Microsoft.Extensions.Logging.Abstractions;
using OrleansLora.Engine.Cuda;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Cluster.Tests.Devices;

/// <summary>
/// OrleansLora:Worker:Devices: parsing, and resolution against what CUDA reports. The no-GPU cases use the real
/// probe of this machine; the cases that need a GPU present use a recorded availability (no GPU here).
/// </summary>
public sealed class DeviceSpecTests
{
    private static readonly CudaAvailability OneH100 =
        new([new CudaDeviceInfo(0, "NVIDIA H100 80GB HBM3", "9.0", 85_000_000_000, 84_000_000_000)], null);

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData(" CPU ", "cpu")]
    [InlineData("0", "")]
    [InlineData("2", "cpu,cpu")]
    [InlineData("cuda:0", "cuda:0")]
    [InlineData("cuda:1, cuda:0", "cuda:1,cuda:0")]
    public void ParsesEveryForm(string value, string targets)
    {
        var spec = DeviceSpec.Parse(value);
        Assert.False(spec.Auto);
        Assert.Equal(targets, string.Join(",", spec.Targets));
    }

    [Fact]
    public void AutoIsDecidedAtStartUp() => Assert.True(DeviceSpec.Parse("auto") is { Auto: true, Targets.Count: 0 });

    [Theory]
    [InlineData("", "'' is not cuda:N")]
    [InlineData("gpu", "'gpu' is not cuda:N")]
    [InlineData("cuda:", "'cuda:' is not cuda:N")]
    [InlineData("cuda:-1", "'cuda:-1' is not cuda:N")]
    [InlineData("cuda:0,cpu", "'cpu' is not cuda:N")]
    [InlineData("cuda:0,cuda:0", "cuda:0 is listed twice")]
    [InlineData("-1", "'-1' is not cuda:N")]
    [InlineData("65", "at most 64 CPU engines")]
    public void RefusesAnythingElseNamingTheOption(string value, string why)
    {
        var ex = Assert.Throws<ArgumentException>(() => DeviceSpec.Parse(value));
        Assert.StartsWith($"OrleansLora:Worker:Devices = '{value}' is invalid ({why})", ex.Message, StringComparison.Ordinal);
        // WorkerOptions.Validate (start-up) goes through the same parse.
        Assert.Throws<ArgumentException>(() => new WorkerOptions { Devices = value }.Validate(4));
    }

    [Fact]
    public void CpuNeverProbesCuda()
    {
        var targets = DeviceResolver.Resolve(DeviceSpec.Parse("2"), () => throw new InvalidOperationException("probed"), NullLogger.Instance);
        Assert.Equal([DeviceTarget.Cpu(0), DeviceTarget.Cpu(1)], targets);
    }

    [Fact]
    public void CudaOnThisMachineIsAStartUpErrorWithTheReason()
    {
        var here = CudaLibrary.Probe();
        var ex = Assert.Throws<ArgumentException>(() => DeviceResolver.Resolve(DeviceSpec.Parse("cuda:0"), CudaLibrary.Probe, NullLogger.Instance));
        Assert.Equal(nameof(WorkerOptions.Devices), ex.ParamName);
        if (here.Available)
            Assert.Contains("is present, but the CUDA model runner cannot serve a model yet", ex.Message, StringComparison.Ordinal);
        else
            Assert.StartsWith($"OrleansLora:Worker:Devices = cuda:0, but no CUDA device is usable: {here.Reason}.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AutoFallsBackToTheCpuWithOneLogLine()
    {
        var here = CudaLibrary.Probe();
        var log = new ListLogger();
        var targets = DeviceResolver.Resolve(DeviceSpec.Parse("auto"), CudaLibrary.Probe, log);
        Assert.Equal([DeviceTarget.Cpu(0)], targets);
        var line = Assert.Single(log.Lines);
        Assert.StartsWith(here.Available ? "Devices = auto: found cuda:0 " : "Devices = auto: no CUDA device (", line, StringComparison.Ordinal);
        Assert.EndsWith("; serving on the CPU", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ADeviceIndexPastTheMachinesIsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => DeviceResolver.Resolve(DeviceSpec.Parse("cuda:0,cuda:1"), () => OneH100, NullLogger.Instance));
        Assert.Contains("lists cuda:1, but this machine has 1 CUDA device(s) (cuda:0 NVIDIA H100 80GB HBM3)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APresentGpuIsRefusedUntilTheCudaRunnerCanServeAndAutoStaysOnTheCpu()
    {
        var ex = Assert.Throws<ArgumentException>(() => DeviceResolver.Resolve(DeviceSpec.Parse("cuda:0"), () => OneH100, NullLogger.Instance));
        Assert.Contains("cuda:0 (NVIDIA H100 80GB HBM3, 79 GiB) is present, but the CUDA model runner cannot serve a model yet", ex.Message, StringComparison.Ordinal);
        var log = new ListLogger();
        Assert.Equal([DeviceTarget.Cpu(0)], DeviceResolver.Resolve(DeviceSpec.Parse("auto"), () => OneH100, log));
        Assert.Contains("found cuda:0 NVIDIA H100 80GB HBM3, but the CUDA model runner cannot serve a model yet", Assert.Single(log.Lines), StringComparison.Ordinal);
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
