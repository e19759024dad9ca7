using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;
using OrleansLora.Grains.Deadlines;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>
/// Two worker silos whose devices have three adapter slots (two pinnable, one swap) and a batch of one, so a
/// few adapters fill the pinnable slots and a long request makes the next one wait. Request deadlines run on
/// <see cref="DeadlineClock"/>, a fake clock the test advances: a deadline expires exactly when it says so.
/// </summary>
public sealed class SwapSlotClusterFixture : ClusterFixture
{
    public const int Pinnable = 2;
    public const int MaxSequenceLength = 1024;
    public static readonly TimeSpan FirstTokenDeadline = TimeSpan.FromSeconds(30);

    public static FakeTimeProvider DeadlineClock { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>What the silos' GPU grains logged (activations, deactivations).</summary>
    public static LogCapture GpuGrainLog { get; } = new("OrleansLora.Grains.Devices.GpuGrain");

    protected override short SiloCount => 2;

    protected override void Configure(TestClusterBuilder builder)
    {
        builder.Properties["OrleansLora:Engine:MaxLoras"] = (Pinnable + 1).ToString();
        builder.Properties["OrleansLora:Engine:MaxBatchSize"] = "1";
        builder.Properties["OrleansLora:Engine:MaxSequenceLength"] = MaxSequenceLength.ToString();
        builder.Properties["OrleansLora:Deadlines:FirstToken"] = FirstTokenDeadline.ToString();
        builder.Properties["OrleansLora:Deadlines:NextToken"] = "01:00:00";
        builder.Properties["OrleansLora:Deadlines:Placement"] = "01:00:00";
        builder.AddSiloBuilderConfigurator<FakeDeadlineClock>();
    }

    private sealed class FakeDeadlineClock : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Services.AddSingleton(sp => new RequestDeadlines(sp.GetRequiredService<IOptions<DeadlineOptions>>(), DeadlineClock));
            siloBuilder.Services.AddLogging(logging => logging.AddProvider(GpuGrainLog));
            siloBuilder.Services.AddSingleton<IActivationWorkingSetObserver, ActivationRecorder>();
        }
    }
}
