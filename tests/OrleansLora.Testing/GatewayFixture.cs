using Microsoft.AspNetCore.Builder;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Models;
using OrleansLora.Server.Hosting;

namespace OrleansLora.Testing;

/// <summary>
/// One real server (role Both, localhost clustering, embedded tiny model and demo adapters) listening on
/// a free loopback port, built by the same code as olora-server. Extra configuration comes as
/// command-line style arguments, so a fixture subclass can turn on API keys and the like.
/// </summary>
public class GatewayFixture : IAsyncLifetime
{
    private WebApplication? _app;
    private bool _stopped;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"olora-gateway-{Guid.NewGuid():n}");

    /// <summary>The embedded tiny model the server serves (written at start-up).</summary>
    public string ModelDirectory => Path.Combine(DataDirectory, "models", "tiny");

    /// <summary>The adapter store root: adapters written here can be loaded by name or served on first use.</summary>
    public string AdapterRoot => Path.Combine(DataDirectory, "adapters");

    /// <summary>The base model's name in <c>model</c> fields (the model directory's name).</summary>
    public string BaseModelName => "tiny";

    /// <summary>The silo's Orleans gateway port, for Orleans clients (localhost clustering).</summary>
    public int GatewayPort { get; } = FreePort.Next();

    public string ClusterId { get; } = $"gateway-tests-{Guid.NewGuid():n}";

    /// <summary>The base address, for example http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("the server is not started");

    /// <summary>Arguments added after the fixture's own (later ones win).</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>
    /// Writes a random PEFT adapter for the served model under the adapter root (<paramref name="relativePath"/>,
    /// default: a new unique name) and returns that path; nothing is registered.
    /// </summary>
    public string WriteAdapter(string? relativePath = null, int rank = 8, ulong seed = 7)
    {
        relativePath ??= $"test-{Guid.NewGuid():n}"[..13];
        var config = ModelConfig.Load(ModelDirectory);
        PeftAdapterWriter.WriteRandom(config, Path.Combine(AdapterRoot, relativePath), rank, 2.0 * rank, [.. LoraTargetModules.All], seed);
        return relativePath;
    }

    /// <summary>Whether start-up waits for /ready (a worker's device published its load); false for a server without workers.</summary>
    protected virtual bool WaitUntilReady => true;

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    public async Task InitializeAsync()
    {
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--data", DataDirectory,
            "--silo-port", FreePort.Next().ToString(),
            "--gateway-port", GatewayPort.ToString(),
            "--cluster-id", ClusterId,
            "--Logging:LogLevel:Default=Warning",
            .. ExtraArguments,
        ];
        _app = OrleansLoraServerApp.Build(args);
        await _app.StartAsync();
        // With port 0 Kestrel binds a free port; Urls holds the bound address once started.
        string address = _app.Urls.First();
        BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        if (WaitUntilReady)
            await WaitReadyAsync();
    }

    /// <summary>/ready answers 200 once a worker has published its device load.</summary>
    private async Task WaitReadyAsync()
    {
        using var http = CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await http.GetAsync("ready");
            if (response.IsSuccessStatusCode)
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"/ready still answers {(int)response.StatusCode} after 60 s: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(200);
        }
    }

    /// <summary>Stops the server as SIGTERM does (drain, then leave); <see cref="DisposeAsync"/> does not stop it again.</summary>
    public async Task StopAsync()
    {
        if (_app is not null && !_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await StopAsync();
            await _app.DisposeAsync();
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
