using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Clustering.Redis;
using Orleans.Configuration;
using StackExchange.Redis;

namespace OrleansLora.Server.Hosting.Clustering;

public static class RedisMembershipRecoveryExtensions
{
    /// <summary>
    /// Wraps the membership table registered by <c>UseRedisClustering</c> in a <see cref="RecoveringMembershipTable"/>,
    /// so the cluster re-creates its membership after Redis restarts empty. Call after <c>UseRedisClustering</c>.
    /// </summary>
    public static ISiloBuilder AddRedisMembershipRecovery(this ISiloBuilder silo)
    {
        var services = silo.Services;
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IMembershipTable) && d.ImplementationFactory is not null)
            ?? throw new InvalidOperationException("UseRedisClustering must be called before AddRedisMembershipRecovery.");
        var createInner = registered.ImplementationFactory!;
        services.Replace(ServiceDescriptor.Singleton<IMembershipTable>(sp =>
        {
            var redis = sp.GetRequiredService<IOptions<RedisClusteringOptions>>().Value;
            var cluster = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var local = sp.GetRequiredService<ILocalSiloDetails>();
            return new RecoveringMembershipTable(
                (IMembershipTable)createInner(sp),
                redis.CreateRedisKey(cluster),
                redis.ConfigurationOptions ?? throw new InvalidOperationException("Redis clustering has no connection configuration."),
                () => local.SiloAddress,
                sp.GetRequiredService<ILogger<RecoveringMembershipTable>>());
        }));
        return silo;
    }
}
