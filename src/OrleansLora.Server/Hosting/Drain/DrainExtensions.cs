using Microsoft.Extensions.Options;

namespace OrleansLora.Server.Hosting.Drain;

public static class DrainExtensions
{
    /// <summary>Time the host gives Orleans to leave the cluster after the drain, on top of the grace period.</summary>
    private static readonly TimeSpan LeaveTime = TimeSpan.FromSeconds(30);

    /// <summary>Graceful drain on SIGTERM from <c>OrleansLora:Drain</c> (validated here); the host's shutdown timeout covers it.</summary>
    public static DrainOptions AddOrleansLoraDrain(this IHostApplicationBuilder builder)
    {
        var drain = builder.Configuration.GetSection(DrainOptions.SectionName).Get<DrainOptions>() ?? new DrainOptions();
        drain.Validate();
        builder.Services.AddSingleton(Options.Create(drain));
        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddHostedService<GracefulDrain>();
        builder.Services.Configure<HostOptions>(o =>
        {
            var needed = drain.GracePeriod + LeaveTime;
            if (o.ShutdownTimeout < needed)
                o.ShutdownTimeout = needed;
        });
        return drain;
    }
}
