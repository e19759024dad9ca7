using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>Template text outside tags, already trimmed as the whitespace rules say.</summary>
internal sealed class TextStatement(SourceLocation location, string text) : Statement(location)
{
    public string Text => text;

    public override Flow Execute(RenderContext context)
    {
        context.Write(text);
        return Flow.Normal;
    }
}
