using System.Text.Json;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// Regression for issue 15's second defect: Qwen3's template was rendered as plain ChatML, keeping
/// the reasoning of earlier assistant turns and ignoring enable_thinking. Rendered by the real
/// template with Qwen3's own tokenizer, as transformers renders and tokenizes it.
/// </summary>
public sealed class Qwen3TemplateTests
{
    private static readonly Lazy<ITextTokenizer> Qwen3 = new(() => TokenizerLoader.Load(RepositoryFiles.TokenizerPackage("qwen3")));

    [Fact]
    public void Reasoning_of_earlier_assistant_turns_is_dropped()
    {
        var tokenizer = Qwen3.Value;
        IReadOnlyList<ChatMessage> messages =
        [
            ChatMessage.User("What is 3*7?"),
            ChatMessage.Assistant("<think>\nThree sevens are twenty-one.\n</think>\n\n21"),
            ChatMessage.User("And 4*7?"),
        ];
        string text = tokenizer.ChatTemplate.Render(messages);

        Assert.Equal(ChatTemplateFixtures.Expected("qwen3/think-history").GetProperty("output").GetString(), text);
        Assert.DoesNotContain("twenty-one", text, StringComparison.Ordinal);
        Assert.Equal(
            "<|im_start|>user\nWhat is 3*7?<|im_end|>\n<|im_start|>assistant\n21<|im_end|>\n<|im_start|>user\nAnd 4*7?<|im_end|>\n<|im_start|>assistant\n",
            text);
        // The old plain-ChatML rendering kept the reasoning: more tokens for the model to read.
        string chatMLKeepingReasoning = string.Concat(messages.Select(m => $"<|im_start|>{m.Role}\n{m.Content}<|im_end|>\n")) + "<|im_start|>assistant\n";
        Assert.True(tokenizer.Encode(text, addBos: false).Count < tokenizer.Encode(chatMLKeepingReasoning, addBos: false).Count);
    }

    [Fact]
    public void Enable_thinking_false_closes_the_think_block()
    {
        var template = Qwen3.Value.ChatTemplate;
        var kwargs = new Dictionary<string, JsonElement> { ["enable_thinking"] = JsonDocument.Parse("false").RootElement };

        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", template.Render([ChatMessage.User("Hi")], kwargs: kwargs), StringComparison.Ordinal);
        Assert.EndsWith("<|im_start|>assistant\n", template.Render([ChatMessage.User("Hi")]), StringComparison.Ordinal);
    }
}
