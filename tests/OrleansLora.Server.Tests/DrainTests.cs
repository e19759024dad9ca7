using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OrleansLora.Server.Hosting.Drain;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>SIGTERM's drain: not ready, new requests refused with 503 and Retry-After, the request in flight finished.</summary>
public sealed class DrainTests
{
    [Fact]
    public async Task A_stopping_server_refuses_new_requests_and_finishes_the_one_in_flight()
    {
        var server = new DrainingGatewayFixture();
        await server.InitializeAsync();
        try
        {
            using var http = server.CreateClient();
            var drain = server.Services.GetRequiredService<DrainState>();
            string json = JsonSerializer.Serialize(Api.Chat(server.BaseModelName, "Finish me", 3));
            var body = new HeldBodyContent(json, json.Length / 2);
            body.Headers.ContentType = new("application/json");
            var inFlight = http.PostAsync("v1/chat/completions", body);
            await WaitAsync(() => drain.InFlight == 1, "the held request to enter the server");

            var stopping = server.StopAsync();
            await WaitAsync(() => drain.IsDraining, "the drain to start");

            using (var ready = await http.GetAsync("ready"))
            {
                var error = await Api.AssertErrorAsync(ready, HttpStatusCode.ServiceUnavailable, "service_unavailable_error", null);
                Assert.Equal("draining", Api.Text(error["code"]));
            }
            using (var refused = await Api.PostAsync(http, "v1/chat/completions", Api.Chat(server.BaseModelName, "Too late", 2)))
            {
                Assert.Equal("3", refused.Headers.GetValues("Retry-After").Single());
                var error = await Api.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "service_unavailable_error", null);
                Assert.Equal("draining", Api.Text(error["code"]));
            }
            Assert.False(stopping.IsCompleted, "the server stopped with a request in flight");

            body.Release();
            using var finished = await inFlight;
            Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
            var answer = Api.Parse(await finished.Content.ReadAsStringAsync());
            Assert.InRange(Api.Int(answer["usage"]!["completion_tokens"]), 1, 3);
            await stopping.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
