using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

public sealed class ChatTemplateTests
{
    private static readonly Dictionary<string, ChatMessage[]> Conversations = new()
    {
        ["One"] = [ChatMessage.User("Hi there")],
        ["Conversation"] =
        [
            ChatMessage.User("Hi there"),
            ChatMessage.Assistant(" Hello! How can I help? "),
            ChatMessage.User("  What is 2+2?  "),
        ],
        ["WithSystem"] =
        [
            ChatMessage.System("Be brief."),
            ChatMessage.User("Hi there"),
            ChatMessage.Assistant(" Hello! How can I help? "),
            ChatMessage.User("  What is 2+2?  "),
        ],
        ["SystemEndsWithAssistant"] =
        [
            ChatMessage.System("Be brief."),
            ChatMessage.User("Hi there"),
            ChatMessage.Assistant("Hello!"),
        ],
    };

    // (template text, bos_token, eos_token, kind) as in the models' tokenizer_config.json.
    private static readonly Dictionary<string, (string Jinja, string Bos, string Eos, ChatTemplateKind Kind, bool IncludesBos)> Templates = new()
    {
        ["Llama2"] = (ChatTemplateCases.Llama2, "<s>", "</s>", ChatTemplateKind.Llama2, true),
        ["MistralV02"] = (ChatTemplateCases.MistralV02, "<s>", "</s>", ChatTemplateKind.Mistral, true),
        ["MistralV01Spaced"] = (ChatTemplateCases.MistralV01Spaced, "<s>", "</s>", ChatTemplateKind.Mistral, true),
        ["MistralV01EosSpace"] = (ChatTemplateCases.MistralV01EosSpace, "<s>", "</s>", ChatTemplateKind.Mistral, true),
        ["MistralV3"] = (ChatTemplateCases.MistralV3, "<s>", "</s>", ChatTemplateKind.Mistral, true),
        ["Llama3"] = (ChatTemplateCases.Llama3, "<|begin_of_text|>", "<|eot_id|>", ChatTemplateKind.Llama3, true),
        ["Llama31"] = (ChatTemplateCases.Llama31, "<|begin_of_text|>", "<|eot_id|>", ChatTemplateKind.Llama3, true),
        ["ChatML"] = (ChatTemplateCases.ChatML, "<|endoftext|>", "<|endoftext|>", ChatTemplateKind.ChatML, false),
        ["SmolLM2"] = (ChatTemplateCases.SmolLM2, "<|im_start|>", "<|im_end|>", ChatTemplateKind.ChatML, false),
    };

    public static TheoryData<string, string, bool> RenderedCases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (template, conversation, addGenerationPrompt, _) in ChatTemplateCases.Rendered)
            data.Add(template, conversation, addGenerationPrompt);
        return data;
    }

    [Theory]
    [MemberData(nameof(RenderedCases))]
    public void Renders_what_jinja_renders_for_the_real_template(string template, string conversation, bool addGenerationPrompt)
    {
        var (jinja, bos, eos, kind, includesBos) = Templates[template];
        string expected = ChatTemplateCases.Rendered.Single(c => c.Template == template && c.Conversation == conversation && c.AddGenerationPrompt == addGenerationPrompt).Expected;

        var chat = ChatTemplate.FromTokenizerConfig(jinja, bos, eos);

        Assert.Equal(kind, chat.Kind);
        Assert.Equal(includesBos, chat.IncludesBos);
        Assert.Equal(expected, chat.Render(Conversations[conversation], addGenerationPrompt));
    }

    [Fact]
    public void Every_template_has_jinja_cases()
    {
        Assert.All(Templates.Keys, name => Assert.Contains(ChatTemplateCases.Rendered, c => c.Template == name));
    }

    [Fact]
    public void Llama2_format_matches_the_documented_prompt()
    {
        var chat = ChatTemplate.FromTokenizerConfig(ChatTemplateCases.Llama2);

        string text = chat.Render([ChatMessage.System("SYS"), ChatMessage.User("U1"), ChatMessage.Assistant("A1"), ChatMessage.User("U2")]);

        Assert.Equal("<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST]", text);
    }

    [Theory]
    [InlineData(nameof(ChatTemplateCases.MistralV02), "<s>[INST] Be brief.\n\nHi there [/INST]")]
    [InlineData(nameof(ChatTemplateCases.MistralV01Spaced), "<s> [INST] Be brief.\n\nHi there [/INST]")]
    public void Mistral_templates_without_system_support_merge_it_into_the_first_user_turn(string template, string expected)
    {
        // The real templates raise here; mistral_common (and this engine) prepend it to the first turn.
        var chat = ChatTemplate.FromTokenizerConfig(Templates[template].Jinja, "<s>", "</s>");

        Assert.Equal(expected, chat.Render([ChatMessage.System("Be brief."), ChatMessage.User("Hi there")]));
    }

    [Theory]
    [InlineData(nameof(ChatTemplateCases.Llama2))]
    [InlineData(nameof(ChatTemplateCases.MistralV02))]
    [InlineData(nameof(ChatTemplateCases.MistralV3))]
    public void Inst_templates_reject_roles_that_do_not_alternate(string template)
    {
        var chat = ChatTemplate.FromTokenizerConfig(Templates[template].Jinja);

        var twoUsers = Assert.Throws<ArgumentException>(() => chat.Render([ChatMessage.User("a"), ChatMessage.User("b")]));
        Assert.Contains("alternate", twoUsers.Message);
        Assert.Contains("message 1", twoUsers.Message);

        var assistantFirst = Assert.Throws<ArgumentException>(() => chat.Render([ChatMessage.System("s"), ChatMessage.Assistant("a")]));
        Assert.Contains("alternate", assistantFirst.Message);

        var lateSystem = Assert.Throws<ArgumentException>(() => chat.Render([ChatMessage.User("a"), ChatMessage.System("s")]));
        Assert.Contains("role \"system\"", lateSystem.Message);

        Assert.Throws<ArgumentException>(() => chat.Render([ChatMessage.System("only a system message")]));
        Assert.Throws<ArgumentException>(() => chat.Render([new ChatMessage("tool", "{}")]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}")]
    public void Missing_or_unknown_templates_default_to_chatml(string? jinja)
    {
        var chat = ChatTemplate.FromTokenizerConfig(jinja);

        Assert.Equal(ChatTemplateKind.ChatML, chat.Kind);
        Assert.False(chat.IncludesBos);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", chat.Render([ChatMessage.User("hi")]));
    }

    [Fact]
    public void Chatml_accepts_any_role_order()
    {
        string text = ChatTemplate.ChatML.Render([ChatMessage.User("a"), ChatMessage.User("b"), new ChatMessage("tool", "c")], addGenerationPrompt: false);

        Assert.Equal("<|im_start|>user\na<|im_end|>\n<|im_start|>user\nb<|im_end|>\n<|im_start|>tool\nc<|im_end|>\n", text);
    }

    [Fact]
    public void Null_message_fields_are_rejected()
    {
        var bad = new ChatMessage("user", null!);

        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.ChatML.Render([bad]));

        Assert.Contains("message 0", e.Message);
    }
}
