using System.Net;
using System.Text.Json.Nodes;
using OrleansLora.Reliability.Tests.Support;

namespace OrleansLora.Reliability.Tests;

/// <summary>The attacked server really is keyed: without a valid key nothing but the probes answers.</summary>
[Collection(HostileGatewayCollection.Name)]
public sealed class KeyedServerTests(HostileGatewayFixture server)
{
    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized, "missing_api_key")]
    [InlineData("not-a-key", HttpStatusCode.Unauthorized, "invalid_api_key")]
    public async Task A_chat_without_a_valid_key_is_refused_in_the_OpenAI_error_shape(string? key, HttpStatusCode status, string code)
    {
        using var http = server.CreateClient();
        using var response = await Api.PostAsync(http, "v1/chat/completions",
            new { model = "demo-sql", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 2 }, key);
        Assert.Equal(status, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(code, (string?)error["code"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
    }

    [Fact]
    public async Task The_user_key_serves_a_chat_and_the_probes_need_no_key()
    {
        using var http = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
        var answer = await Api.PostOkAsync(http, "v1/chat/completions",
            new { model = "demo-sql", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 2 }, HostileGatewayFixture.UserKey);
        Assert.Equal("chat.completion", (string?)answer["object"]);
    }
}
