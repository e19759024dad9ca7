using System.Text.Json;
using OrleansLora.Engine.Tokenization.Jinja;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// A model's chat template (Jinja2, from tokenizer_config.json, chat_template.jinja, an adapter
/// directory or a file given on the command line), parsed once and rendered per request exactly as
/// transformers' apply_chat_template renders it: the template sees messages, tools (None without
/// tools), documents (None), add_generation_prompt, the special tokens and any extra kwargs
/// (chat_template_kwargs such as enable_thinking). A tokenizer_config may name several templates
/// ("default", "tool_use"): with tools the "tool_use" one is used when present, as in transformers.
/// Immutable and thread-safe.
/// </summary>
public sealed class ChatTemplate
{
    public const string DefaultName = "default";
    public const string ToolUseName = "tool_use";

    private readonly IReadOnlyDictionary<string, JinjaTemplate> _templates;
    private readonly ChatTemplateTokens _tokens;

    private ChatTemplate(IReadOnlyDictionary<string, JinjaTemplate> templates, ChatTemplateTokens tokens, TimeProvider clock, JinjaLimits limits)
    {
        _templates = templates;
        _tokens = tokens;
        Clock = clock;
        Limits = limits;
    }

    /// <summary>A model without a chat template: rendering fails, telling the caller to send a prompt or give a template.</summary>
    public static ChatTemplate None { get; } = new(new Dictionary<string, JinjaTemplate>(), ChatTemplateTokens.None, TimeProvider.System, JinjaLimits.Default);

    /// <summary>Whether there is a template to render (false for <see cref="None"/>).</summary>
    public bool IsAvailable => _templates.Count > 0;

    /// <summary>The template names; "default" for a single template.</summary>
    public IReadOnlyCollection<string> Names => (IReadOnlyCollection<string>)_templates.Keys;

    /// <summary>The default template's text, or null for <see cref="None"/>.</summary>
    public string? Source => Select(null, hasTools: false)?.Source;

    public ChatTemplateTokens Tokens => _tokens;

    /// <summary>The clock of <c>strftime_now</c> (Llama-3.2's date header).</summary>
    public TimeProvider Clock { get; }

    public JinjaLimits Limits { get; }

    /// <summary>
    /// Always true: a rendered conversation is encoded without adding BOS, as transformers and vLLM
    /// encode it (add_special_tokens=False); templates write the BOS themselves where the model
    /// wants one. Callers pass <c>addBos: !IncludesBos</c>.
    /// </summary>
    public bool IncludesBos => true;

    /// <summary>Parses one template (stored under "default").</summary>
    /// <exception cref="TemplateSyntaxException">Not valid Jinja, or a tag, filter or test this engine lacks; the message names it with line and column.</exception>
    public static ChatTemplate Parse(string source, ChatTemplateTokens? tokens = null, TimeProvider? clock = null, JinjaLimits? limits = null) =>
        Parse(new Dictionary<string, string> { [DefaultName] = source }, tokens, clock, limits);

    /// <summary>Parses named templates (tokenizer_config.json's list form).</summary>
    /// <exception cref="TemplateSyntaxException">A template does not parse; <see cref="Exception.Data"/>["template"] names which.</exception>
    public static ChatTemplate Parse(IReadOnlyDictionary<string, string> named, ChatTemplateTokens? tokens = null, TimeProvider? clock = null, JinjaLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(named);
        if (named.Count == 0)
            throw new ArgumentException("at least one template is needed", nameof(named));
        var templates = new Dictionary<string, JinjaTemplate>(StringComparer.Ordinal);
        foreach (var (name, source) in named)
        {
            try
            {
                templates[name] = JinjaTemplate.Parse(source);
            }
            catch (TemplateSyntaxException e)
            {
                e.Data["template"] = name;
                throw;
            }
        }
        return new ChatTemplate(templates, tokens ?? ChatTemplateTokens.None, clock ?? TimeProvider.System, limits ?? JinjaLimits.Default);
    }

    /// <summary>The same templates with other special tokens (an adapter's template with the base model's tokens, say).</summary>
    public ChatTemplate WithTokens(ChatTemplateTokens tokens) => new(_templates, tokens, Clock, Limits);

    /// <summary>The same templates with another clock (tests pin <c>strftime_now</c>).</summary>
    public ChatTemplate WithClock(TimeProvider clock) => new(_templates, _tokens, clock, Limits);

    /// <summary>Renders <paramref name="messages"/>; with <paramref name="addGenerationPrompt"/> the text ends where the assistant's answer begins.</summary>
    /// <param name="tools">OpenAI tool definitions (<c>{"type": "function", "function": {...}}</c>), or null.</param>
    /// <param name="kwargs">Extra template variables (chat_template_kwargs), e.g. <c>enable_thinking</c>.</param>
    /// <param name="templateName">A named template; by default "tool_use" when tools are given and it exists, else "default".</param>
    /// <exception cref="ChatTemplateException">The template refused or failed on the conversation, or the model has none.</exception>
    public string Render(
        IReadOnlyList<ChatMessage> messages,
        IReadOnlyList<JsonElement>? tools = null,
        bool addGenerationPrompt = true,
        IReadOnlyDictionary<string, JsonElement>? kwargs = null,
        string? templateName = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = new List<object?>(messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null || string.IsNullOrEmpty(messages[i].Role))
                throw new ChatTemplateException($"chat message {i} is null or has no role.");
            list.Add(ChatMessageValues.ToDict(messages[i]));
        }
        return RenderValues(list, tools is { Count: > 0 } ? tools.Select(t => (object?)t).ToList() : null, addGenerationPrompt, kwargs, templateName);
    }

    /// <summary>Renders messages and tools given as JSON, exactly as given (content parts, extra keys and all).</summary>
    /// <param name="messages">A JSON array of message objects.</param>
    /// <param name="tools">A JSON array of tool definitions, or null (JSON null too) for none.</param>
    /// <exception cref="ChatTemplateException">The template refused or failed on the conversation, or the model has none.</exception>
    public string Render(JsonElement messages, JsonElement? tools, bool addGenerationPrompt, IReadOnlyDictionary<string, JsonElement>? kwargs, string? templateName = null)
    {
        if (messages.ValueKind != JsonValueKind.Array)
            throw new ChatTemplateException("messages must be a JSON array.");
        bool hasTools = tools is { ValueKind: JsonValueKind.Array } t && t.GetArrayLength() > 0;
        return RenderValues(messages, hasTools ? tools : null, addGenerationPrompt, kwargs, templateName);
    }

    private string RenderValues(object messages, object? tools, bool addGenerationPrompt, IReadOnlyDictionary<string, JsonElement>? kwargs, string? templateName)
    {
        var template = Select(templateName, tools is not null)
            ?? throw new ChatTemplateException(IsAvailable
                ? $"the model has no chat template named '{templateName}' (it has: {string.Join(", ", Names)})."
                : "the model has no chat template (tokenizer_config.json has no chat_template and there is no chat_template.jinja); send a prompt instead of messages, or give a template.");
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["tools"] = tools,
            ["documents"] = null,
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        _tokens.AddTo(variables);
        if (kwargs is not null)
        {
            foreach (var (key, value) in kwargs)
                variables[key] = value;
        }
        try
        {
            return template.Render(variables, Limits, Clock);
        }
        catch (TemplateRaisedException e)
        {
            throw new ChatTemplateException($"the chat template refused the conversation: {e.Detail}", e);
        }
        catch (TemplateRuntimeException e)
        {
            throw new ChatTemplateException($"the chat template failed on the conversation: {e.Message}", e);
        }
        catch (ArgumentException e) when (e is not ChatTemplateException)
        {
            throw new ChatTemplateException($"the chat template cannot take these values: {e.Message}");
        }
    }

    private JinjaTemplate? Select(string? name, bool hasTools)
    {
        if (name is not null)
            return _templates.GetValueOrDefault(name);
        if (hasTools && _templates.TryGetValue(ToolUseName, out var toolUse))
            return toolUse;
        return _templates.GetValueOrDefault(DefaultName) ?? _templates.Values.FirstOrDefault();
    }

    public override string ToString() => IsAvailable ? $"ChatTemplate({string.Join(", ", Names)})" : "ChatTemplate(none)";
}
