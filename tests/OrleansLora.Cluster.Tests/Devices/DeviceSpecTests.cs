using Microsoft.Extensions.Logging.Abstractions;
using OrleansLora.Engine.Cuda;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Cluster.Tests.Devices;

/// <summary>
/// OrleansLora:Worker:Devices (and CudaHostEmulation): parsing, and resolution against what CUDA reports. The cases
/// of this machine use its real probe; those that need a GPU present, or a library missing, use recorded answers.
/// </summary>
public sealed class DeviceSpecTests
{
    private static readonly CudaAvailability TwoH100s = new(
        [new CudaDeviceInfo(0, "NVIDIA H100 80GB HBM3", "9.0", 85_000_000_000, 84_000_000_000), new CudaDeviceInfo(1, "NVIDIA H100 80GB HBM3", "9.0", 85_000_000_000, 84_000_000_000)],
        null);

    /// <summary>A probe that fails the test when asked anything.</summary>
    private static readonly CudaProbe NeverProbed = new(
        () => throw new InvalidOperationException("CUDA devices probed"), () => throw new InvalidOperationException("runner library probed"));

    private static CudaProbe Recorded(CudaAvailability devices) => NeverProbed with { Devices = () => devices };

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
    [InlineData("cuda:x", "'cuda:x' is not cuda:N")]
    [InlineData("cuda:0,cuda:x", "'cuda:x' is not cuda:N")]
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CpuNeverProbesCudaWithOrWithoutHostEmulation(bool hostEmulation)
    {
        foreach (var value in new[] { "2", "cpu" })
        {
            var targets = DeviceResolver.Resolve(DeviceSpec.Parse(value), hostEmulation, NeverProbed, NullLogger.Instance);
            Assert.Equal(value == "2" ? new[] { DeviceTarget.Cpu(0), DeviceTarget.Cpu(1) } : [DeviceTarget.Cpu(0)], targets);
        }
        // The options as bound from configuration pass start-up validation too.
        new WorkerOptions { Devices = "cpu", CudaHostEmulation = hostEmulation }.Validate(4);
    }

    [Fact]
    public void CudaOnThisMachineServesTheDeviceOrIsAStartUpErrorWithTheReason()
    {
        var here = CudaLibrary.Probe();
        if (here.Available)
        {
            Assert.Equal([DeviceTarget.Cuda(0)], DeviceResolver.Resolve(DeviceSpec.Parse("cuda:0"), false, CudaProbe.Machine, NullLogger.Instance));
            return;
        }
        var ex = Assert.Throws<ArgumentException>(() => DeviceResolver.Resolve(DeviceSpec.Parse("cuda:0"), false, CudaProbe.Machine, NullLogger.Instance));
        Assert.Equal(nameof(WorkerOptions.Devices), ex.ParamName);
        Assert.StartsWith($"OrleansLora:Worker:Devices = cuda:0, but no CUDA device is usable: {here.Reason}. Use 'cpu', or 'auto' to fall back to the CPU.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AutoTakesThisMachinesCudaDevicesOrFallsBackToTheCpuWithOneLogLine()
    {
        var here = CudaLibrary.Probe();
        var log = new ListLogger();
        var targets = DeviceResolver.Resolve(DeviceSpec.Parse("auto"), false, CudaProbe.Machine, log);
        var line = Assert.Single(log.Lines);
        if (here.Available)
        {
            Assert.Equal(here.Devices.Select(d => DeviceTarget.Cuda(d.Index)), targets);
            Assert.StartsWith("Devices = auto: serving on cuda:0 ", line, StringComparison.Ordinal);
            return;
        }
        Assert.Equal([DeviceTarget.Cpu(0)], targets);
        Assert.Equal($"Devices = auto: no CUDA device ({here.Reason}); serving on the CPU", line);
    }

    [Fact]
    public void ADeviceIndexPastTheMachinesIsRefusedNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => DeviceResolver.Resolve(DeviceSpec.Parse("cuda:0,cuda:2"), false, Recorded(TwoH100s), NullLogger.Instance));
        Assert.Equal(nameof(WorkerOptions.Devices), ex.ParamName);
        Assert.Contains("lists cuda:2, but this machine has 2 CUDA device(s) (cuda:0 NVIDIA H100 80GB HBM3, cuda:1 NVIDIA H100 80GB HBM3)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PresentGpusAreServedOneEngineEachAndAutoTakesThemAll()
    {
        Assert.Equal([DeviceTarget.Cuda(1), DeviceTarget.Cuda(0)], DeviceResolver.Resolve(DeviceSpec.Parse("cuda:1,cuda:0"), false, Recorded(TwoH100s), NullLogger.Instance));
        var log = new ListLogger();
        Assert.Equal([DeviceTarget.Cuda(0), DeviceTarget.Cuda(1)], DeviceResolver.Resolve(DeviceSpec.Parse("auto"), false, Recorded(TwoH100s), log));
        Assert.Equal("Devices = auto: serving on cuda:0 NVIDIA H100 80GB HBM3, cuda:1 NVIDIA H100 80GB HBM3", Assert.Single(log.Lines));
    }

    [Fact]
    public void HostEmulationMakesEachCudaEntryAnEmulatedDeviceWithoutProbingAny()
    {
        var log = new ListLogger();
        var probe = NeverProbed with { HostEmulationUnavailable = () => null };
        var targets = DeviceResolver.Resolve(DeviceSpec.Parse("cuda:0,cuda:1"), true, probe, log);
        Assert.Equal([DeviceTarget.EmulatedCuda(0), DeviceTarget.EmulatedCuda(1)], targets);
        Assert.Equal(["cuda:0 (host emulation)", "cuda:1 (host emulation)"], targets.Select(t => t.ToString()));
        Assert.All(targets, t => Assert.True(t.IsCuda));
        Assert.Equal("CudaHostEmulation: cuda:0 (host emulation), cuda:1 (host emulation) run the CUDA runner's forward on the CPU (for tests and debugging, slow)", Assert.Single(log.Lines));
    }

    [Fact]
    public void HostEmulationWithoutTheRunnerLibraryIsAStartUpErrorNamingTheOptionAndTheReason()
    {
        var probe = NeverProbed with { HostEmulationUnavailable = () => "the CUDA runner library /nowhere/libolora_cuda.so does not exist (OLORA_CUDA_LIBRARY)" };
        var ex = Assert.Throws<ArgumentException>(() => DeviceResolver.Resolve(DeviceSpec.Parse("cuda:0"), true, probe, NullLogger.Instance));
        Assert.Equal(nameof(WorkerOptions.CudaHostEmulation), ex.ParamName);
        Assert.StartsWith(
            "OrleansLora:Worker:CudaHostEmulation = true with OrleansLora:Worker:Devices = cuda:0, but host emulation needs the CUDA runner library: the CUDA runner library /nowhere/libolora_cuda.so does not exist (OLORA_CUDA_LIBRARY).",
            ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostEmulationLeavesAutoToTheMachine()
    {
        var log = new ListLogger();
        Assert.Equal([DeviceTarget.Cuda(0), DeviceTarget.Cuda(1)], DeviceResolver.Resolve(DeviceSpec.Parse("auto"), true, Recorded(TwoH100s), log));
        Assert.Equal([DeviceTarget.Cpu(0)], DeviceResolver.Resolve(DeviceSpec.Parse("auto"), true, Recorded(CudaAvailability.None("no driver")), log));
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
