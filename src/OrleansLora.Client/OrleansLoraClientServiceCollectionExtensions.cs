using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace OrleansLora.Client;

public static class OrleansLoraClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds an Orleans client for the OrleansLora cluster (localhost gateways or Redis clustering), the
    /// typed <see cref="OrleansLoraClient"/> and an <see cref="IChatClient"/>. Options are validated here.
    /// </summary>
    public static IServiceCollection AddOrleansLoraClient(this IServiceCollection services, Action<OrleansLoraClientOptions>? configure = null)
    {
        var options = new OrleansLoraClientOptions();
        configure?.Invoke(options);
        options.Validate();
        services.AddSingleton(Options.Create(options));
        services.AddOrleansClient(client =>
        {
            if (string.IsNullOrWhiteSpace(options.RedisConnectionString))
            {
                client.UseStaticClustering(options.GatewayPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray());
            }
            else
            {
                var redis = ConfigurationOptions.Parse(options.RedisConnectionString);
                client.UseRedisClustering(o => o.ConfigurationOptions = redis);
            }
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            client.Configure<ClientMessagingOptions>(o =>
            {
                o.ResponseTimeout = options.ResponseTimeout;
                o.CancelRequestOnTimeout = true; // a timed-out generation frees its sequence on the worker
            });
            client.AddActivityPropagation();
        });
        services.AddSingleton(sp => new OrleansLoraClient(sp.GetRequiredService<IClusterClient>(), options.AcceptTimeout));
        services.AddSingleton<OrleansLoraChatClient>();
        services.AddSingleton<IChatClient>(sp => sp.GetRequiredService<OrleansLoraChatClient>());
        return services;
    }
}
