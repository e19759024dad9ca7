using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Errors;
using OrleansLora.Grains;
using OrleansLora.Grains.Placement;
using OrleansLora.Server.Configuration;

namespace OrleansLora.Server.Http;

/// <summary>
/// What the gateway knows of the cluster without activating adapter grains: the devices' load as this silo last
/// received it (<see cref="DeviceLoadView"/>, no grain call) and the base model's name; turns a <c>model</c> field
/// into an adapter grain key.
/// </summary>
public sealed class ClusterView(IGrainFactory grains, DeviceLoadView view, IOptions<GatewayOptions> options)
{
    public Task<IReadOnlyList<DeviceLoad>> LoadsAsync() => Task.FromResult(view.Fresh());

    /// <summary>The configured base model name, else the one the workers publish, else "base".</summary>
    public async Task<string> BaseModelNameAsync()
    {
        if (options.Value.BaseModelName is { } configured)
            return configured;
        var loads = await LoadsAsync();
        return loads.Select(l => l.BaseModel).FirstOrDefault(n => !string.IsNullOrEmpty(n)) ?? "base";
    }

    /// <summary>
    /// The adapter grain key for <paramref name="model"/>: <see cref="AdapterIds.BaseModel"/> when it is empty or
    /// the base model's name, else the adapter id (refused with a 400 naming <paramref name="param"/> when it
    /// cannot be an adapter id).
    /// </summary>
    public async Task<string> AdapterKeyAsync(string? model, string param)
    {
        if (string.IsNullOrEmpty(model) || model == await BaseModelNameAsync())
            return AdapterIds.BaseModel;
        if (!AdapterIds.IsValid(model))
            throw new InvalidRequestException($"{FieldChecks.Quote(model)} is neither the base model nor a valid adapter id (1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, without \"..\").", param);
        return model;
    }

    public IAdapterGrain Adapter(string key) => grains.GetGrain<IAdapterGrain>(key);

    /// <summary>How long a generation waits for its adapter grain's acknowledgement (<see cref="GatewayOptions.AcceptTimeout"/>).</summary>
    public TimeSpan AcceptTimeout => options.Value.AcceptTimeout;
}
