using System.ClientModel;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using OpenAI;
using OpenAI.Chat;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>
/// response_format, vLLM's guided_*, LoRAX's parameters.response_format and tools through the real server and
/// the official OpenAI SDK. The served model has random weights, so only the grammar makes the output parse.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class StructuredOutputTests(GatewayFixture server)
{
    internal const string PersonSchema = """
        {"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer","minimum":0,"maximum":120},
         "role":{"enum":["admin","user"]},"tags":{"type":"array","items":{"type":"string","pattern":"^[a-z]{1,5}$"},"maxItems":2}},
         "required":["name","age","role","tags"],"additionalProperties":false}
        """;

    internal const string WeatherParameters = """
        {"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"],"additionalProperties":false}
        """;

    private static readonly EvaluationOptions Strict = new() { RequireFormatValidation = true };

    private ChatClient Client(string model) =>
        new(model, new ApiKeyCredential("any-key"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });

    internal static void AssertValid(string schema, string json)
    {
        using var document = JsonDocument.Parse(json);
        Assert.True(JsonSchema.FromText(schema).Evaluate(document.RootElement, Strict).IsValid, json);
    }

    [Fact]
    public async Task Json_schema_answers_validate_for_every_seed_through_the_sdk()
    {
        var chat = Client("demo-support");
        for (int seed = 1; seed <= 12; seed++)
        {
            var options = new ChatCompletionOptions
            {
                MaxOutputTokenCount = 120,
                Temperature = 1,
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK.
                Seed = seed,
#pragma warning restore OPENAI001
                ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema), jsonSchemaIsStrict: true),
            };
            var completion = (await chat.CompleteChatAsync([new UserChatMessage("Describe a person.")], options)).Value;
            AssertValid(PersonSchema, completion.Content[0].Text);
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        }
    }

    [Fact]
    public async Task Streamed_json_schema_answer_equals_the_whole_one()
    {
        var options = new ChatCompletionOptions
        {
            MaxOutputTokenCount = 100,
            Temperature = 0,
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema)),
        };
        var whole = (await Client("demo-sql").CompleteChatAsync([new UserChatMessage("Who?")], options)).Value.Content[0].Text;
        var text = new StringBuilder();
        await foreach (var update in Client("demo-sql").CompleteChatStreamingAsync([new UserChatMessage("Who?")], options))
        {
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
        }
        Assert.Equal(whole, text.ToString());
        AssertValid(PersonSchema, whole);
    }

    [Fact]
    public async Task Json_object_answers_are_objects()
    {
        var completion = (await Client(server.BaseModelName).CompleteChatAsync([new UserChatMessage("JSON please")],
            new ChatCompletionOptions { MaxOutputTokenCount = 60, Temperature = 1, ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat() })).Value;
        using var document = JsonDocument.Parse(completion.Content[0].Text);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
    }

    [Fact]
    public async Task Required_and_named_tool_calls_parse_and_match_the_function_schema()
    {
        var weather = ChatTool.CreateFunctionTool("get_weather", "Weather in a city", BinaryData.FromString(WeatherParameters));
        var time = ChatTool.CreateFunctionTool("get_time", "Time in a zone", BinaryData.FromString("""{"type":"object","properties":{"zone":{"type":"string","format":"uuid"}},"required":["zone"]}"""));
        foreach (var choice in new[] { ChatToolChoice.CreateRequiredChoice(), ChatToolChoice.CreateFunctionChoice("get_weather") })
        {
            for (int seed = 1; seed <= 5; seed++)
            {
                var options = new ChatCompletionOptions { MaxOutputTokenCount = 120, Temperature = 1, Tools = { weather, time }, ToolChoice = choice };
#pragma warning disable OPENAI001
                options.Seed = seed;
#pragma warning restore OPENAI001
                var completion = (await Client("demo-support").CompleteChatAsync([new UserChatMessage("Weather in Paris?")], options)).Value;
                Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
                Assert.NotEmpty(completion.ToolCalls);
                foreach (var call in completion.ToolCalls)
                {
                    Assert.StartsWith("call_", call.Id);
                    AssertValid(call.FunctionName == "get_weather" ? WeatherParameters : """{"type":"object","properties":{"zone":{"type":"string","format":"uuid"}},"required":["zone"]}""", call.FunctionArguments.ToString());
                }
            }
        }
    }

    [Fact]
    public async Task Streamed_tool_calls_arrive_as_delta_tool_calls_and_a_conversation_with_tool_turns_goes_on()
    {
        var weather = ChatTool.CreateFunctionTool("get_weather", "Weather in a city", BinaryData.FromString(WeatherParameters));
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 80, Temperature = 0, Tools = { weather }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        string? name = null, id = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Client("demo-poet").CompleteChatStreamingAsync([new UserChatMessage("Weather?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                name ??= call.FunctionName;
                id ??= call.ToolCallId;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("get_weather", name);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        AssertValid(WeatherParameters, arguments.ToString());

        // The call and its result go back as assistant and tool turns.
        List<OpenAI.Chat.ChatMessage> conversation =
        [
            new UserChatMessage("Weather?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall(id!, name!, BinaryData.FromString(arguments.ToString()))]),
            new ToolChatMessage(id!, """{"temperature": 21}"""),
        ];
        var answer = (await Client("demo-poet").CompleteChatAsync(conversation, new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0, Tools = { weather } })).Value;
        Assert.Equal(4, answer.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Completions_lorax_and_guided_fields_constrain_too()
    {
        using var http = server.CreateClient();
        var completion = await Api.PostOkAsync(http, "v1/completions", new
        {
            prompt = "Person:",
            max_tokens = 100,
            temperature = 1.0,
            seed = 5,
            response_format = new { type = "json_schema", json_schema = new { name = "person", schema = JsonNode.Parse(PersonSchema) } },
        });
        AssertValid(PersonSchema, Api.Text(completion["choices"]![0]!["text"]));

        var lorax = await Api.PostOkAsync(http, "generate", new
        {
            inputs = "Person:",
            parameters = new { max_new_tokens = 100, do_sample = true, seed = 9, response_format = new { type = "json_object", schema = JsonNode.Parse(PersonSchema) } },
        });
        AssertValid(PersonSchema, Api.Text(lorax["generated_text"]));

        var choice = await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(null, "Mood?", 8, ("temperature", 1.0), ("guided_choice", new[] { "happy", "sad" })));
        Assert.Contains(Api.Text(choice["choices"]![0]!["message"]!["content"]), new[] { "happy", "sad" });

        var regex = await Api.PostOkAsync(http, "v1/completions", new { prompt = "Code:", max_tokens = 12, temperature = 1.0, guided_regex = "[A-Z]{3}-[0-9]{2}" });
        Assert.Matches("^[A-Z]{3}-[0-9]{2}$", Api.Text(regex["choices"]![0]!["text"]));
    }
}
