using System.Text;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Llama-3 headers: BOS, then <c>&lt;|start_header_id|&gt;{role}&lt;|end_header_id|&gt;\n\n{content|trim}&lt;|eot_id|&gt;</c>
/// per message. Llama-3.1+ templates always open with a system block carrying the knowledge
/// cut-off and a date (<paramref name="dateHeader"/>), with the system message (trimmed) after it.
/// </summary>
internal sealed class Llama3Format(string bosToken, string? dateHeader) : ChatFormat
{
    public override ChatTemplateKind Kind => ChatTemplateKind.Llama3;

    public override bool IncludesBos => true;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var text = new StringBuilder(bosToken);
        int start = 0;
        if (dateHeader is not null)
        {
            string system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content.Trim() : "";
            start = messages.Count > 0 && messages[0].Role == "system" ? 1 : 0;
            text.Append("<|start_header_id|>system<|end_header_id|>\n\n").Append(dateHeader).Append(system).Append("<|eot_id|>");
        }
        for (int i = start; i < messages.Count; i++)
        {
            text.Append("<|start_header_id|>").Append(messages[i].Role).Append("<|end_header_id|>\n\n")
                .Append(messages[i].Content.Trim()).Append("<|eot_id|>");
        }
        if (addGenerationPrompt)
            text.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return text.ToString();
    }
}
