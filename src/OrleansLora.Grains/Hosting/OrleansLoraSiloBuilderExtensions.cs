using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using OrleansLora.Engine.Generation;
using OrleansLora.Grains.Deadlines;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Metrics;
using OrleansLora.Grains.Placement;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Grains.Hosting;

public static class OrleansLoraSiloBuilderExtensions
{
    /// <summary>
    /// Adds the OrleansLora grains to a silo: placement directors, metrics, the adapter store and, when
    /// <c>OrleansLora:Worker:Devices</c> is above 0, one inference engine per device (loaded at start-up).
    /// The silo must also configure grain storage named <see cref="GrainStorageNames.Adapters"/>.
    /// </summary>
    public static ISiloBuilder AddOrleansLora(this ISiloBuilder builder, IConfiguration configuration)
    {
        var services = builder.Services;
        ValidateAtStartup(configuration);
        services.AddOptions<WorkerOptions>().Bind(configuration.GetSection(WorkerOptions.SectionName));
        services.AddOptions<DeadlineOptions>().Bind(configuration.GetSection(DeadlineOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RequestDeadlines>();
        services.AddOptions<AdapterStoreOptions>().Bind(configuration.GetSection(AdapterStoreOptions.SectionName))
            .Validate(o => { o.Validate(); return true; });
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.SectionName));
        services.AddOptions<InferenceEngineOptions>().Bind(configuration.GetSection(InferenceEngineOptions.SectionName));
        services.AddMetrics();
        services.AddSingleton<OrleansLoraMetrics>();
        services.AddSingleton<AdapterStore>();
        services.AddSingleton(sp => LocalDevices.Resolve(sp.GetRequiredService<IOptions<WorkerOptions>>().Value, CudaProbe.Machine,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DeviceResolver))));
        services.AddSingleton<DeviceEngines>();
        services.AddSingleton<HeldPins>();
        services.AddSingleton<DeviceAdapterLists>();
        services.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>();
        services.AddPlacementDirector<AdapterPlacement, AdapterPlacementDirector>();
        services.AddSingleton<DeviceLoadView>();
        services.AddSingleton<AdapterTraffic>();
        services.AddSingleton<AdapterRebalancer>();
        services.AddSingleton<AbandonedPlacements>();
        services.AddSingleton<DeviceLoadPublisher>();
        services.AddSingleton<IPinChangePublisher>(sp => sp.GetRequiredService<DeviceLoadPublisher>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<DeviceLoadPublisher>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DeviceStartup>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, EngineWarmup>();
        return builder;
    }

    /// <summary>
    /// Checks the options a silo cannot serve with before anything starts, so a bad value fails start-up with
    /// an <see cref="ArgumentException"/> naming it (rather than requests that hang or fail later).
    /// </summary>
    private static void ValidateAtStartup(IConfiguration configuration)
    {
        var worker = configuration.GetSection(WorkerOptions.SectionName).Get<WorkerOptions>() ?? new WorkerOptions();
        int maxLoras = configuration.GetSection(InferenceEngineOptions.SectionName).GetValue<int?>(nameof(InferenceEngineOptions.MaxLoras)) ?? new InferenceEngineOptions().MaxLoras;
        worker.Validate(maxLoras);
        // cuda:N without that device (or, under CudaHostEmulation, without the runner library) fails here, before
        // anything starts (the DI singleton resolves it again with the real logger, for the one log line).
        DeviceResolver.Resolve(DeviceSpec.Parse(worker.Devices), worker.CudaHostEmulation, CudaProbe.Machine, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        (configuration.GetSection(DeadlineOptions.SectionName).Get<DeadlineOptions>() ?? new DeadlineOptions()).Validate();
    }
}
