using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using OpenAI;
using OpenAI.Chat;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>API keys, the admin key, and the queue limit (429 with Retry-After) on a server configured for them.</summary>
public sealed class LimitsTests(LimitedGatewayFixture server) : IClassFixture<LimitedGatewayFixture>
{
    private const string User = LimitedGatewayFixture.UserKey;
    private const string Admin = LimitedGatewayFixture.AdminKey;

    [Fact]
    public async Task A_missing_or_wrong_key_is_a_401_and_a_user_key_serves()
    {
        using var http = server.CreateClient();
        using (var missing = await Api.PostAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 2)))
        {
            var error = await Api.AssertErrorAsync(missing, HttpStatusCode.Unauthorized, "invalid_request_error", null);
            Assert.Equal("missing_api_key", Api.Text(error["code"]));
            Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
        }
        using (var wrong = await Api.PostAsync(http, "generate", new { inputs = "hi" }, key: "not-a-key"))
            Assert.Equal("invalid_api_key", Api.Text((await Api.AssertErrorAsync(wrong, HttpStatusCode.Unauthorized, "invalid_request_error", null))["code"]));
        using (var models = await http.GetAsync("v1/models"))
            await Api.AssertErrorAsync(models, HttpStatusCode.Unauthorized, "invalid_request_error", null);

        var answer = await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 2), User);
        Assert.Equal(2, Api.Int(answer["usage"]!["completion_tokens"]));
        // The admin key is accepted wherever a user key is.
        await Api.PostOkAsync(http, "v1/completions", new { prompt = "hi", max_tokens = 2 }, Admin);
    }

    [Fact]
    public async Task The_OpenAI_SDK_sends_its_key_as_a_bearer_token()
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") };
        var good = await new ChatClient("demo-poet", new ApiKeyCredential(User), options).CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
        Assert.Equal(2, good.Value.Usage.OutputTokenCount);

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => new ChatClient("demo-poet", new ApiKeyCredential("wrong"), options).CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, refused.Status);
    }

    [Fact]
    public async Task Management_needs_the_admin_key_while_probes_need_none()
    {
        using var http = server.CreateClient();
        var load = new { lora_name = "limits-x", lora_path = "../x" };
        await Api.PostErrorAsync(http, "v1/load_lora_adapter", load, HttpStatusCode.Forbidden, "permission_error", null, User);
        await Api.PostErrorAsync(http, "v1/unload_lora_adapter", new { lora_name = "demo-poet" }, HttpStatusCode.Forbidden, "permission_error", null, User);
        await Api.PostErrorAsync(http, "v1/load_lora_adapter", load, HttpStatusCode.Unauthorized, "invalid_request_error", null);
        // With the admin key the request reaches the endpoint, which refuses the path itself.
        await Api.PostErrorAsync(http, "v1/load_lora_adapter", load, HttpStatusCode.BadRequest, "invalid_request_error", "lora_path", Admin);

        using var health = await http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var ready = await http.GetAsync("ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        // Listing adapters is not management: a user key reads it.
        using var list = new HttpRequestMessage(HttpMethod.Get, "v1/adapters");
        list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", User);
        using var listed = await http.SendAsync(list);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
    }

    [Fact]
    public async Task A_full_queue_is_a_429_with_Retry_After()
    {
        using var http = server.CreateClient();
        // One long generation takes the engine's only batch slot ...
        var (running, reader) = await Api.OpenStreamAsync(http, "v1/completions", new { prompt = "Once upon a time", max_tokens = 1000, temperature = 0, stream = true }, User);

        // ... so of two more requests one waits in the one-place queue and the other is refused.
        var b = Api.PostAsync(http, "v1/completions", new { prompt = "b", max_tokens = 2 }, User);
        var c = Api.PostAsync(http, "v1/completions", new { prompt = "c", max_tokens = 2 }, User);
        var done = await Task.WhenAny(b, c);
        var waiting = done == b ? c : b;
        using var refused = await done;
        var error = await Api.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, "rate_limit_error", null);
        Assert.Equal("queue_full", Api.Text(error["code"]));
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {refused.Headers.RetryAfter}");
        Assert.False(waiting.IsCompleted, "the other request should still wait behind the running one");

        // Dropping the long stream cancels it and frees the slot: the waiting request completes.
        reader.Dispose();
        running.Dispose();
        using var served = await waiting;
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }
}
