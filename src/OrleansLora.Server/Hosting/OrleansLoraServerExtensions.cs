using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansLora.Grains;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Hosting;
using OrleansLora.Server.Configuration;
using OrleansLora.Server.Hosting.Clustering;
using StackExchange.Redis;

namespace OrleansLora.Server.Hosting;

public static class OrleansLoraServerExtensions
{
    /// <summary>Short command-line switches for the common options (the long form <c>--OrleansLora:Server:Role=...</c> works too).</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--role"] = "OrleansLora:Server:Role",
        ["--clustering"] = "OrleansLora:Server:Clustering",
        ["--redis"] = "OrleansLora:Server:RedisConnectionString",
        ["--cluster-id"] = "OrleansLora:Server:ClusterId",
        ["--service-id"] = "OrleansLora:Server:ServiceId",
        ["--silo-port"] = "OrleansLora:Server:SiloPort",
        ["--gateway-port"] = "OrleansLora:Server:GatewayPort",
        ["--data"] = "OrleansLora:Server:DataDirectory",
        ["--model"] = "OrleansLora:Engine:ModelPath",
        ["--adapters"] = "OrleansLora:AdapterStore:Root",
        ["--devices"] = "OrleansLora:Worker:Devices",
        ["--max-loras"] = "OrleansLora:Engine:MaxLoras",
        ["--urls"] = "urls",
    };

    /// <summary>
    /// Configures this process as an OrleansLora silo from <c>OrleansLora:*</c> configuration: role,
    /// clustering (localhost with in-memory storage, or Redis for both), the grains, and deliberate
    /// messaging timeouts. Invalid options fail here with a message naming them.
    /// </summary>
    public static ServerOptions AddOrleansLoraServer(this IHostApplicationBuilder builder)
    {
        AdvertisedAddress.Resolve(builder.Configuration);
        var server = builder.Configuration.GetSection(ServerOptions.SectionName).Get<ServerOptions>() ?? new ServerOptions();
        server.Validate();
        var listenAddress = server.Clustering == ClusteringMode.Localhost ? IPAddress.Loopback : IPAddress.Parse(server.AdvertisedAddress);
        ListenPorts.EnsureFree($"{ServerOptions.SectionName}:{nameof(ServerOptions.SiloPort)}", new IPEndPoint(listenAddress, server.SiloPort));
        ListenPorts.EnsureFree($"{ServerOptions.SectionName}:{nameof(ServerOptions.GatewayPort)}", new IPEndPoint(listenAddress, server.GatewayPort));
        if (!server.HasDevices)
            builder.Configuration[$"{WorkerOptions.SectionName}:{nameof(WorkerOptions.Devices)}"] = "0";
        EmbeddedDefaults.Apply(builder.Configuration, server);
        builder.Services.AddSingleton(Options.Create(server));
        builder.UseOrleans(silo =>
        {
            if (server.Clustering == ClusteringMode.Localhost)
            {
                silo.UseLocalhostClustering(server.SiloPort, server.GatewayPort, serviceId: server.ServiceId, clusterId: server.ClusterId);
                silo.AddMemoryGrainStorage(GrainStorageNames.Adapters);
            }
            else
            {
                var redis = ConfigurationOptions.Parse(server.RedisConnectionString!);
                silo.UseRedisClustering(o => o.ConfigurationOptions = redis);
                silo.AddRedisMembershipRecovery();
                silo.AddRedisGrainStorage(GrainStorageNames.Adapters, o => o.ConfigurationOptions = redis);
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = server.ClusterId;
                    o.ServiceId = server.ServiceId;
                });
                silo.ConfigureEndpoints(IPAddress.Parse(server.AdvertisedAddress), server.SiloPort, server.GatewayPort, listenOnAnyHostAddress: false);
                silo.UseOrleansLoraKubernetesHosting(builder.Configuration);
            }
            silo.Configure<SiloMessagingOptions>(o =>
            {
                // Orleans 10 leaves CancelRequestOnTimeout off: a timed-out generation would keep
                // running in the engine. On, the callee's cancellation token fires and frees the sequence.
                o.ResponseTimeout = server.ResponseTimeout;
                o.CancelRequestOnTimeout = true;
            });
            // Failure detection is tunable (Orleans:Membership:ProbeTimeout, NumMissedProbesLimit, ...):
            // the multi-process tests shorten it so a killed silo is declared dead in seconds.
            silo.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Orleans:Membership"));
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ListenPortGuard>();
            silo.AddActivityPropagation();
            silo.AddOrleansLora(builder.Configuration);
        });
        return server;
    }
}
