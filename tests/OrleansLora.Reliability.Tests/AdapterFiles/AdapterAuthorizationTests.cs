using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using OrleansLora.Engine.Models;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>
/// Issue 12 item 3: a registration changes only through the admin load. LoRAX's local source (any key) only
/// adds registrations: an id already registered from another path — an admin's, or a path that makes the
/// same id ("team/v2" and "team.v2") — is refused with 409 adapter_conflict and stays as it was.
/// </summary>
[Collection(AdapterFilesCollection.Name)]
public sealed class AdapterAuthorizationTests(AdapterFilesServer server) : IDisposable
{
    private readonly EntryPoints _entry = new(server);
    private readonly ModelConfig _model = ModelConfig.Load(server.ModelDirectory);

    private string Write(string relative, int rank)
    {
        new CaseContext(server.AdapterRoot, relative, server.Outside, _model).WriteValid(rank);
        return relative;
    }

    private static void AssertConflict(Answer answer, string registeredSource)
    {
        Assert.True(answer.Status == 409 && answer.Code == "adapter_conflict" && answer.Param == "parameters.adapter_id", answer.ToString());
        Assert.Equal("invalid_request_error", (string?)answer.Error!["type"]);
        Assert.Contains($"already registered from \"{registeredSource}\"", answer.Message);
    }

    [Fact]
    public async Task A_user_key_cannot_re_point_an_admin_registration_through_the_local_source()
    {
        string team = $"t{Guid.NewGuid():n}"[..10];
        string id = $"{team}.v2";
        Write($"{team}/v2", rank: 8);
        try
        {
            var loaded = await _entry.AdminLoadAsync(id, "demo-sql", "admin load");
            Assert.True(loaded.Status == 200, loaded.ToString());

            // The attack of issue 12: the same id through LoRAX's local source, with a plain API key.
            AssertConflict(await _entry.LoraxLocalAsync($"{team}/v2", "re-point attempt"), "demo-sql");
            AssertConflict(await _entry.LoraxLocalAsync($"{team}//v2/", "re-point attempt, spelled differently"), "demo-sql");
            // Nor with the admin key: /generate never changes a registration, whoever sends it.
            AssertConflict(await _entry.LoraxLocalAsync($"{team}/v2", "re-point attempt with the admin key", AdapterFilesServer.AdminKey), "demo-sql");
            // Nor through the admin endpoint with a user key.
            using (var http = new HttpClient { BaseAddress = server.BaseAddress })
            using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/load_lora_adapter") { Content = JsonContent.Create(new { lora_name = id, lora_path = $"{team}/v2" }) })
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdapterFilesServer.UserKey);
                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            }

            var entry = await _entry.DescribeAsync(id);
            Assert.NotNull(entry);
            Assert.Equal("demo-sql", (string?)entry!["source"]);
            Assert.Equal(16, (int?)entry["rank"]);
            // The registered adapter still serves under its id.
            var chat = await _entry.ChatAsync(id, "chat on the admin's registration");
            Assert.True(chat.Status == 200, chat.ToString());
            // The admin can re-point it deliberately.
            var repointed = await _entry.AdminLoadAsync(id, $"{team}/v2", "admin re-point");
            Assert.True(repointed.Status == 200, repointed.ToString());
            Assert.Equal(8, (int?)(await _entry.DescribeAsync(id))!["rank"]);
        }
        finally
        {
            await _entry.UnloadAsync("authorization", id);
        }
    }

    [Fact]
    public async Task Paths_that_make_the_same_id_do_not_take_each_others_registration()
    {
        string group = $"g{Guid.NewGuid():n}"[..10];
        string id = $"{group}.v1";
        Write(id, rank: 2);          // a directory literally named "<group>.v1"
        Write($"{group}/v1", rank: 8); // and "<group>/v1", whose id is the same
        try
        {
            // The name is the directory's: LoRAX's "<group>.v1" and a chat register and serve it.
            var direct = await _entry.LoraxLocalAsync(id, "local by the dotted name");
            Assert.True(direct.Status == 200, direct.ToString());
            // The nested path makes the same id: refused, never silently served from the other directory.
            AssertConflict(await _entry.LoraxLocalAsync($"{group}/v1", "local by the nested path"), id);
            Assert.Equal(2, (int?)(await _entry.DescribeAsync(id))!["rank"]);
            Assert.True((await _entry.ChatAsync(id, "chat by name")).Status == 200);
        }
        finally
        {
            await _entry.UnloadAsync("same id", id);
        }
    }

    [Fact]
    public async Task Concurrent_local_requests_for_two_paths_of_one_id_register_exactly_one()
    {
        string root = $"r{Guid.NewGuid():n}"[..10];
        // "<root>/a.b" and "<root>.a/b" both make the id "<root>.a.b"; neither is a directory of that name.
        Write($"{root}/a.b", rank: 2);
        Write($"{root}.a/b", rank: 8);
        string id = $"{root}.a.b";
        try
        {
            var answers = await Task.WhenAll(
                _entry.LoraxLocalAsync($"{root}/a.b", "race, first path"),
                _entry.LoraxLocalAsync($"{root}.a/b", "race, second path"));
            Assert.Single(answers, a => a.Status == 200);
            var loser = Assert.Single(answers, a => a.Status != 200);
            Assert.True(loser.Status == 409 && loser.Code == "adapter_conflict", loser.ToString());
            var entry = await _entry.DescribeAsync(id);
            int rank = answers[0].Status == 200 ? 2 : 8;
            Assert.Equal(rank, (int?)entry!["rank"]);
            Assert.Equal(answers[0].Status == 200 ? $"{root}/a.b" : $"{root}.a/b", (string?)entry["source"]);
        }
        finally
        {
            await _entry.UnloadAsync("race", id);
        }
    }

    public void Dispose() => _entry.Dispose();
}
