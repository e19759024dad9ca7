using System.Net;
using OrleansLora.Errors;
using OrleansLora.Server.Http;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>
/// Every refusal the gateway makes, each in OpenAI's error shape with the status, type and offending parameter a
/// client acts on; the last test checks the server still serves afterwards.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ErrorTests(GatewayFixture server)
{
    private const string BadRequest = "invalid_request_error";

    /// <summary>A prompt of about 1100 tokens: longer than the tiny model's 1024-position context.</summary>
    private static readonly string TooLong = string.Concat(Enumerable.Repeat(" hello", 1100));

    [Fact]
    public async Task Malformed_json_is_a_400_without_param()
    {
        using var http = server.CreateClient();
        using var response = await Api.PostRawAsync(http, "v1/chat/completions", "{\"messages\": [");
        var error = await Api.AssertErrorAsync(response, HttpStatusCode.BadRequest, BadRequest, null);
        Assert.Contains("not valid JSON", Api.Text(error["message"]));
    }

    [Fact]
    public async Task A_field_of_the_wrong_type_is_a_400_naming_it()
    {
        using var http = server.CreateClient();
        using var chat = await Api.PostRawAsync(http, "v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": \"many\"}");
        await Api.AssertErrorAsync(chat, HttpStatusCode.BadRequest, BadRequest, "max_tokens");
        using var lorax = await Api.PostRawAsync(http, "generate", "{\"inputs\": \"hi\", \"parameters\": {\"temperature\": \"hot\"}}");
        await Api.AssertErrorAsync(lorax, HttpStatusCode.BadRequest, BadRequest, "parameters.temperature");
    }

    [Theory]
    [InlineData("temperature", -1.0, "temperature")]
    [InlineData("temperature", 2.5, "temperature")]
    [InlineData("top_p", 0.0, "top_p")]
    [InlineData("max_tokens", 0, "max_tokens")]
    [InlineData("max_tokens", 5000, "max_tokens")]
    [InlineData("n", 0, "n")]
    [InlineData("n", 17, "n")]
    [InlineData("presence_penalty", 3.0, "presence_penalty")]
    [InlineData("frequency_penalty", -2.5, "frequency_penalty")]
    public async Task A_chat_parameter_out_of_range_is_a_400_naming_it(string name, double value, string param)
    {
        using var http = server.CreateClient();
        var body = Api.Chat(null, "hi", 4, (name, name is "max_tokens" or "n" ? (int)value : value));
        var error = await Api.PostErrorAsync(http, "v1/chat/completions", body, HttpStatusCode.BadRequest, BadRequest, param);
        Assert.Equal("invalid_parameter", Api.Text(error["code"]));
    }

    [Fact]
    public async Task Missing_or_bad_messages_and_prompts_are_400s_naming_them()
    {
        using var http = server.CreateClient();
        await Api.PostErrorAsync(http, "v1/chat/completions", new { model = "demo-sql" }, HttpStatusCode.BadRequest, BadRequest, "messages");
        await Api.PostErrorAsync(http, "v1/chat/completions", new { messages = new[] { new { role = "robot", content = "x" } } }, HttpStatusCode.BadRequest, BadRequest, "messages[0].role");
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 4, ("stop", new[] { "a", "b", "c", "d", "e" })), HttpStatusCode.BadRequest, BadRequest, "stop");
        await Api.PostErrorAsync(http, "v1/completions", new { max_tokens = 3 }, HttpStatusCode.BadRequest, BadRequest, "prompt");
        await Api.PostErrorAsync(http, "v1/completions", new { prompt = new[] { "a", "b" } }, HttpStatusCode.BadRequest, BadRequest, "prompt");
        await Api.PostErrorAsync(http, "v1/completions", new { prompt = "a", n = 2, best_of = 1 }, HttpStatusCode.BadRequest, BadRequest, "best_of");
        await Api.PostErrorAsync(http, "v1/completions", new { prompt = "a", best_of = 17 }, HttpStatusCode.BadRequest, BadRequest, "best_of");
        await Api.PostErrorAsync(http, "v1/completions", new { prompt = "a", best_of = 2, stream = true }, HttpStatusCode.BadRequest, BadRequest, "best_of");
        await Api.PostErrorAsync(http, "generate", new { inputs = "a", parameters = new { best_of = 2 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.best_of");
        await Api.PostErrorAsync(http, "generate_stream", new { inputs = "a", parameters = new { details = true, decoder_input_details = true } }, HttpStatusCode.BadRequest, BadRequest, "parameters.decoder_input_details");
    }

    [Fact]
    public async Task LoRAX_parameters_out_of_range_are_400s_naming_them()
    {
        using var http = server.CreateClient();
        await Api.PostErrorAsync(http, "generate", new { parameters = new { max_new_tokens = 3 } }, HttpStatusCode.BadRequest, BadRequest, "inputs");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { temperature = 0 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.temperature");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { top_k = 0 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.top_k");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { top_p = 1.0 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.top_p");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { repetition_penalty = 0 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.repetition_penalty");
        await Api.PostErrorAsync(http, "generate_stream", new { inputs = "hi", parameters = new { max_new_tokens = 0 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.max_new_tokens");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { max_new_tokens = 5000 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.max_new_tokens");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { adapter_source = "s3" } }, HttpStatusCode.BadRequest, BadRequest, "parameters.adapter_source");
    }

    [Fact]
    public async Task An_unknown_adapter_is_a_404_on_every_api()
    {
        using var http = server.CreateClient();
        var chat = await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat("nope", "hi", 4), HttpStatusCode.NotFound, BadRequest, "model");
        Assert.Equal("model_not_found", Api.Text(chat["code"]));
        Assert.Contains("nope", Api.Text(chat["message"]));
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat("nope", "hi", 4, ("stream", true)), HttpStatusCode.NotFound, BadRequest, "model");
        await Api.PostErrorAsync(http, "v1/completions", new { model = "nope", prompt = "hi" }, HttpStatusCode.NotFound, BadRequest, "model");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { adapter_id = "nope" } }, HttpStatusCode.NotFound, BadRequest, "parameters.adapter_id");
        // A name that can never be an adapter id is a bad parameter, not a missing adapter.
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat("no pe", "hi", 4), HttpStatusCode.BadRequest, BadRequest, "model");
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_a_413_naming_the_prompt_field()
    {
        using var http = server.CreateClient();
        var chat = await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, TooLong, 4), HttpStatusCode.RequestEntityTooLarge, BadRequest, "messages");
        Assert.Equal("context_length_exceeded", Api.Text(chat["code"]));
        Assert.Contains("1024", Api.Text(chat["message"]));
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat("demo-sql", TooLong, 4, ("stream", true)), HttpStatusCode.RequestEntityTooLarge, BadRequest, "messages");
        await Api.PostErrorAsync(http, "v1/completions", new { prompt = TooLong, max_tokens = 4 }, HttpStatusCode.RequestEntityTooLarge, BadRequest, "prompt");
        await Api.PostErrorAsync(http, "generate", new { inputs = TooLong, parameters = new { max_new_tokens = 4 } }, HttpStatusCode.RequestEntityTooLarge, BadRequest, "inputs");
        await Api.PostErrorAsync(http, "generate_stream", new { inputs = TooLong, parameters = new { adapter_id = "demo-poet" } }, HttpStatusCode.RequestEntityTooLarge, BadRequest, "inputs");
    }

    [Fact]
    public async Task Unsupported_OpenAI_features_are_refused_rather_than_ignored()
    {
        using var http = server.CreateClient();
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 4, ("functions", new[] { new { name = "f" } })), HttpStatusCode.BadRequest, BadRequest, "functions");
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 4, ("function_call", new { name = "f" })), HttpStatusCode.BadRequest, BadRequest, "function_call");
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 4, ("audio", new { voice = "alloy", format = "wav" })), HttpStatusCode.BadRequest, BadRequest, "audio");
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 4, ("modalities", new[] { "text", "audio" })), HttpStatusCode.BadRequest, BadRequest, "modalities");
        await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 4, ("web_search_options", new { })), HttpStatusCode.BadRequest, BadRequest, "web_search_options");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { adapter_parameters = new { adapter_ids = new[] { "a", "b" } } } }, HttpStatusCode.BadRequest, BadRequest, "parameters.adapter_parameters");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { typical_p = 0.5 } }, HttpStatusCode.BadRequest, BadRequest, "parameters.typical_p");
        await Api.PostErrorAsync(http, "generate", new { inputs = "hi", parameters = new { watermark = true } }, HttpStatusCode.BadRequest, BadRequest, "parameters.watermark");
        var schema = await Api.PostErrorAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 4, ("response_format", new { type = "json_schema", json_schema = new { name = "x", schema = new { type = "object", not = new { } } } })), HttpStatusCode.BadRequest, BadRequest, "response_format.json_schema.schema");
        Assert.Contains("'not' at #", Api.Text(schema["message"]));
        // Their "off" values are accepted: clients send them by default.
        await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat(null, "hi", 2, ("logprobs", false), ("response_format", new { type = "text" }), ("tools", Array.Empty<object>()),
            ("modalities", new[] { "text" }), ("function_call", "auto"), ("audio", null), ("n", 1)));
        await Api.PostOkAsync(http, "generate", new { inputs = "hi", parameters = new { max_new_tokens = 2, watermark = false, best_of = 1, decoder_input_details = false, typical_p = (double?)null } });
    }

    [Fact]
    public void Queue_full_no_capacity_and_timeouts_map_to_429_503_and_504()
    {
        // Both are produced for real too (LimitsTests, NoWorkerTests); here the Retry-After the exception carries
        // is checked to reach the header, and the 504 for a cluster that does not answer in time.
        var (busy, busyError, busyRetry) = ErrorMapping.Map(new ServerBusyException("the engine already has 1 requests waiting; retry later.", 3));
        Assert.Equal(429, busy);
        Assert.Equal("rate_limit_error", busyError.Type);
        Assert.Equal("queue_full", busyError.Code);
        Assert.Equal(3, busyRetry);

        var (none, noneError, noneRetry) = ErrorMapping.Map(new NoWorkerCapacityException("no silo with devices has published its load."));
        Assert.Equal(503, none);
        Assert.Equal("service_unavailable_error", noneError.Type);
        Assert.Equal("no_worker_capacity", noneError.Code);
        Assert.Equal(1, noneRetry);

        var (timeout, _, _) = ErrorMapping.Map(new TimeoutException("x"));
        Assert.Equal(504, timeout);
    }

    [Fact]
    public async Task After_every_refusal_the_server_still_serves()
    {
        using var http = server.CreateClient();
        using (await Api.PostRawAsync(http, "v1/chat/completions", "{"))
        {
        }
        await Api.PostErrorAsync(http, "v1/completions", new { prompt = TooLong }, HttpStatusCode.RequestEntityTooLarge, BadRequest, "prompt");
        var answer = await Api.PostOkAsync(http, "v1/chat/completions", Api.Chat("demo-sql", "hi", 2));
        Assert.Equal(2, Api.Int(answer["usage"]!["completion_tokens"]));
    }
}
