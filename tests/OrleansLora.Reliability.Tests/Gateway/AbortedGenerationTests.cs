using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using OrleansLora.Grains;
using OrleansLora.Grains.Devices;
using OrleansLora.Reliability.Tests.Support;

namespace OrleansLora.Reliability.Tests.Gateway;

/// <summary>
/// Issue 12 items 9 and 15: an adapter grain deactivated while it streams a generation (as a graceful stop of its
/// silo, or a failover that moves its directory entry, does) leaves the gateway holding an enumeration that no
/// longer exists: <c>EnumerationAbortedException</c>. That is a 503 <c>worker_unavailable</c> with Retry-After, and
/// once an event stream has started, an error event in OpenAI's shape that ends the stream, never a 500 or a
/// stream cut short without a word.
/// </summary>
[Collection(HostileGatewayCollection.Name)]
public sealed class AbortedGenerationTests(HostileGatewayFixture server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_chat_stream_whose_adapter_grain_is_deactivated_ends_with_a_worker_unavailable_event_then_DONE()
    {
        string adapter = server.WriteAdapter();
        using var http = server.CreateClient();
        var (response, reader) = await Api.OpenStreamAsync(http, "v1/chat/completions", LongChat(adapter, stream: true), HostileGatewayFixture.UserKey);
        using (response)
        using (reader)
        {
            await DeactivateAsync(adapter);
            var events = DataLines(await reader.ReadToEndAsync().WaitAsync(Deadline));
            Assert.True(events.Count >= 2, $"the stream ended with {events.Count} more events");
            Assert.Equal("[DONE]", events[^1]);
            AssertWorkerUnavailable(JsonNode.Parse(events[^2])!);
        }
    }

    [Fact]
    public async Task A_chat_stream_of_three_choices_whose_adapter_grain_is_deactivated_ends_with_one_error_event_and_frees_every_sample()
    {
        string adapter = server.WriteAdapter();
        using var http = server.CreateClient();
        var engine = server.Services.GetRequiredService<DeviceEngines>()[0];
        int runningBefore = engine.Statistics.RunningSequences;
        var body = Api.Chat(adapter, "Hello", 1000, ("stream", true), ("ignore_eos", true), ("n", 3), ("temperature", 1.0));
        var (response, reader) = await Api.OpenStreamAsync(http, "v1/chat/completions", body, HostileGatewayFixture.UserKey);
        using (response)
        using (reader)
        {
            await DeactivateAsync(adapter);
            var events = DataLines(await reader.ReadToEndAsync().WaitAsync(Deadline));
            Assert.Equal("[DONE]", events[^1]);
            AssertWorkerUnavailable(JsonNode.Parse(events[^2])!);
            Assert.Single(events, e => e.StartsWith("{\"error\"", StringComparison.Ordinal));
        }
        // No sample keeps generating for nobody.
        var deadline = DateTime.UtcNow + Deadline;
        while (engine.Statistics.RunningSequences > runningBefore)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{engine.Statistics.RunningSequences - runningBefore} samples still run after the stream ended");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_LoRAX_stream_whose_adapter_grain_is_deactivated_ends_with_a_worker_unavailable_event()
    {
        string adapter = server.WriteAdapter();
        using var http = server.CreateClient();
        var body = new { inputs = "Hello", parameters = new { adapter_id = adapter, max_new_tokens = 900 } };
        var (response, reader) = await Api.OpenStreamAsync(http, "generate_stream", body, HostileGatewayFixture.UserKey);
        using (response)
        using (reader)
        {
            await DeactivateAsync(adapter);
            var events = DataLines(await reader.ReadToEndAsync().WaitAsync(Deadline));
            Assert.NotEmpty(events);
            AssertWorkerUnavailable(JsonNode.Parse(events[^1])!);
        }
    }

    [Fact]
    public async Task A_chat_whose_adapter_grain_is_deactivated_before_its_answer_is_a_503_with_Retry_After()
    {
        string adapter = server.WriteAdapter();
        using var http = server.CreateClient();
        var engine = server.Services.GetRequiredService<DeviceEngines>()[0];
        int runningBefore = engine.Statistics.RunningSequences;
        var answer = Api.PostAsync(http, "v1/chat/completions", LongChat(adapter, stream: false), HostileGatewayFixture.UserKey);
        // The generation is running once the engine holds one more sequence; the answer waits for its end.
        var deadline = DateTime.UtcNow + Deadline;
        while (engine.Statistics.RunningSequences <= runningBefore && !answer.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "phase 1: the generation never started in the engine");
            await Task.Delay(5);
        }
        await DeactivateAsync(adapter);
        using var response = await answer.WaitAsync(Deadline);
        var error = await Api.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "service_unavailable_error", null);
        Assert.Equal("worker_unavailable", Api.Text(error["code"]));
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
    }

    /// <summary>A generation long enough (the context's worth) to still be running when the grain goes.</summary>
    private static Dictionary<string, object?> LongChat(string adapter, bool stream) =>
        Api.Chat(adapter, "Hello", 1000, ("stream", stream), ("ignore_eos", true));

    /// <summary>Deactivates the adapter's grain as soon as no call is running on it (between two reads of the stream).</summary>
    private async Task DeactivateAsync(string adapter)
    {
        var grains = server.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IAdapterGrain>(adapter).Cast<IGrainManagementExtension>().DeactivateOnIdle().AsTask().WaitAsync(Deadline);
    }

    private static void AssertWorkerUnavailable(JsonNode evt)
    {
        var error = evt["error"]?.AsObject();
        Assert.True(error is not null, $"the last event is not an error: {evt.ToJsonString()}");
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.Equal("service_unavailable_error", Api.Text(error["type"]));
        Assert.Equal("worker_unavailable", Api.Text(error["code"]));
    }

    /// <summary>The payloads of the <c>data: </c> lines in the rest of an event stream.</summary>
    private static List<string> DataLines(string rest) =>
        [.. rest.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..])];
}
