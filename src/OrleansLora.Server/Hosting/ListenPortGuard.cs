using OrleansLora.Server.Configuration;

namespace OrleansLora.Server.Hosting;

/// <summary>
/// Right after Orleans bound its silo and gateway listeners, and before this silo joins the membership (a
/// second silo on the same endpoint would declare the first one dead), fails start-up when another process
/// listens on the same port too (see <see cref="ListenPorts"/>).
/// </summary>
internal sealed class ListenPortGuard(ILocalSiloDetails silo) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ListenPortGuard), ServiceLifecycleStage.RuntimeInitialize, _ =>
        {
            Check($"{ServerOptions.SectionName}:{nameof(ServerOptions.SiloPort)}", silo.SiloAddress.Endpoint);
            if (silo.GatewayAddress is { } gateway)
                Check($"{ServerOptions.SectionName}:{nameof(ServerOptions.GatewayPort)}", gateway.Endpoint);
            return Task.CompletedTask;
        });

    private static void Check(string option, System.Net.IPEndPoint endpoint)
    {
        if (ListenPorts.CountListeners(endpoint) is > 1 and var count)
            throw new PortInUseException(option, endpoint, $"{count} sockets listen on it; another silo started with the same port at the same time");
    }
}
