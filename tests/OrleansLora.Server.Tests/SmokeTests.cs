using System.Net;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

[Collection(GatewayCollection.Name)]
public sealed class SmokeTests(GatewayFixture server)
{
    [Fact]
    public async Task Health_and_models_answer_on_loopback()
    {
        using var http = server.CreateClient();
        using var health = await http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        string models = await http.GetStringAsync("v1/models");
        Assert.Contains("\"demo-poet\"", models);
    }
}
