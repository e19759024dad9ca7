namespace OrleansLora.Engine.Tokenization;

/// <summary>One recognised prompt format; renders what the Jinja template it stands for would.</summary>
internal abstract class ChatFormat
{
    public abstract ChatTemplateKind Kind { get; }

    /// <summary>Whether the rendered text begins with the BOS token string.</summary>
    public abstract bool IncludesBos { get; }

    public abstract string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);
}
