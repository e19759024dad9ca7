using System.Text;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// ChatML: <c>&lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n</c> per message, then
/// <c>&lt;|im_start|&gt;assistant\n</c> as the generation prompt. Some templates (Qwen) insert a
/// default system message when the conversation has none.
/// </summary>
internal sealed class ChatMLFormat(string? defaultSystem) : ChatFormat
{
    public override ChatTemplateKind Kind => ChatTemplateKind.ChatML;

    public override bool IncludesBos => false;

    public string? DefaultSystem => defaultSystem;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var text = new StringBuilder();
        if (defaultSystem is not null && (messages.Count == 0 || messages[0].Role != "system"))
            Append(text, "system", defaultSystem);
        foreach (var message in messages)
            Append(text, message.Role, message.Content);
        if (addGenerationPrompt)
            text.Append("<|im_start|>assistant\n");
        return text.ToString();
    }

    private static void Append(StringBuilder text, string role, string content) =>
        text.Append("<|im_start|>").Append(role).Append('\n').Append(content).Append("<|im_end|>\n");
}
