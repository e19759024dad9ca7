using OrleansLora.Engine.Models;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>
/// Every case of <see cref="AdapterCases"/> through all three entry points (admin load, LoRAX local source,
/// chat first use) against the real keyed server: a 400 <c>invalid_adapter</c> in the OpenAI error shape
/// naming the problem, or a valid load — never a hang (each request has a deadline) or a 5xx; and after
/// each case a normal chat on demo-sql still succeeds.
/// </summary>
[Collection(AdapterFilesCollection.Name)]
public sealed class AdapterFileFuzzTests(AdapterFilesServer server) : IDisposable
{
    private readonly EntryPoints _entry = new(server);

    public static TheoryData<string> Cases => new(AdapterCases.All.Select(c => c.Name));

    [Fact]
    public void The_corpus_is_broad_and_its_names_are_adapter_ids()
    {
        Assert.True(AdapterCases.All.Count >= 100, $"only {AdapterCases.All.Count} cases");
        Assert.Equal(AdapterCases.All.Count, AdapterCases.All.Select(c => c.Name).Distinct().Count());
        Assert.All(AdapterCases.All, c => Assert.True(OrleansLora.Adapters.AdapterIds.IsValid("adm-" + c.Name), c.Name));
        Assert.All(AdapterCases.All.Where(c => c.Outcome is Outcome.Refused or Outcome.PathRefused), c => Assert.NotEmpty(c.Mentions));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_entry_point_refuses_with_invalid_adapter_or_loads_and_the_server_stays_healthy(string name)
    {
        var adapterCase = AdapterCases.Get(name);
        adapterCase.Build(new CaseContext(server.AdapterRoot, name, server.Outside, ModelConfig.Load(server.ModelDirectory)));
        string adminName = "adm-" + name;
        try
        {
            // LoRAX before the chat: a chat's first use registers the name unvalidated, and LoRAX must
            // validate the directory itself.
            Check(adapterCase, await _entry.AdminLoadAsync(adminName, name, name));
            Check(adapterCase, await _entry.LoraxLocalAsync(name, name));
            Check(adapterCase, await _entry.ChatAsync(name, name));
        }
        finally
        {
            await _entry.UnloadAsync(name, adminName, name);
        }
        await _entry.AssertHealthyAsync(name);
    }

    private static void Check(AdapterCase adapterCase, Answer answer)
    {
        string what = $"{adapterCase.Name} ({adapterCase.Outcome}): {answer}";
        Assert.True(answer.Status < 500, $"a 5xx: {what}");
        switch (adapterCase.Outcome)
        {
            case Outcome.Loads:
                Assert.True(answer.Status == 200, $"expected a load: {what}");
                break;
            case Outcome.Refused:
                AssertRefused(adapterCase, answer, what);
                break;
            case Outcome.RefusedOrLoads:
                if (answer.Status != 200)
                    AssertRefused(adapterCase, answer, what);
                break;
            case Outcome.PathRefused:
                AssertPathRefused(adapterCase, answer, what);
                break;
        }
    }

    private static void AssertRefused(AdapterCase adapterCase, Answer answer, string what)
    {
        Assert.True(answer.Status == 400 && answer.Error is not null, $"expected 400 in the OpenAI error shape: {what}");
        Assert.True(answer.Code == "invalid_adapter", $"expected code invalid_adapter: {what}");
        Assert.Equal("invalid_request_error", (string?)answer.Error!["type"]);
        AssertMentions(adapterCase, answer, what);
    }

    private static void AssertPathRefused(AdapterCase adapterCase, Answer answer, string what)
    {
        Assert.NotNull(answer.Error);
        if (answer.EntryPoint == EntryPoints.Chat)
        {
            // First use does not follow a link out of the store: the name is not found.
            Assert.True(answer.Status == 404 && answer.Code == "model_not_found", $"expected 404 model_not_found: {what}");
            return;
        }
        string param = answer.EntryPoint == EntryPoints.Admin ? "lora_path" : "parameters.adapter_id";
        Assert.True(answer.Status == 400 && answer.Code == "invalid_parameter" && answer.Param == param, $"expected 400 invalid_parameter on {param}: {what}");
        AssertMentions(adapterCase, answer, what);
    }

    private static void AssertMentions(AdapterCase adapterCase, Answer answer, string what) =>
        Assert.True(adapterCase.Mentions.Any(m => answer.Message.Contains(m, StringComparison.OrdinalIgnoreCase)),
            $"the message names none of [{string.Join(", ", adapterCase.Mentions)}]: {what}");

    public void Dispose() => _entry.Dispose();
}
