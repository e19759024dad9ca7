using k8s;
using k8s.Models;

namespace OrleansLora.Deploy.Tests;

/// <summary>
/// The Helm chart, offline: lint (strict) and template with the CPU and GPU values, every rendered manifest
/// loaded by KubernetesClient in strict mode (an unknown or misplaced field fails), and what each must say.
/// </summary>
public sealed class HelmChartTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public async Task The_chart_lints_strictly(string values)
    {
        var (code, output, error) = await Helm.RunAsync("lint", "--strict", Helm.Chart, "-f", Helm.Values(values));
        Assert.True(code == 0, $"helm lint failed ({code}):\n{output}\n{error}");
        Assert.Contains("0 chart(s) failed", output);
    }

    [Fact]
    public async Task CPU_values_render_workers_without_GPU_requests_a_gateway_with_HPA_Redis_PDBs_RBAC_and_an_RWX_adapter_store()
    {
        var objects = Load(await Helm.TemplateAsync([Helm.Values("cpu")]));

        var worker = Single<V1StatefulSet>(objects, "olora-orleanslora-worker");
        Assert.Equal(2, worker.Spec.Replicas);
        var container = worker.Spec.Template.Spec.Containers.Single();
        Assert.DoesNotContain(container.Resources.Limits.Keys, k => k.Contains("gpu", StringComparison.Ordinal));
        Assert.Equal("Worker", Env(container, "OrleansLora__Server__Role"));
        Assert.Equal("$(POD_IP)", Env(container, "OrleansLora__Server__AdvertisedAddress"));
        Assert.Equal("olora-orleanslora-redis:6379,abortConnect=false", Env(container, "OrleansLora__Server__RedisConnectionString"));
        Assert.Equal("/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/live", container.LivenessProbe.HttpGet.Path);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.True(worker.Spec.Template.Spec.SecurityContext.RunAsNonRoot);
        // Kubernetes hosting finds the silos by these labels and reads the pod's identity from the environment.
        Assert.Equal("orleans-lora", worker.Spec.Template.Metadata.Labels["orleans/serviceId"]);
        Assert.Equal("olora", worker.Spec.Template.Metadata.Labels["orleans/clusterId"]);
        Assert.Equal("metadata.name", container.Env.Single(e => e.Name == "POD_NAME").ValueFrom.FieldRef.FieldPath);
        // The drain (30 s) finishes before the kubelet's SIGKILL.
        Assert.Equal("00:00:30", Env(container, "OrleansLora__Drain__GracePeriod"));
        Assert.True(worker.Spec.Template.Spec.TerminationGracePeriodSeconds > 30);

        var gateway = Single<V1Deployment>(objects, "olora-orleanslora-gateway");
        Assert.Null(gateway.Spec.Replicas); // the HPA owns the count
        Assert.Equal("Gateway", Env(gateway.Spec.Template.Spec.Containers.Single(), "OrleansLora__Server__Role"));
        var hpa = Single<V2HorizontalPodAutoscaler>(objects, "olora-orleanslora-gateway");
        Assert.Equal("olora-orleanslora-gateway", hpa.Spec.ScaleTargetRef.Name);
        Assert.Equal("http", Single<V1Service>(objects, "olora-orleanslora-gateway").Spec.Ports.Single().TargetPort.Value);

        var redis = Single<V1StatefulSet>(objects, "olora-orleanslora-redis");
        Assert.Contains("--appendonly", redis.Spec.Template.Spec.Containers.Single().Args);
        Assert.Equal(2, objects.OfType<V1PodDisruptionBudget>().Count());
        var role = Single<V1Role>(objects, "olora-orleanslora-silo");
        Assert.Contains(role.Rules, r => r.Resources.Contains("pods") && r.Verbs.Contains("watch") && r.Verbs.Contains("delete"));
        Assert.Equal("olora-orleanslora", Single<V1RoleBinding>(objects, "olora-orleanslora-silo").Subjects.Single().Name);
        var adapters = Single<V1PersistentVolumeClaim>(objects, "olora-orleanslora-adapters");
        Assert.Equal(["ReadWriteMany"], adapters.Spec.AccessModes);
    }

    [Fact]
    public async Task GPU_values_request_the_devices_on_GPU_nodes_and_use_external_Redis_and_existing_claims()
    {
        var objects = Load(await Helm.TemplateAsync([Helm.Values("gpu")]));

        var worker = Single<V1StatefulSet>(objects, "olora-orleanslora-worker");
        var pod = worker.Spec.Template.Spec;
        var container = pod.Containers.Single();
        Assert.Equal("2", container.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal("2", container.Resources.Requests["nvidia.com/gpu"].ToString());
        Assert.Equal("2", Env(container, "OrleansLora__Worker__Devices"));
        Assert.Equal("localhost/orleanslora-cuda:0.1.0", container.Image);
        Assert.Equal("true", pod.NodeSelector["nvidia.com/gpu.present"]);
        Assert.Contains(pod.Tolerations, t => t.Key == "nvidia.com/gpu" && t.Effect == "NoSchedule");
        Assert.Equal("redis-connection", container.Env.Single(e => e.Name == "OrleansLora__Server__RedisConnectionString").ValueFrom.SecretKeyRef.Name);
        Assert.Equal(["models", "adapters"], pod.Volumes.Where(v => v.PersistentVolumeClaim is not null).Select(v => v.PersistentVolumeClaim.ClaimName));

        // The gateway keeps the general image and no GPU; nothing Redis or PVC is rendered.
        var gateway = Single<V1Deployment>(objects, "olora-orleanslora-gateway").Spec.Template.Spec.Containers.Single();
        Assert.Equal("localhost/orleanslora:0.1.0", gateway.Image);
        Assert.DoesNotContain(gateway.Resources.Limits.Keys, k => k.Contains("gpu", StringComparison.Ordinal));
        Assert.DoesNotContain(objects, o => o is V1PersistentVolumeClaim);
        Assert.DoesNotContain(objects, o => o is V1StatefulSet s && s.Metadata.Name.EndsWith("-redis", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("worker.devices.kind=tpu", "/worker/devices/kind")]
    [InlineData("worker.replicas=-1", "/worker/replicas")]
    [InlineData("engine.quantization=int3", "/engine/quantization")]
    [InlineData("workers.replicas=2", "workers")]
    public async Task The_schema_rejects_bad_values(string set, string named)
    {
        var (code, _, error) = await Helm.RunAsync("template", "olora", Helm.Chart, "--set", set);
        Assert.NotEqual(0, code);
        Assert.Contains(named, error);
    }

    [Fact]
    public async Task Without_bundled_Redis_a_connection_is_required()
    {
        var (code, _, error) = await Helm.RunAsync("template", "olora", Helm.Chart, "--set", "redis.enabled=false");
        Assert.NotEqual(0, code);
        Assert.Contains("redis.external.connectionString", error);
    }

    [Fact]
    public void Strict_loading_rejects_an_unknown_field()
    {
        // The check the other tests rely on: a misspelt field is an error, not silently dropped.
        const string manifest = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  selectr: {a: b}\n";
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(manifest, strict: true));
        Assert.Single(KubernetesYaml.LoadAllFromString(manifest.Replace("selectr", "selector", StringComparison.Ordinal), strict: true));
    }

    /// <summary>Every document of helm's output, typed by KubernetesClient in strict mode; each must be a known kind.</summary>
    private static List<object> Load(string rendered)
    {
        var objects = KubernetesYaml.LoadAllFromString(rendered, strict: true);
        Assert.NotEmpty(objects);
        Assert.All(objects, o => Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(o));
        return objects;
    }

    private static T Single<T>(List<object> objects, string name) where T : IKubernetesObject<V1ObjectMeta> =>
        Assert.Single(objects.OfType<T>(), o => o.Metadata.Name == name);

    private static string Env(V1Container container, string name) => container.Env.Single(e => e.Name == name).Value;
}
