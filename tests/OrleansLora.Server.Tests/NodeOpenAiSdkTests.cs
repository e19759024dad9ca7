using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests;

/// <summary>
/// The official OpenAI Node SDK (npm <c>openai</c>) against the real server on loopback: Node/openai-roundtrip.cjs makes
/// a json_schema chat completion, a required tool call, a streamed named tool call (through the SDK's stream helper,
/// which accumulates delta.tool_calls) and a streamed chat as a Node application would, and this test checks what the
/// SDK parsed (the JSON answers against their schemas with a JSON Schema library). Node and the package come from
/// scripts/ensure-deps.sh; without them the test fails saying so.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class NodeOpenAiSdkTests(GatewayFixture server)
{
    // The schemas of the .NET SDK's structured-output tests: both SDKs must get the same guarantees.
    private const string PersonSchema = StructuredOutputTests.PersonSchema;
    private const string WeatherParameters = StructuredOutputTests.WeatherParameters;

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(5);
    private static readonly string PackageDirectory = Path.Combine(RepositoryRoot.Path, "artifacts", "node-sdk");
    private static readonly string Script = Path.Combine(RepositoryRoot.Path, "tests", "OrleansLora.Server.Tests", "Node", "openai-roundtrip.cjs");

    [Fact]
    public async Task Json_schema_required_tool_call_and_streamed_chat_round_trip_through_the_node_sdk()
    {
        var result = await RunScriptAsync(new JsonObject
        {
            ["baseURL"] = new Uri(server.BaseAddress, "v1").ToString(),
            ["packageDir"] = PackageDirectory,
            ["model"] = "demo-support",
            ["schema"] = JsonNode.Parse(PersonSchema),
            ["tool"] = new JsonObject { ["name"] = "get_weather", ["parameters"] = JsonNode.Parse(WeatherParameters) },
        });

        Assert.StartsWith("6.", result["sdkVersion"]!.GetValue<string>());
        Assert.Contains("demo-support", result["models"]!.AsArray().Select(m => m!.GetValue<string>()));

        var structured = result["structured"]!;
        StructuredOutputTests.AssertValid(PersonSchema, structured["content"]!.GetValue<string>());
        Assert.Equal("stop", structured["finishReason"]!.GetValue<string>());

        AssertToolCalls(result["tools"]!);
        AssertToolCalls(result["streamedTools"]!);

        var whole = result["whole"]!;
        var stream = result["stream"]!;
        Assert.Equal(whole["content"]!.GetValue<string>(), stream["content"]!.GetValue<string>());
        Assert.True(stream["chunks"]!.GetValue<int>() > 2, $"expected the text in several chunks: {stream.ToJsonString()}");
        Assert.Equal("length", stream["finishReason"]!.GetValue<string>());
        Assert.Equal(8, stream["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(whole["usage"]!["prompt_tokens"]!.GetValue<int>(), stream["usage"]!["prompt_tokens"]!.GetValue<int>());
    }

    /// <summary>A tool-call answer as the SDK parsed it: finish reason tool_calls, each call's arguments valid against get_weather's parameters.</summary>
    private static void AssertToolCalls(JsonNode answer)
    {
        Assert.Equal("tool_calls", answer["finishReason"]!.GetValue<string>());
        var calls = answer["calls"]!.AsArray();
        Assert.NotEmpty(calls);
        foreach (var call in calls)
        {
            Assert.StartsWith("call_", call!["id"]!.GetValue<string>());
            Assert.Equal("function", call["type"]!.GetValue<string>());
            Assert.Equal("get_weather", call["name"]!.GetValue<string>());
            StructuredOutputTests.AssertValid(WeatherParameters, call["arguments"]!.GetValue<string>());
        }
    }

    /// <summary>Runs the script with <paramref name="input"/> and returns the JSON it printed; fails with its stderr when it fails.</summary>
    private static async Task<JsonNode> RunScriptAsync(JsonObject input)
    {
        string node = FindNode() ?? throw new InvalidOperationException("Node.js (node) is not on PATH: run scripts/ensure-deps.sh, which installs npm and Node.js.");
        if (!File.Exists(Path.Combine(PackageDirectory, "node_modules", "openai", "package.json")))
            throw new InvalidOperationException($"the openai npm package is not installed in {PackageDirectory}: run scripts/ensure-deps.sh.");
        var start = new ProcessStartInfo(node, [Script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment = { ["OLORA_NODE_INPUT"] = input.ToJsonString() },
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Script} did not finish within {ScriptTimeout.TotalMinutes} min; its stderr: {await stderr}");
        }
        Assert.True(process.ExitCode == 0, $"{Script} failed (exit code {process.ExitCode}): {await stderr}");
        string output = await stdout;
        return JsonNode.Parse(output) ?? throw new InvalidOperationException($"{Script} printed no JSON: {output}");
    }

    private static string? FindNode() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "node"))
            .FirstOrDefault(File.Exists);
}
