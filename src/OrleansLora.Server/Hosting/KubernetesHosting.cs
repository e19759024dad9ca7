namespace OrleansLora.Server.Hosting;

/// <summary>
/// Orleans' Kubernetes hosting for a silo running in a pod: silo name and advertised address from the pod
/// (<c>POD_NAME</c>, <c>POD_IP</c>), cluster and service ids from <c>ORLEANS_CLUSTER_ID</c>/<c>ORLEANS_SERVICE_ID</c>,
/// and an agent that watches the pods so a silo whose pod is gone is declared dead at once rather than after
/// missed probes. Outside Kubernetes (no <c>KUBERNETES_SERVICE_HOST</c>) nothing changes.
/// </summary>
public static class KubernetesHosting
{
    /// <summary><c>OrleansLora:Kubernetes:Enabled</c>: false turns it off inside a pod too (auto by default).</summary>
    public const string EnabledKey = "OrleansLora:Kubernetes:Enabled";

    public static bool InKubernetes(IConfiguration configuration) =>
        configuration.GetValue<bool?>(EnabledKey) ?? !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"));

    /// <summary>Applies Kubernetes hosting when <see cref="InKubernetes"/>; after the endpoint configuration, so the pod's address wins.</summary>
    public static ISiloBuilder UseOrleansLoraKubernetesHosting(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (InKubernetes(configuration))
            silo.UseKubernetesHosting();
        return silo;
    }
}
