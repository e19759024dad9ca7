using System.Text.Json;
using Json.Schema;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansLora.Client;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>The .NET <see cref="IChatClient"/> maps ChatOptions.Tools, ToolMode and ResponseFormat over a real Orleans client.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ChatClientToolTests(GatewayFixture server) : IAsyncLifetime
{
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string","maxLength":12},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","days"],"additionalProperties":false}""";

    private IHost? _host;

    private IChatClient Chat => _host!.Services.GetRequiredService<IChatClient>();

    public async Task InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOrleansLoraClient(o =>
        {
            o.GatewayPorts = [server.GatewayPort];
            o.ClusterId = server.ClusterId;
            o.BaseModelName = server.BaseModelName;
        });
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }

    private static void AssertValid(string json)
    {
        using var document = JsonDocument.Parse(json);
        Assert.True(JsonSchema.FromText(Schema).Evaluate(document.RootElement).IsValid, json);
    }

    [Fact]
    public async Task A_json_schema_response_format_constrains_the_answer()
    {
        using var schema = JsonDocument.Parse(Schema);
        var options = new ChatOptions { ModelId = "demo-sql", MaxOutputTokens = 60, Temperature = 1, Seed = 4, ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement.Clone(), "trip") };
        var response = await Chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Plan a trip")], options);
        AssertValid(response.Text);
    }

    [Fact]
    public async Task A_required_tool_mode_yields_function_calls_whole_and_streamed()
    {
        using var schema = JsonDocument.Parse(Schema);
        var tool = AIFunctionFactory.CreateDeclaration("plan_trip", "Plans a trip", schema.RootElement.Clone());
        foreach (var mode in new ChatToolMode[] { ChatToolMode.RequireAny, ChatToolMode.RequireSpecific("plan_trip") })
        {
            var options = new ChatOptions { ModelId = "demo-support", MaxOutputTokens = 80, Temperature = 1, Seed = 2, Tools = [tool], ToolMode = mode };
            var response = await Chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Plan a trip")], options);
            var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            Assert.Equal("plan_trip", call.Name);
            Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
            AssertValid(JsonSerializer.Serialize(call.Arguments));

            var updates = new List<ChatResponseUpdate>();
            await foreach (var update in Chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Plan a trip")], options))
                updates.Add(update);
            var streamedCall = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
            Assert.Equal(JsonSerializer.Serialize(call.Arguments), JsonSerializer.Serialize(streamedCall.Arguments));

            // The call and its result go back in the next turn.
            var next = await Chat.GetResponseAsync(
                [new ChatMessage(ChatRole.User, "Plan a trip"), new ChatMessage(ChatRole.Assistant, [call]), new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, "booked")])],
                new ChatOptions { ModelId = "demo-support", MaxOutputTokens = 3, Temperature = 0, Tools = [tool] });
            Assert.Equal(3, next.Usage!.OutputTokenCount);
        }
    }
}
