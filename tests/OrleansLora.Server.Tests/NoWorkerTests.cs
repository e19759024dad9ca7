using System.Net;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>A gateway with no worker silo: not ready, and generations refused with 503 and Retry-After.</summary>
public sealed class NoWorkerTests(GatewayOnlyFixture server) : IClassFixture<GatewayOnlyFixture>
{
    [Fact]
    public async Task Ready_is_a_503_while_health_is_ok()
    {
        using var http = server.CreateClient();
        using var ready = await http.GetAsync("ready");
        var error = await Api.AssertErrorAsync(ready, HttpStatusCode.ServiceUnavailable, "service_unavailable_error", null);
        Assert.Equal("not_ready", Api.Text(error["code"]));
        using var health = await http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task A_generation_is_a_503_no_worker_capacity_with_Retry_After()
    {
        using var http = server.CreateClient();
        // Placement retries for about 10 s while no device has published before it gives up.
        using var response = await Api.PostAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 2));
        var error = await Api.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "service_unavailable_error", null);
        Assert.Equal("no_worker_capacity", Api.Text(error["code"]));
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {response.Headers.RetryAfter}");
    }
}
