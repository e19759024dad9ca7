using System.Net;
using System.Text;
using OrleansLora.Server.Configuration;
using OrleansLora.Server.Hosting;

namespace OrleansLora.Reliability.Tests.Gateway;

/// <summary>
/// Issue 12 item 6: <c>OrleansLora:Gateway:MaxRequestBodyBytes</c> bounds every endpoint's body, a larger one is a 413
/// in OpenAI's shape (not Kestrel's 500), and the option is validated at start-up.
/// </summary>
public sealed class BodyLimitTests(SmallBodyGatewayFixture server) : IClassFixture<SmallBodyGatewayFixture>
{
    public static TheoryData<string> JsonEndpoints => ["v1/chat/completions", "v1/completions", "generate", "generate_stream", "v1/load_lora_adapter", "v1/unload_lora_adapter"];

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task A_body_one_byte_over_the_configured_limit_is_a_413_and_one_at_it_is_read(string path)
    {
        using var http = server.CreateClient();
        using var over = await http.PostAsync(path, Padded("{}", SmallBodyGatewayFixture.Limit + 1));
        var error = await Api.AssertErrorAsync(over, HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", null);
        Assert.Equal("request_too_large", Api.Text(error["code"]));
        Assert.Contains("MaxRequestBodyBytes", Api.Text(error["message"]));
        // At the limit the body is read: "{}" padded is valid JSON, refused for its missing fields, not its size.
        using var at = await http.PostAsync(path, Padded("{}", SmallBodyGatewayFixture.Limit));
        Assert.Equal(HttpStatusCode.BadRequest, at.StatusCode);
    }

    [Fact]
    public async Task A_chat_within_the_limit_is_served()
    {
        using var http = server.CreateClient();
        string chat = """{"model":"demo-sql","messages":[{"role":"user","content":"Hi"}],"max_tokens":2}""";
        using var response = await http.PostAsync("v1/chat/completions", Padded(chat, SmallBodyGatewayFixture.Limit));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1023")]
    [InlineData("-5")]
    public void A_limit_below_1_KiB_fails_start_up_naming_the_option(string value)
    {
        string data = Path.Combine(Path.GetTempPath(), $"olora-body-limit-{Guid.NewGuid():n}");
        try
        {
            var ex = Assert.Throws<ArgumentException>(() => OrleansLoraServerApp.Build([$"--OrleansLora:Gateway:MaxRequestBodyBytes={value}", "--role", "gateway", "--data", data]));
            Assert.Contains($"{GatewayOptions.SectionName}:MaxRequestBodyBytes", ex.Message);
        }
        finally
        {
            if (Directory.Exists(data))
                Directory.Delete(data, recursive: true);
        }
    }

    /// <summary><paramref name="json"/> followed by spaces (JSON whitespace) up to exactly <paramref name="bytes"/> bytes.</summary>
    private static ByteArrayContent Padded(string json, int bytes)
    {
        var body = new byte[bytes];
        Array.Fill(body, (byte)' ');
        Encoding.UTF8.GetBytes(json).CopyTo(body, 0);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        return content;
    }
}
