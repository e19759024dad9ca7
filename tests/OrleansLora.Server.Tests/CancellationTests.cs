using System.Text.Json.Nodes;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>A client that goes away mid-stream cancels its generation in the engine.</summary>
[Collection(GatewayCollection.Name)]
public sealed class CancellationTests(GatewayFixture server)
{
    [Theory]
    [InlineData("v1/chat/completions")]
    [InlineData("generate_stream")]
    public async Task A_dropped_stream_cancels_the_generation_and_frees_the_sequence(string path)
    {
        // An adapter of its own, so its counters count this request alone.
        string adapter = server.WriteAdapter();
        // No response draining: by default disposing an unread response reads up to 1 MB of the rest
        // for up to 2 s to keep the connection, so a fast generation finished within the drain and the
        // server never saw the client go (seen once in CI: 1000 tokens, nothing cancelled).
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        object body = path == "generate_stream"
            ? new { inputs = "Once upon a time", parameters = new { adapter_id = adapter, max_new_tokens = 1000 } }
            : Api.Chat(adapter, "Once upon a time", 1000, ("temperature", 0), ("stream", true));
        var (response, reader) = await Api.OpenStreamAsync(http, path, body);

        reader.Dispose();
        response.Dispose(); // closes the connection mid-response: the server sees the request aborted

        var counters = await WaitForAsync(http, $"v1/adapters/{adapter}", a => Api.Int(a["counters"]!["cancelled"]) == 1);
        Assert.Equal(0, Api.Int(counters["counters"]!["errors"]));
        Assert.True(counters["counters"]!["generated_tokens"]!.GetValue<long>() < 1000);
        await WaitForAsync(http, "info", info => info["devices"]!.AsArray().All(d => Api.Int(d!["running_sequences"]) == 0));
    }

    /// <summary>Polls <paramref name="path"/> until <paramref name="done"/> holds (30 s), failing with the last answer.</summary>
    internal static async Task<JsonObject> WaitForAsync(HttpClient http, string path, Func<JsonObject, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var answer = await Api.GetOkAsync(http, path);
            if (done(answer))
                return answer;
            Assert.True(DateTime.UtcNow < deadline, $"GET {path} still answers {answer.ToJsonString()} after 30 s");
            await Task.Delay(100);
        }
    }
}
