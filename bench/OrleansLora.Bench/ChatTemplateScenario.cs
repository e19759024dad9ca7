using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Bench;

/// <summary>
/// The per-request cost of chat templates: parsing a real template once (what a model load pays),
/// and rendering a conversation with it (what every chat request pays), for the larger templates
/// of the test fixtures (tests/OrleansLora.Engine.Tests/Tokenization/Fixtures/templates).
/// </summary>
internal static class ChatTemplateScenario
{
    private const int Parses = 200;
    private const int Renders = 5000;

    public static void Run(BenchReport report)
    {
        string directory = Path.Combine("tests", "OrleansLora.Engine.Tests", "Tokenization", "Fixtures", "templates");
        if (!Directory.Exists(directory))
        {
            Console.Error.WriteLine($"skipping the templates scenario: {directory} not found (run from the repository root)");
            return;
        }
        var tool = JsonDocument.Parse("""
            {"type": "function", "function": {"name": "get_current_weather", "description": "Get the current weather in a given location.",
             "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "City and country"},
             "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}}}
            """).RootElement;
        IReadOnlyList<ChatMessage> chat =
        [
            ChatMessage.System("You are a helpful assistant that answers briefly."),
            ChatMessage.User("What's the weather like in Paris today?"),
            ChatMessage.Assistant("It is sunny and 22 degrees."),
            ChatMessage.User("And tomorrow? Answer in one sentence, please."),
        ];
        var cases = new (string Template, string Bos, string Eos, IReadOnlyList<JsonElement>? Tools)[]
        {
            ("llama3.1-instruct", "<|begin_of_text|>", "<|eot_id|>", [tool]),
            ("qwen3", "", "<|im_end|>", [tool]),
            ("mistral-v0.3", "<s>", "</s>", [tool]),
            ("llama2-chat", "<s>", "</s>", null),
            ("chatml", "", "<|endoftext|>", null),
        };
        foreach (var (name, bos, eos, tools) in cases)
        {
            string source = File.ReadAllText(Path.Combine(directory, name + ".jinja"));
            var tokens = new ChatTemplateTokens(bos.Length > 0 ? bos : null, eos);
            var parse = Stopwatch.StartNew();
            ChatTemplate template = null!;
            for (int i = 0; i < Parses; i++)
                template = ChatTemplate.Parse(source, tokens);
            double parseUs = parse.Elapsed.TotalMicroseconds / Parses;

            int chars = 0;
            for (int i = 0; i < Renders / 10; i++)
                chars = template.Render(chat, tools).Length; // warm-up
            var times = new double[Renders];
            for (int i = 0; i < Renders; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                chars = template.Render(chat, tools).Length;
                times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
            Array.Sort(times);
            report.Add($"chat-template-{name}", new Dictionary<string, JsonNode?>
            {
                ["template_chars"] = source.Length,
                ["messages"] = chat.Count,
                ["tools"] = tools?.Count ?? 0,
                ["output_chars"] = chars,
                ["parse_us"] = Math.Round(parseUs, 1),
                ["render_us_p50"] = Math.Round(times[Renders / 2], 1),
                ["render_us_p99"] = Math.Round(times[Renders * 99 / 100], 1),
            });
        }
    }
}
