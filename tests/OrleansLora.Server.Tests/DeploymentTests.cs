using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>What an orchestrator relies on: /live, the vLLM LoRA gauge on /metrics.</summary>
[Collection(GatewayCollection.Name)]
public sealed class DeploymentTests(GatewayFixture server)
{
    [Fact]
    public async Task Live_answers_ok()
    {
        using var http = server.CreateClient();
        Assert.Equal("ok", Api.Text((await Api.GetOkAsync(http, "live"))["status"]));
    }

    [Fact]
    public async Task Metrics_carry_vllm_lora_requests_info_with_the_adapter_in_a_slot_and_max_lora()
    {
        string adapter = server.WriteAdapter(seed: 41);
        using var http = server.CreateClient();
        await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(adapter, "Route me", 2));

        string text = await http.GetStringAsync("metrics");
        var line = new Regex("^vllm:lora_requests_info\\{running_lora_adapters=\"([^\"]*)\",waiting_lora_adapters=\"([^\"]*)\",max_lora=\"(\\d+)\"\\} (\\d+(\\.\\d+)?)$", RegexOptions.Multiline).Match(text);
        Assert.True(line.Success, $"no vllm:lora_requests_info line in:\n{text}");
        Assert.Contains(adapter, line.Groups[1].Value.Split(','));
        Assert.Equal("", line.Groups[2].Value); // nothing waits once the request is answered
        Assert.Equal("8", line.Groups[3].Value); // appsettings.json MaxLoras
        double at = double.Parse(line.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(at, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        Assert.Contains("# TYPE vllm:lora_requests_info gauge", text);
        Assert.Matches(new Regex("^olora_device_adapter_slots\\{", RegexOptions.Multiline), text); // the exporter's own lines are still there
    }

    [Fact]
    public async Task OpenMetrics_scrapes_get_the_gauge_before_the_closing_EOF()
    {
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/openmetrics-text"));
        using var response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("# EOF\n", text);
        Assert.Contains("\nvllm:lora_requests_info{", text);
        Assert.Single(Regex.Matches(text, "^# EOF$", RegexOptions.Multiline));
    }
}
