using OrleansLora.Engine.Models;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>
/// Issue 12 item 4: a FIFO as adapter_config.json used to block the device's grain turn (load publishing
/// stopped, new adapters timed out until the FIFO was fed). Now it is refused before it is opened for
/// reading, and the device keeps serving other loads meanwhile.
/// </summary>
[Collection(AdapterFilesCollection.Name)]
public sealed class NonRegularFileTests(AdapterFilesServer server) : IDisposable
{
    private readonly EntryPoints _entry = new(server);

    [Theory]
    [InlineData(CaseContext.ConfigFile)]
    [InlineData(CaseContext.WeightsFile)]
    public async Task A_fifo_is_refused_at_every_entry_point_while_other_adapters_load_and_nobody_waits_on_it(string file)
    {
        var model = ModelConfig.Load(server.ModelDirectory);
        string name = $"fifo-{Guid.NewGuid():n}"[..16];
        var fifoCase = new CaseContext(server.AdapterRoot, name, server.Outside, model);
        fifoCase.WriteValid();
        fifoCase.ReplaceWithFifo(file);
        string fine = $"fine-{Guid.NewGuid():n}"[..16];
        new CaseContext(server.AdapterRoot, fine, server.Outside, model).WriteValid(rank: 2);
        try
        {
            // All at once: the FIFO's three loads and a valid new adapter on the same device.
            var admin = _entry.AdminLoadAsync("adm-" + name, name, name);
            var lorax = _entry.LoraxLocalAsync(name, name);
            var chat = _entry.ChatAsync(name, name);
            var other = _entry.AdminLoadAsync(fine, fine, fine);
            foreach (var answer in await Task.WhenAll(admin, lorax, chat))
            {
                Assert.True(answer.Status == 400 && answer.Code == "invalid_adapter", answer.ToString());
                Assert.Contains("FIFO", answer.Message);
            }
            var loaded = await other;
            Assert.True(loaded.Status == 200, loaded.ToString());
            Assert.False(Fifo.HasReader(Path.Combine(fifoCase.Directory, file)), "the server holds the FIFO open for reading");
            Assert.True((await _entry.ChatAsync(fine, "chat on the adapter loaded beside the FIFO")).Status == 200);
        }
        finally
        {
            await _entry.UnloadAsync(name, "adm-" + name, name, fine);
        }
        await _entry.AssertHealthyAsync(name);
    }

    public void Dispose() => _entry.Dispose();
}
