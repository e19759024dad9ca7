using System.Text;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// The whitespace and placement choices that distinguish the [INST] templates in circulation.
/// </summary>
/// <param name="Llama2">Llama-2 chat: &lt;&lt;SYS&gt;&gt; block, BOS before every [INST], contents stripped, " answer &lt;/s&gt;".</param>
/// <param name="BosAtStart">The template writes bos_token once at the start (Mistral).</param>
/// <param name="Open">Text before a user message: "[INST] " (most), " [INST] " (Mistral v0.1 update).</param>
/// <param name="Close">Text after a user message: " [/INST]" or "[/INST]" (Mistral v0.3, where [INST] are control tokens).</param>
/// <param name="AssistantPrefix">Text before an answer (" " or "").</param>
/// <param name="TrimAssistant">Answers are trimmed (<c>message['content']|trim</c>).</param>
/// <param name="AfterEos">Text after an answer's EOS (" " in some Mixtral templates).</param>
/// <param name="SystemInLastUser">The system message goes into the last user message (<c>loop.last</c>, Mistral v0.3) instead of the first.</param>
internal sealed record InstStyle(
    bool Llama2,
    bool BosAtStart,
    string Open,
    string Close,
    string AssistantPrefix,
    bool TrimAssistant,
    string AfterEos,
    bool SystemInLastUser)
{
    public static InstStyle Llama2Chat { get; } = new(true, false, "[INST] ", " [/INST]", " ", true, "", false);

    /// <summary>mistralai/Mistral-7B-Instruct-v0.1 and v0.2 with the system message in the first turn.</summary>
    public static InstStyle MistralV1 { get; } = new(false, true, "[INST] ", " [/INST]", "", false, "", false);
}

/// <summary>
/// [INST] prompts (Llama-2 chat, Mistral/Mixtral instruct). An optional first system message is
/// folded into a user turn; after it roles must alternate user/assistant starting with user, as
/// the real templates' <c>raise_exception</c> checks demand.
/// </summary>
internal sealed class InstFormat(InstStyle style, string bosToken, string eosToken) : ChatFormat
{
    public override ChatTemplateKind Kind => style.Llama2 ? ChatTemplateKind.Llama2 : ChatTemplateKind.Mistral;

    public override bool IncludesBos => style.Llama2 || style.BosAtStart;

    public InstStyle Style => style;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        // addGenerationPrompt has no effect: the [/INST] closing a user turn is the prompt.
        ArgumentNullException.ThrowIfNull(messages);
        string? system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content : null;
        int first = system is null ? 0 : 1;
        if (messages.Count == first)
            throw new ArgumentException($"The {Kind} chat template needs at least one user message after the optional system message.", nameof(messages));

        var text = new StringBuilder();
        if (!style.Llama2 && style.BosAtStart)
            text.Append(bosToken);
        for (int i = first; i < messages.Count; i++)
        {
            var message = messages[i];
            int turn = i - first;
            if (message.Role is not ("user" or "assistant"))
                throw new ArgumentException($"The {Kind} chat template supports only user and assistant roles after an optional first system message; message {i} has role \"{message.Role}\".", nameof(messages));
            if ((message.Role == "user") != (turn % 2 == 0))
                throw new ArgumentException($"Conversation roles must alternate user/assistant/user/assistant/... after an optional first system message; message {i} has role \"{message.Role}\".", nameof(messages));

            if (message.Role == "user")
                AppendUser(text, message.Content, system, turn == 0, i == messages.Count - 1);
            else
                AppendAssistant(text, message.Content);
        }
        return text.ToString();
    }

    private void AppendUser(StringBuilder text, string content, string? system, bool isFirst, bool isLast)
    {
        if (style.Llama2)
        {
            if (isFirst && system is not null)
                content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
            text.Append(bosToken).Append("[INST] ").Append(content.Trim()).Append(" [/INST]");
            return;
        }
        if (system is not null && (style.SystemInLastUser ? isLast : isFirst))
            content = system + "\n\n" + content;
        text.Append(style.Open).Append(content).Append(style.Close);
    }

    private void AppendAssistant(StringBuilder text, string content)
    {
        if (style.Llama2)
        {
            text.Append(' ').Append(content.Trim()).Append(' ').Append(eosToken);
            return;
        }
        text.Append(style.AssistantPrefix).Append(style.TrimAssistant ? content.Trim() : content).Append(eosToken).Append(style.AfterEos);
    }
}
