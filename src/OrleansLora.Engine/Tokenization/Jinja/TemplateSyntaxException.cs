namespace OrleansLora.Engine.Tokenization.Jinja;

/// <summary>The template's text is not Jinja this engine understands: a syntax error or an unsupported tag, filter or test.</summary>
public sealed class TemplateSyntaxException(string message, string? construct, SourceLocation location)
    : TemplateException(message, construct, location);
