using Orleans.Runtime;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Errors;
using OrleansLora.Grains;

namespace OrleansLora.Server.Http.Management;

/// <summary>Adapter management: vLLM's load/unload endpoints and an adapter listing that does not activate every adapter.</summary>
public static class AdaptersApi
{
    private static readonly TimeSpan DescribeTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapAdaptersApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Adapters");
        v1.MapPost("/load_lora_adapter", Load).Accepts<LoadLoraAdapterRequest>("application/json", "*/*").Produces<AdapterEntry>()
            .Produces<ApiErrorResponse>(StatusCodes.Status400BadRequest).WithMetadata(AdminEndpoint.Instance);
        v1.MapPost("/unload_lora_adapter", Unload).Accepts<UnloadLoraAdapterRequest>("application/json", "*/*")
            .Produces<ApiErrorResponse>(StatusCodes.Status404NotFound).WithMetadata(AdminEndpoint.Instance);
        v1.MapGet("/adapters", List).Produces<AdapterList>();
        v1.MapGet("/adapters/{id}", Get).Produces<AdapterEntry>().Produces<ApiErrorResponse>(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>
    /// Registers through the adapter grain, which a worker validates from its adapter store: the gateway reads no
    /// adapter files (a gateway-only silo needs no store) and refuses only what is malformed from the text.
    /// </summary>
    private static async Task<IResult> Load(HttpContext http, ClusterView cluster)
    {
        var body = await RequestBody.ReadAsync<LoadLoraAdapterRequest>(http.Request, http.RequestAborted);
        if (body.LoraName == await cluster.BaseModelNameAsync())
            throw new InvalidRequestException($"lora_name \"{body.LoraName}\" is the base model's name.", "lora_name");
        string path = string.IsNullOrEmpty(body.LoraPath) ? body.LoraName! : body.LoraPath;
        if (!AdapterSources.IsWellFormed(path, out var why))
            throw new InvalidRequestException(AdapterSources.Refusal(path, why), "lora_path");
        AdapterDescription description;
        try
        {
            description = await cluster.Adapter(body.LoraName!).Register(new AdapterRegistration(body.LoraName!, path, body.Pinned ?? false));
        }
        catch (AdapterNotFoundException)
        {
            return Error(404, $"the adapter store has no directory {FieldChecks.Quote(path)}.", "lora_path", "adapter_path_not_found");
        }
        catch (AdapterValidationException ex)
        {
            return Error(400, ex.Message, "lora_path", "invalid_adapter");
        }
        catch (AdapterSourceRefusedException ex)
        {
            return Error(400, ex.Message, "lora_path", "invalid_parameter");
        }
        return TypedResults.Json(ToEntry(description, await CachedOn(cluster)), GatewayJson.Options);
    }

    private static async Task<IResult> Unload(HttpContext http, ClusterView cluster)
    {
        var body = await RequestBody.ReadAsync<UnloadLoraAdapterRequest>(http.Request, http.RequestAborted);
        try
        {
            await cluster.Adapter(body.LoraName!).Unload();
        }
        catch (AdapterNotFoundException ex)
        {
            return Error(404, ex.Message, "lora_name", "model_not_found");
        }
        return TypedResults.Json(new { id = body.LoraName, @object = "adapter", deleted = true }, GatewayJson.Options);
    }

    private static async Task<AdapterList> List(ClusterView cluster, IGrainFactory grains)
    {
        var registrations = await grains.GetGrain<IAdapterCatalogGrain>(0).List();
        var cachedOn = await CachedOn(cluster);
        var active = await ActiveAdapters(grains);
        var entries = await Task.WhenAll(registrations.OrderBy(r => r.AdapterId, StringComparer.Ordinal).Select(async r =>
        {
            var devices = cachedOn.GetValueOrDefault(r.AdapterId) ?? [];
            if (devices.Count > 0 || active.Contains(r.AdapterId))
            {
                // Active, or in memory on a device (then almost always active): asking it activates nothing new.
                // Active grains are asked too because devices publish what they hold once a second, so an
                // adapter used a moment ago would otherwise be listed as "registered" on "disk".
                try
                {
                    return ToEntry(await cluster.Adapter(r.AdapterId).Describe().WaitAsync(DescribeTimeout), cachedOn);
                }
                catch (Exception ex) when (ex is AdapterNotFoundException or TimeoutException)
                {
                }
            }
            return new AdapterEntry(r.AdapterId, r.Source ?? r.AdapterId, "registered", devices.Count > 0 ? "host" : "disk", r.Pinned, null, null, null, null, null,
                [.. devices.Select(d => d.Key)], [.. devices.Select(d => d.DeviceName)], null, null);
        }));
        return new AdapterList(entries);
    }

    private static async Task<AdapterEntry> Get(string id, ClusterView cluster)
    {
        if (!AdapterIds.IsValid(id))
            throw new AdapterNotFoundException(id);
        return ToEntry(await cluster.Adapter(id).Describe(), await CachedOn(cluster));
    }

    /// <summary>The ids of the adapter grains active anywhere in the cluster (empty when the management grain cannot say).</summary>
    private static async Task<HashSet<string>> ActiveAdapters(IGrainFactory grains)
    {
        var type = grains.GetGrain<IAdapterGrain>(AdapterIds.BaseModel).GetGrainId().Type;
        try
        {
            var ids = await grains.GetGrain<IManagementGrain>(0).GetActiveGrains(type).AsTask().WaitAsync(DescribeTimeout);
            return ids.Select(id => id.Key.ToString()!).ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return [];
        }
    }

    private static async Task<Dictionary<string, List<DeviceLoad>>> CachedOn(ClusterView cluster)
    {
        var map = new Dictionary<string, List<DeviceLoad>>(StringComparer.Ordinal);
        foreach (var load in await cluster.LoadsAsync())
        {
            foreach (var id in load.CachedAdapters)
            {
                if (!map.TryGetValue(id, out var list))
                    map[id] = list = [];
                list.Add(load);
            }
        }
        return map;
    }

    private static AdapterEntry ToEntry(AdapterDescription d, Dictionary<string, List<DeviceLoad>> cachedOn)
    {
        var c = d.Counters;
        var devices = cachedOn.GetValueOrDefault(d.AdapterId) ?? [];
        return new AdapterEntry(d.AdapterId, d.Source, d.Device is null ? "registered" : "active", d.Residency, d.Pinned, d.Info?.Rank, d.Info?.LoraAlpha, d.Info?.TargetModules,
            d.Silo, d.Device, [.. devices.Select(l => l.Key)], [.. devices.Select(l => l.DeviceName)], d.CreatedAt, new AdapterCountersDto(c.Requests, c.PromptTokens, c.GeneratedTokens, c.Errors, c.Cancelled));
    }

    private static IResult Error(int status, string message, string param, string code) =>
        TypedResults.Json(new ApiErrorResponse(new ApiError(message, "invalid_request_error", param, code)), GatewayJson.Options, statusCode: status);
}
