using OrleansLora.Engine.Models;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>
/// Issue 12 items 1 and 2, exactly as reported, through chat first use, LoRAX's local source and the admin
/// load: a directory link that escapes through ".." after a link, and adapter files that are links out of
/// the store. The victim outside is a valid adapter of another rank, so serving it would show.
/// </summary>
[Collection(AdapterFilesCollection.Name)]
public sealed class SandboxEscapeTests(AdapterFilesServer server) : IDisposable
{
    private readonly EntryPoints _entry = new(server);
    private readonly ModelConfig _model = ModelConfig.Load(server.ModelDirectory);

    [Fact]
    public async Task A_directory_link_through_dotdot_after_a_link_is_refused_at_every_entry_point()
    {
        // ln -s <outside>/deep sdeep; ln -s sdeep/../victim dotdotlink
        string name = $"dotdotlink-{Guid.NewGuid():n}"[..20];
        var victim = new CaseContext(server.AdapterRoot, name, server.Outside, _model);
        victim.WriteValid(rank: 2, directory: Path.Combine(victim.Outside, "victim"));
        Directory.CreateDirectory(Path.Combine(victim.Outside, "deep"));
        Directory.CreateSymbolicLink(Path.Combine(server.AdapterRoot, name + "-sdeep"), Path.Combine(victim.Outside, "deep"));
        Directory.CreateSymbolicLink(Path.Combine(server.AdapterRoot, name), $"{name}-sdeep/../victim");
        Assert.True(File.Exists(Path.Combine(server.AdapterRoot, name, CaseContext.ConfigFile)), "the link must really reach the victim");
        try
        {
            var admin = await _entry.AdminLoadAsync("adm-" + name, name, "dotdotlink");
            Assert.True(admin.Status == 400 && admin.Param == "lora_path" && admin.Message.Contains("outside the adapter store"), admin.ToString());
            var lorax = await _entry.LoraxLocalAsync(name, "dotdotlink");
            Assert.True(lorax.Status == 400 && lorax.Param == "parameters.adapter_id" && lorax.Message.Contains("outside the adapter store"), lorax.ToString());
            var chat = await _entry.ChatAsync(name, "dotdotlink");
            Assert.True(chat.Status == 404 && chat.Code == "model_not_found", chat.ToString());
            Assert.Null(await _entry.DescribeAsync("adm-" + name));
            Assert.Null(await _entry.DescribeAsync(name));
        }
        finally
        {
            await _entry.UnloadAsync("dotdotlink", "adm-" + name, name);
        }
        await _entry.AssertHealthyAsync("dotdotlink");
    }

    [Theory]
    [InlineData(CaseContext.ConfigFile)]
    [InlineData(CaseContext.WeightsFile)]
    public async Task An_adapter_file_linked_out_of_the_store_is_refused_at_every_entry_point(string file)
    {
        string name = $"filelink-{Guid.NewGuid():n}"[..18];
        var adapter = new CaseContext(server.AdapterRoot, name, server.Outside, _model);
        adapter.WriteValid(rank: 4);
        string victim = Path.Combine(adapter.Outside, "victim");
        adapter.WriteValid(rank: 2, directory: victim);
        adapter.ReplaceWithLink(file, Path.Combine(victim, file));
        try
        {
            foreach (var answer in new[]
            {
                await _entry.AdminLoadAsync("adm-" + name, name, file),
                await _entry.LoraxLocalAsync(name, file),
                await _entry.ChatAsync(name, file),
            })
            {
                Assert.True(answer.Status == 400 && answer.Code == "invalid_adapter", answer.ToString());
                Assert.Contains(file, answer.Message);
                Assert.Contains("outside the adapter store", answer.Message);
                Assert.DoesNotContain(victim, answer.Message);
            }
            Assert.Null(await _entry.DescribeAsync("adm-" + name));
        }
        finally
        {
            await _entry.UnloadAsync(file, "adm-" + name, name);
        }
        await _entry.AssertHealthyAsync(file);
    }

    public void Dispose() => _entry.Dispose();
}
