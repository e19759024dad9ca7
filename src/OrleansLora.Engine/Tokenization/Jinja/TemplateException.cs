namespace OrleansLora.Engine.Tokenization.Jinja;

/// <summary>
/// A template that cannot be parsed or rendered. The message names the construct and, where known,
/// the line and column; <see cref="Construct"/> is the tag, filter, test, method or operator at fault.
/// </summary>
public abstract class TemplateException : Exception
{
    private protected TemplateException(string message, string? construct, SourceLocation? location, Exception? inner = null)
        : base(Format(message, location), inner)
    {
        Detail = message;
        Construct = construct;
        Location = location;
    }

    /// <summary>The message without its location.</summary>
    public string Detail { get; }

    public string? Construct { get; }

    public SourceLocation? Location { get; }

    private static string Format(string message, SourceLocation? location) =>
        location is { } at ? $"{message} (template {at})" : message;
}
