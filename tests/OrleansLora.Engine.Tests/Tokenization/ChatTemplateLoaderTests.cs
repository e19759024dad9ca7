using System.Text.Json;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>Where chat templates come from, and that a template the engine cannot render fails when the model loads.</summary>
public sealed class ChatTemplateLoaderTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"olora-template-{Guid.NewGuid():n}");

    public ChatTemplateLoaderTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void An_unparsable_template_fails_the_model_load_naming_file_construct_and_line()
    {
        WriteModel("""{"eos_token": "</s>", "bos_token": "<s>", "chat_template": "{% for m in messages %}\n{{ m.content | shout }}{% endfor %}"}""");
        var error = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));
        Assert.Contains("tokenizer_config.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("no filter named 'shout'", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 2, column 16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_template_using_an_unimplemented_method_fails_the_model_load()
    {
        WriteModel("""{"eos_token": "</s>", "chat_template": "{% for m in messages %}{{ m.content.zfill(8) }}{% endfor %}"}""");
        var error = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));
        Assert.Contains("str.zfill() is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_template_that_refuses_the_check_conversations_still_loads()
    {
        // Gemma-2 refuses a system message; that is the template's verdict, not a gap in the engine.
        WriteModel(JsonSerializer.Serialize(new { eos_token = "</s>", bos_token = "<s>", chat_template = ChatTemplateFixtures.TemplateSource("gemma2") }));
        var template = TokenizerLoader.Load(_directory).ChatTemplate;
        var refused = Assert.Throws<ChatTemplateException>(() => template.Render([ChatMessage.System("x"), ChatMessage.User("y")]));
        Assert.Equal("the chat template refused the conversation: System role not supported", refused.Message);
        Assert.Equal("messages", refused.ParamName);
    }

    [Fact]
    public void A_model_without_a_template_cannot_render_messages()
    {
        WriteModel("""{"eos_token": "</s>"}""");
        var template = TokenizerLoader.Load(_directory).ChatTemplate;
        Assert.False(template.IsAvailable);
        Assert.Contains("has no chat template", Assert.Throws<ChatTemplateException>(() => template.Render([ChatMessage.User("hi")])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Named_templates_pick_tool_use_when_tools_are_given()
    {
        WriteModel("""
            {"eos_token": "</s>", "chat_template": [
              {"name": "default", "template": "plain:{{ messages[0].content }}"},
              {"name": "tool_use", "template": "tools:{{ tools|map(attribute='function.name')|join(',') }}"}]}
            """);
        var template = TokenizerLoader.Load(_directory).ChatTemplate;
        var tool = JsonDocument.Parse("""{"type": "function", "function": {"name": "lookup"}}""").RootElement;

        Assert.Equal(["default", "tool_use"], template.Names.Order());
        Assert.Equal("plain:hi", template.Render([ChatMessage.User("hi")]));
        Assert.Equal("tools:lookup", template.Render([ChatMessage.User("hi")], [tool]));
        Assert.Equal("plain:hi", template.Render([ChatMessage.User("hi")], [tool], templateName: "default"));
    }

    [Fact]
    public void Chat_template_jinja_and_additional_templates_beside_the_config_are_read()
    {
        WriteModel("""{"eos_token": "</s>", "chat_template": "from config"}""");
        File.WriteAllText(Path.Combine(_directory, "chat_template.jinja"), "from file {{ eos_token }}\n");
        Directory.CreateDirectory(Path.Combine(_directory, "additional_chat_templates"));
        File.WriteAllText(Path.Combine(_directory, "additional_chat_templates", "rag.jinja"), "rag");
        var template = TokenizerLoader.Load(_directory).ChatTemplate;

        Assert.Equal("from file </s>", template.Render([ChatMessage.User("hi")]));
        Assert.Equal("rag", template.Render([ChatMessage.User("hi")], templateName: "rag"));
    }

    [Fact]
    public void An_adapter_directory_template_uses_its_own_tokens_or_the_base_models()
    {
        string adapter = Path.Combine(_directory, "adapter");
        Directory.CreateDirectory(adapter);
        var baseTokens = new ChatTemplateTokens("<s>", "</s>");
        Assert.Null(ChatTemplateLoader.FromDirectory(adapter, baseTokens));

        File.WriteAllText(Path.Combine(adapter, "tokenizer_config.json"), """{"chat_template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"}""");
        Assert.Equal("<s>hi</s>", ChatTemplateLoader.FromDirectory(adapter, baseTokens)!.Render([ChatMessage.User("hi")]));

        File.WriteAllText(Path.Combine(adapter, "tokenizer_config.json"), """{"eos_token": "<|end|>", "chat_template": "{{ messages[0].content }}{{ eos_token }}"}""");
        Assert.Equal("hi<|end|>", ChatTemplateLoader.FromDirectory(adapter, baseTokens)!.Render([ChatMessage.User("hi")]));
    }

    [Fact]
    public void A_template_file_may_be_jinja_text_or_a_tokenizer_config()
    {
        string jinja = Path.Combine(_directory, "t.jinja"), json = Path.Combine(_directory, "t.json");
        File.WriteAllText(jinja, "{{ '[' + messages[0].content + ']' }}");
        File.WriteAllText(json, """{"chat_template": "<{{ messages[0].content }}>"}""");
        var tokens = new ChatTemplateTokens();

        Assert.Equal("[hi]", ChatTemplateLoader.FromFile(jinja, tokens).Render([ChatMessage.User("hi")]));
        Assert.Equal("<hi>", ChatTemplateLoader.FromFile(json, tokens).Render([ChatMessage.User("hi")]));
        Assert.Throws<FileNotFoundException>(() => ChatTemplateLoader.FromFile(Path.Combine(_directory, "none.jinja"), tokens));
    }

    [Fact]
    public void Tool_call_arguments_given_as_json_text_are_decoded_before_rendering()
    {
        var template = ChatTemplate.Parse(ChatTemplateFixtures.TemplateSource("qwen3"));
        var call = new ChatToolCall("call_1", "get_weather", JsonDocument.Parse("\"{\\\"city\\\": \\\"Paris\\\"}\"").RootElement);
        string text = template.Render([ChatMessage.User("Weather?"), new ChatMessage("assistant", "") { ToolCalls = [call] }], addGenerationPrompt: false);
        Assert.Contains("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}", text, StringComparison.Ordinal);
    }

    private void WriteModel(string tokenizerConfig)
    {
        File.WriteAllText(Path.Combine(_directory, "tokenizer.json"), SentencePieceFixtures.TokenizerJson(metaspace: true));
        File.WriteAllText(Path.Combine(_directory, "tokenizer_config.json"), tokenizerConfig);
    }
}
