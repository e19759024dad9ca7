using System.Globalization;
using System.Text.RegularExpressions;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Turns chat messages into the prompt text a model was tuned on. There is no Jinja engine: the
/// tokenizer_config.json template is inspected to recognise a known format (ChatML, Llama-2,
/// Mistral variants, Llama-3) and that format is rendered in code, matching the real templates'
/// output for plain text conversations. Unknown or missing templates fall back to ChatML.
/// Immutable and thread-safe.
/// </summary>
public sealed partial class ChatTemplate
{
    private readonly ChatFormat _format;

    private ChatTemplate(ChatFormat format) => _format = format;

    /// <summary>The default: ChatML without a default system message.</summary>
    public static ChatTemplate ChatML { get; } = new(new ChatMLFormat(null));

    public ChatTemplateKind Kind => _format.Kind;

    /// <summary>
    /// Whether rendered text already starts with the BOS token string, so the caller must encode it
    /// with <c>addBos: false</c> (the literal BOS is matched as a special token).
    /// </summary>
    public bool IncludesBos => _format.IncludesBos;

    /// <summary>Recognises the format of a Jinja <c>chat_template</c>.</summary>
    /// <param name="chatTemplateJinja">The template text, or null when the model has none.</param>
    /// <param name="bosToken">tokenizer_config.json bos_token; defaults to the format's usual one.</param>
    /// <param name="eosToken">tokenizer_config.json eos_token; defaults to the format's usual one.</param>
    public static ChatTemplate FromTokenizerConfig(string? chatTemplateJinja, string? bosToken = null, string? eosToken = null)
    {
        if (string.IsNullOrWhiteSpace(chatTemplateJinja))
            return ChatML;
        string jinja = chatTemplateJinja;

        if (jinja.Contains("<|start_header_id|>", StringComparison.Ordinal))
            return new ChatTemplate(new Llama3Format(bosToken ?? "<|begin_of_text|>", Llama3DateHeader(jinja)));

        if (jinja.Contains("[INST]", StringComparison.Ordinal))
        {
            var style = jinja.Contains("<<SYS>>", StringComparison.Ordinal) ? InstStyle.Llama2Chat : MistralStyle(jinja);
            return new ChatTemplate(new InstFormat(style, bosToken ?? "<s>", eosToken ?? "</s>"));
        }

        if (jinja.Contains("<|im_start|>", StringComparison.Ordinal))
        {
            var match = DefaultSystemPattern().Match(jinja);
            string? defaultSystem = match.Success ? UnescapeJinja(match.Groups["text"].Value) : null;
            return defaultSystem is null ? ChatML : new ChatTemplate(new ChatMLFormat(defaultSystem));
        }

        return ChatML;
    }

    /// <summary>Renders the conversation; with <paramref name="addGenerationPrompt"/> the text ends where the assistant's answer begins.</summary>
    /// <exception cref="ArgumentException">The conversation does not fit the format (e.g. roles that do not alternate in [INST] formats).</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null || messages[i].Role is null || messages[i].Content is null)
                throw new ArgumentException($"Chat message {i} is null or has a null role or content.", nameof(messages));
        }
        return _format.Render(messages, addGenerationPrompt);
    }

    public override string ToString() => $"ChatTemplate({Kind}, includesBos: {IncludesBos})";

    /// <summary>
    /// Reads the whitespace choices of a Mistral-family template from its string literals: quotes
    /// and spacing around "+" are normalised first so single/double-quoted variants read alike.
    /// </summary>
    private static InstStyle MistralStyle(string jinja)
    {
        string t = JoinSpacing().Replace(jinja.Replace('"', '\''), " + ");
        t = FilterSpacing().Replace(t, "|");
        string open = t.Contains("' [INST] '", StringComparison.Ordinal) ? " [INST] "
            : t.Contains("'[INST]'", StringComparison.Ordinal) ? "[INST]"
            : "[INST] ";
        string close = t.Contains("'[/INST]'", StringComparison.Ordinal) ? "[/INST]" : " [/INST]";
        bool spaceBeforeAnswer = t.Contains("' ' + message['content']", StringComparison.Ordinal)
            || t.Contains("' ' + message.content", StringComparison.Ordinal);
        bool trim = t.Contains("message['content']|trim", StringComparison.Ordinal)
            || t.Contains("message.content|trim", StringComparison.Ordinal);
        string afterEos = t.Contains("eos_token + ' '", StringComparison.Ordinal) ? " " : "";
        bool inLast = t.Contains("loop.last and system_message", StringComparison.Ordinal);
        bool bos = t.Contains("bos_token", StringComparison.Ordinal);
        return new InstStyle(false, bos, open, close, spaceBeforeAnswer ? " " : "", trim, afterEos, inLast);
    }

    /// <summary>Llama-3.1+ system header: "Cutting Knowledge Date: ...\nToday Date: {date}\n\n".</summary>
    private static string? Llama3DateHeader(string jinja)
    {
        var knowledge = KnowledgeDatePattern().Match(jinja);
        if (!knowledge.Success)
            return null;
        // Llama-3.2 asks for the current date (strftime_now, which transformers provides); 3.1 has a fixed one.
        var date = DateStringPattern().Match(jinja);
        string today = jinja.Contains("strftime_now", StringComparison.Ordinal)
            ? DateTime.Now.ToString("dd MMM yyyy", CultureInfo.InvariantCulture)
            : date.Success ? date.Groups["date"].Value : "26 Jul 2024";
        return $"Cutting Knowledge Date: {knowledge.Groups["date"].Value}\nToday Date: {today}\n\n";
    }

    private static string UnescapeJinja(string literal) =>
        literal.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\'", "'", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal);

    [GeneratedRegex(@"\s*\+\s*")]
    private static partial Regex JoinSpacing();

    [GeneratedRegex(@"\s*\|\s*")]
    private static partial Regex FilterSpacing();

    // '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' inside the template, the
    // newlines written as Jinja escapes or (after JSON decoding) as real newlines.
    [GeneratedRegex(@"<\|im_start\|>system(?:\\n|\n)(?<text>[^'""<{}]+)<\|im_end\|>(?:\\n|\n)")]
    private static partial Regex DefaultSystemPattern();

    [GeneratedRegex(@"Cutting Knowledge Date: (?<date>[^\\""'\n]+)(?:\\n|\n)")]
    private static partial Regex KnowledgeDatePattern();

    [GeneratedRegex(@"set date_string = [""'](?<date>[^""']+)[""']")]
    private static partial Regex DateStringPattern();
}
