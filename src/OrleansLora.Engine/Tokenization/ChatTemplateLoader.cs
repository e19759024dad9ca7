using System.Text.Json;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tokenization.Jinja;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Reads chat templates from a model or adapter directory, or from a template file, and checks them
/// when they load: a template this engine cannot parse, or that uses a construct it does not
/// implement on an ordinary conversation, fails here (a <see cref="ModelFormatException"/> naming
/// the file, template, construct, line and column) rather than on a request.
/// </summary>
public static class ChatTemplateLoader
{
    /// <summary>
    /// The chat template of an adapter (or any) directory: chat_template.jinja,
    /// additional_chat_templates/*.jinja or tokenizer_config.json's chat_template; null when it has
    /// none. Special tokens come from that tokenizer_config.json where it names them, else from
    /// <paramref name="fallbackTokens"/> (the base model's).
    /// </summary>
    /// <exception cref="ModelFormatException">A template there does not parse or uses an unsupported construct.</exception>
    public static ChatTemplate? FromDirectory(string directory, ChatTemplateTokens fallbackTokens, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(fallbackTokens);
        string configPath = Path.Combine(directory, TokenizerConfigFile.FileName);
        IReadOnlyDictionary<string, string>? templates = TokenizerConfigFile.ReadTemplateFiles(directory);
        var tokens = fallbackTokens;
        if (File.Exists(configPath))
        {
            var config = TokenizerConfigFile.Read(directory);
            templates ??= config.ChatTemplates;
            tokens = new ChatTemplateTokens(
                config.BosToken ?? fallbackTokens.BosToken,
                config.EosToken ?? fallbackTokens.EosToken,
                config.UnkToken ?? fallbackTokens.UnkToken,
                config.PadToken ?? fallbackTokens.PadToken)
            {
                AdditionalSpecialTokens = config.AdditionalSpecialTokens.Count > 0 ? config.AdditionalSpecialTokens : fallbackTokens.AdditionalSpecialTokens,
            };
        }
        return templates is null ? null : Load(templates, tokens, templates.ContainsKey(ChatTemplate.DefaultName) && File.Exists(Path.Combine(directory, "chat_template.jinja")) ? Path.Combine(directory, "chat_template.jinja") : configPath, clock);
    }

    /// <summary>
    /// A template file given by an operator (<c>--chat-template FILE</c>): the Jinja text itself, or
    /// a JSON file with a "chat_template" field (a tokenizer_config.json).
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="ModelFormatException">The template does not parse or uses an unsupported construct.</exception>
    public static ChatTemplate FromFile(string path, ChatTemplateTokens tokens, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Chat template file '{path}' does not exist.", path);
        string text = File.ReadAllText(path);
        IReadOnlyDictionary<string, string>? templates = null;
        if (text.TrimStart().StartsWith('{') && !text.TrimStart().StartsWith("{%", StringComparison.Ordinal) && !text.TrimStart().StartsWith("{{", StringComparison.Ordinal) && !text.TrimStart().StartsWith("{#", StringComparison.Ordinal))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                templates = TokenizerConfigFile.ReadChatTemplates(document.RootElement, path)
                    ?? throw new ModelFormatException(path, "is JSON without a \"chat_template\".");
            }
            catch (JsonException)
            {
                // Not JSON: a template that happens to start with "{".
            }
        }
        return Load(templates ?? new Dictionary<string, string> { [ChatTemplate.DefaultName] = text }, tokens, path, clock);
    }

    /// <summary>Parses and checks templates read from <paramref name="origin"/>; <see cref="ChatTemplate.None"/> when there are none.</summary>
    internal static ChatTemplate Load(IReadOnlyDictionary<string, string>? templates, ChatTemplateTokens tokens, string origin, TimeProvider? clock = null)
    {
        if (templates is null || templates.Count == 0)
            return ChatTemplate.None;
        ChatTemplate template;
        try
        {
            template = ChatTemplate.Parse(templates, tokens, clock);
        }
        catch (TemplateSyntaxException e)
        {
            throw new ModelFormatException(origin, $"chat template '{e.Data["template"]}' cannot be used: {e.Message}", e);
        }
        foreach (string name in templates.Keys)
            Check(template, name, origin);
        return template;
    }

    /// <summary>
    /// Renders a plain conversation, and one with a system message and tools, to find constructs the
    /// engine lacks. A template that refuses these conversations (raise_exception) or fails the way
    /// jinja2 would fail too is left for requests to report.
    /// </summary>
    private static void Check(ChatTemplate template, string name, string origin)
    {
        var tool = JsonDocument.Parse("""{"type":"function","function":{"name":"get_weather","description":"Weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}""").RootElement;
        var conversations = new (IReadOnlyList<ChatMessage> Messages, IReadOnlyList<JsonElement>? Tools)[]
        {
            ([ChatMessage.User("Hello")], null),
            ([ChatMessage.System("Be brief."), ChatMessage.User("Hi"), ChatMessage.Assistant("Hello."), ChatMessage.User("Weather in Paris?")], [tool]),
        };
        foreach (var (messages, tools) in conversations)
        {
            try
            {
                template.Render(messages, tools, addGenerationPrompt: true, templateName: name);
            }
            catch (ChatTemplateException e) when (e.InnerException is TemplateRuntimeException { IsUnsupported: true } unsupported)
            {
                throw new ModelFormatException(origin, $"chat template '{name}' cannot be used: {unsupported.Message}", e);
            }
            catch (ChatTemplateException)
            {
                // The template's own verdict on this conversation; real requests will get it too.
            }
        }
    }
}
